"""What a resource is, declared once in its own module (`RESOURCE = Resource(...)`) and listed
once in `service/resources/registry.py`. The app, OpenAPI tags and examples, `/v1/meta`,
search, changes, writes and the seed loader iterate the registry instead of naming resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.spec import ListSpec


@dataclass(frozen=True, slots=True)
class SearchText:
    """The columns a record is found by in `q=` and `/v1/search`: its title first, then the
    other text (a JSON list column contributes each of its items)."""

    title: str
    parts: tuple[str, ...]

    def texts(self, row: Mapping[str, Any]) -> tuple[str, list[str | None]]:
        parts: list[str | None] = []
        for column in self.parts:
            value = row[column]
            parts.extend(value if isinstance(value, list) else [value])
        return row[self.title], parts


@dataclass(frozen=True, slots=True)
class Resource:
    # URL segment, search `type` and `resource` in changes: "metrics".
    name: str
    # Its table's name: "metric".
    singular: str
    # OpenAPI tag name and its one-line description (also `/v1/meta`).
    tag: str
    description: str
    spec: ListSpec[Any]
    detail_type: type[msgspec.Struct]
    # The detail representation (what GET /{id}, writes and the audit trail return).
    load_detail: Callable[[AsyncConnection, str], Awaitable[Any]]
    controller: type[Controller]
    # A representative record, the OpenAPI example of the resource.
    example_id: str
    search: SearchText | None = None
    # Curators may create, patch, delete and restore its records (service/writes.py).
    writable: bool = False
