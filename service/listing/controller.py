"""The read endpoints of a resource (list and detail), and its page type, made from its
declaration, so every resource gets the same contract from one piece of code.

No `from __future__ import annotations` here: the handlers' annotations must be the resource's
real types (its page and detail Structs), which Litestar reads to document the responses.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import Db
from service.listing.envelope import Facets, PageInfo, PageLinks, Total
from service.listing.handlers import detail_response, list_response
from service.listing.openapi import detail_operation_class, operation_class
from service.listing.spec import ListSpec
from service.web.errors import COMMON_ERRORS, DETAIL_ERRORS

# Record ids are readable slugs; a path that cannot be one is a 400, not a lookup.
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ID_MAX_LENGTH = 120
ID_DESCRIPTION = "Readable slug id (pinyin), e.g. `gong-fu-gong-fang`."


def page_struct(name: str, item: type[msgspec.Struct], doc: str) -> type[msgspec.Struct]:
    """The list envelope of one resource: `data` (its items), `page`, `links`, `total`,
    `facets` (only when asked for)."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        ("data", list[item]),  # type: ignore[valid-type]
        ("page", PageInfo),
        ("links", PageLinks),
        ("total", Total),
        ("facets", Facets | None, None),
    ]
    module = item.__module__
    return msgspec.defstruct(
        name, fields, omit_defaults=True, module=module, namespace={"__doc__": doc}
    )


def id_parameter(singular: str) -> Any:
    """The record id path parameter, named `<singular>_id` on every route of the resource (the
    handler's own argument is aliased to it, so no signature is rewritten)."""
    return Annotated[
        str,
        PathParameter(
            name=f"{singular}_id",
            description=ID_DESCRIPTION,
            min_length=1,
            max_length=ID_MAX_LENGTH,
            pattern=ID_PATTERN,
        ),
    ]


def read_controller(
    spec: ListSpec[Any],
    detail_type: type[msgspec.Struct],
    load_detail: Callable[[AsyncConnection, str], Awaitable[Any]],
    *,
    tag: str,
    singular: str,
    list_summary: str,
    detail_summary: str,
    description: str,
    list_description: str | None = None,
) -> type[Controller]:
    """`GET /v1/<resource>` (a page of `spec.page_type`) and `GET /v1/<resource>/{<singular>_id}`
    (a `detail_type`), with operation ids `list<Tag>` and `get<Singular>`."""
    page_type = spec.page_type
    record = id_parameter(singular)
    title = singular[:1].upper() + singular[1:]
    expand = " `expand=` embeds the records it refers to." if spec.relations else ""
    list_text = list_description or (
        f"{description} Filter, sort and page with the parameters below (`/v1/meta` lists "
        "them with their operators); `format=csv` or `ndjson` exports every match."
    )
    detail_text = (
        f"One {singular} by id, with what its list leaves out. `fields=` keeps only the fields "
        f"named.{expand} The `ETag` revalidates (`If-None-Match` → 304)."
    )

    async def list_items(
        self: Controller, request: Request[Any, Any, Any], db: Db
    ) -> Response[page_type]:  # type: ignore[valid-type]
        return await list_response(request, db, spec)

    async def get_item(
        self: Controller,
        request: Request[Any, Any, Any],
        db: Db,
        record_id: record,  # type: ignore[valid-type]
    ) -> Response[detail_type]:  # type: ignore[valid-type]
        item = await load_detail(db, record_id)
        if item is None:
            raise NotFoundException(f"No {singular} with id {record_id!r}")
        return await detail_response(request, db, spec, item)

    list_handler = get(
        "/",
        operation_id=f"list{tag}",
        summary=list_summary,
        description=list_text,
        operation_class=operation_class(spec),
        responses=COMMON_ERRORS,
    )(list_items)
    detail_handler = get(
        f"/{{{singular}_id:str}}",
        operation_id=f"get{title}",
        summary=detail_summary,
        description=detail_text,
        responses=DETAIL_ERRORS,
        raises=[NotFoundException],
        operation_class=detail_operation_class(spec, detail_type),
    )(get_item)
    attributes = {"path": f"/{spec.resource}", "tags": [tag]}
    handlers = {f"list_{spec.resource}": list_handler, f"get_{singular}": detail_handler}
    return type(f"{title}Controller", (Controller,), {**attributes, **handlers})
