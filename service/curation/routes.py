"""The write routes: POST /{resource}, PATCH and DELETE /{resource}/{id}, POST …/restore, made
for every writable resource of the registry. Each handler only turns the request into the
explicit arguments of an operation (service/curation/ops.py) and its outcome into a response.

No `from __future__ import annotations` here, on purpose: the handlers are defined inside
`write_handlers`, so annotations such as `data: Annotated[in_type, …]` are evaluated when the  # type: ignore[valid-type]
function is made and Litestar reads the resource's own types from them. The id path parameter
keeps each resource's name (`metric_id`, as on its GET route and in the OpenAPI links): the
handler's argument is `record_id`, aliased with `PathParameter(name=...)`, so no signature is
rewritten.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Request, Response, delete, patch, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation import ops
from service.curation.openapi import IfMatch, route_options
from service.listing.controller import id_parameter
from service.resources.registry import WRITABLE
from service.resources.resource import Resource
from service.web.layer import data_version
from service.web.wire import WireResponse

Operation = Callable[[AsyncConnection], Awaitable[ops.Written]]


async def _run(request: Request[Any, Any, Any], operation: Operation) -> ops.Written:
    return await ops.write_transaction(
        request.app.state.engine, data_version(request.app), operation
    )


def _respond(resource: Resource, written: ops.Written, status: int) -> Response[Any]:
    headers = {"ETag": written.tag}
    if status == 201:
        headers["Location"] = f"/v1/{resource.name}/{written.record_id}"
    return WireResponse(written.body, status_code=status, headers=headers)


def write_handlers(resource: Resource) -> list[HTTPRouteHandler]:
    assert resource.write is not None
    in_type, patch_type = resource.write.in_type, resource.write.patch_type
    detail, record = resource.detail_type, id_parameter(resource.singular)
    json = RequestEncodingType.JSON

    async def create(
        request: Request[Any, Any, Any],
        data: Annotated[in_type, BodyKwarg(media_type=json)],  # type: ignore[valid-type]
    ) -> Response[detail]:  # type: ignore[valid-type]
        curator = request.state.curator
        written = await _run(request, lambda conn: ops.create(conn, resource, data, curator))
        return _respond(resource, written, 201)

    async def update(
        request: Request[Any, Any, Any],
        data: Annotated[patch_type, BodyKwarg(media_type=json)],  # type: ignore[valid-type]
        record_id: record,  # type: ignore[valid-type]
        if_match: IfMatch,
    ) -> Response[detail]:  # type: ignore[valid-type]
        curator = request.state.curator
        written = await _run(
            request,
            lambda conn: ops.patch(conn, resource, record_id, data, curator, if_match),
        )
        return _respond(resource, written, 200)

    async def remove(
        request: Request[Any, Any, Any],
        record_id: record,  # type: ignore[valid-type]
        if_match: IfMatch,
    ) -> Response[None]:
        curator = request.state.curator
        written = await _run(
            request, lambda conn: ops.delete(conn, resource, record_id, curator, if_match)
        )
        return Response(None, status_code=204, headers={"ETag": written.tag})

    async def restore(
        request: Request[Any, Any, Any],
        record_id: record,  # type: ignore[valid-type]
        if_match: IfMatch,
    ) -> Response[detail]:  # type: ignore[valid-type]
        curator = request.state.curator
        written = await _run(
            request, lambda conn: ops.restore(conn, resource, record_id, curator, if_match)
        )
        return _respond(resource, written, 200)

    options = route_options(resource)
    item_path = f"/{resource.name}/{{{resource.singular}_id:str}}"
    return [
        post(f"/{resource.name}", **options["create"])(create),
        patch(item_path, **options["update"])(update),
        delete(item_path, **options["delete"])(remove),
        post(f"{item_path}/restore", **options["restore"])(restore),
    ]


WRITE_HANDLERS: list[HTTPRouteHandler] = [h for r in WRITABLE for h in write_handlers(r)]
