"""What a resource is, declared once in its own module (`RESOURCE = Resource(...)`) and listed
once in `service/resources/registry.py`. The app, OpenAPI tags and examples, `/v1/meta`,
search, changes, the write routes and the seed loader iterate the registry instead of naming resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Controller
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.bodies import patch_type
from service.curation.rules import Context, Problems, Wire, unique_name_problems
from service.listing.controller import read_controller
from service.listing.spec import ListSpec


@dataclass(frozen=True, slots=True)
class SearchText:
    """The columns a record is found by in `q=` and `/v1/search`: its title first, then the
    other text (a JSON list column contributes each of its items), then text derived from the
    row (a display name)."""

    title: str
    parts: tuple[str, ...]
    derived: tuple[Callable[[Mapping[str, Any]], str], ...] = ()

    def texts(self, row: Mapping[str, Any]) -> tuple[str, list[str | None]]:
        parts: list[str | None] = []
        for column in self.parts:
            value = row[column]
            parts.extend(value if isinstance(value, list) else [value])
        parts.extend(derive(row) for derive in self.derived)
        return row[self.title], parts


@dataclass(frozen=True, slots=True)
class WriteSpec:
    """How a writable resource is written: its bodies and its rules. The seed loader decodes
    the curated records into the same `in_type` and runs the same rules."""

    in_type: type[msgspec.Struct]
    patch_type: type[msgspec.Struct]
    # The `kind` vocabulary, the fields `null_reasons` may explain, text that may not be empty.
    kinds: tuple[str, ...]
    nullable: tuple[str, ...]
    required_text: tuple[str, ...]
    # A new record's id is the pinyin slug of this field, unless the body gives one.
    slug_field: str
    # API field -> table of the live record it must name (checked for every resource alike).
    references: Mapping[str, str]
    # (table, column) of live records whose reference blocks a delete.
    referrers: tuple[tuple[str, str], ...]
    # The resource's own rules: (record, context, record id) -> problems.
    rules: Callable[[Wire, Context, str], Problems]
    # Columns that are not in the body but follow from it (a metric's document).
    derived: Callable[[Wire, Context], dict[str, Any]] | None = None
    # A new record gets `position` after the last one with the same value of this column.
    position_in: str | None = None
    # The stored record as a patch's base, where a field derived from others must be derived
    # again unless the patch sends it (a metric's `unit_normalised`).
    patch_base: Callable[[Wire], Wire] | None = None


def named_write(
    singular: str,
    in_type: type[msgspec.Struct],
    kinds: tuple[str, ...],
    nullable: tuple[str, ...],
    own_rules: Callable[[Wire, Context, str], Problems] | None = None,
) -> WriteSpec:
    """How a record known by its unique `name` is written (organisations, initiatives): its id
    is the name's pinyin slug unless given, its `parent` is a record of its own kind, and
    metrics and its children refer to it (a delete they block). `own_rules` are the
    resource's, checked after the unique name."""

    def rules(record: Wire, ctx: Context, record_id: str) -> Problems:
        problems = unique_name_problems(singular, record, ctx, record_id)
        return problems + own_rules(record, ctx, record_id) if own_rules else problems

    return WriteSpec(
        in_type=in_type,
        patch_type=patch_type(in_type, in_type.__name__.removesuffix("In") + "Patch"),
        kinds=kinds,
        nullable=nullable,
        required_text=("name",),
        slug_field="name",
        references={"region": "region", "parent": singular},
        referrers=(("metric", f"{singular}_id"), (singular, "parent_id")),
        rules=rules,
    )


Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class SeedSource:
    """Where a read-only resource is curated: each record under `key` in `path` (below seed/)
    is decoded into `record_type` (unknown keys, wrong types and values outside a `Literal`
    vocabulary are errors naming file and record), then `rows` turns it into table rows. The
    loader checks every row alike (service/seed/reader.py): each quote is its article's
    document text at its span, each foreign key and each (resource, record_id) names a record."""

    path: str
    key: str
    record_type: type[msgspec.Struct]
    rows: Callable[[Any], Rows]


@dataclass(frozen=True, slots=True)
class Resource:
    spec: ListSpec[Any]
    detail_type: type[msgspec.Struct]
    # The detail representation (what GET /{id}, writes and the audit trail return).
    load_detail: Callable[[AsyncConnection, str], Awaitable[Any]]
    # One line for its OpenAPI tag and `/v1/meta`; the summary of its detail operation.
    description: str
    detail_summary: str
    # A representative record, the OpenAPI example of the resource.
    example_id: str
    # "List <name>" unless it says otherwise; the list operation's description.
    list_summary: str | None = None
    list_description: str | None = None
    search: SearchText | None = None
    # Curators may create, patch, delete and restore its records (service/curation/).
    write: WriteSpec | None = None
    # Read-only resources: the curated files the seed loader reads them from.
    seed: tuple[SeedSource, ...] = ()
    # Its list and detail endpoints, made from the fields above.
    controller: type[Controller] = field(init=False)

    def __post_init__(self) -> None:
        controller = read_controller(
            self.spec,
            self.detail_type,
            self.load_detail,
            tag=self.tag,
            singular=self.singular,
            list_summary=self.list_summary or f"List {self.name}",
            detail_summary=self.detail_summary,
            description=self.description,
            list_description=self.list_description,
        )
        object.__setattr__(self, "controller", controller)

    @property
    def name(self) -> str:
        """URL segment, search `type` and `resource` in changes: "metrics"."""
        return self.spec.resource

    @property
    def singular(self) -> str:
        """Its table's name: "metric" (also `<singular>_id`, the id path parameter)."""
        return self.spec.table.name

    @property
    def tag(self) -> str:
        """Its OpenAPI tag: "Metrics"."""
        return self.name.capitalize()

    @property
    def writable(self) -> bool:
        return self.write is not None
