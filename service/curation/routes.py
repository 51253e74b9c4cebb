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

from litestar import MediaType, Request, Response, delete, patch, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg
from litestar.serialization import encode_json, get_serializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from service.auth import Curator
from service.curation import idempotency, ops
from service.curation.idempotency import Claim, IdempotencyKeyHeader, Replay, Stored
from service.curation.openapi import IfMatch, route_options
from service.listing.controller import id_parameter
from service.resources.registry import WRITABLE
from service.resources.resource import Resource
from service.web.layer import data_version
from service.web.wire import WireResponse

# A write, given its connection and the curator whose key the request carries.
Operation = Callable[[AsyncConnection, Curator], Awaitable[ops.Written]]


async def _run(request: Request[Any, Any, Any], operation: Operation) -> ops.Written:
    curator = request.state.curator
    return await ops.write_transaction(
        request.app.state.engine, data_version(request.app), lambda conn: operation(conn, curator)
    )


def _respond(resource: Resource, written: ops.Written, status: int) -> Response[Any]:
    headers = {"ETag": written.tag}
    if status == 201:
        headers["Location"] = f"/v1/{resource.name}/{written.record_id}"
    return WireResponse(written.body, status_code=status, headers=headers)


def _answer(stored: Stored, replayed: bool) -> Response[Any]:
    headers = stored.headers | ({idempotency.REPLAYED_HEADER: "true"} if replayed else {})
    return Response(
        stored.body, status_code=stored.status, headers=headers, media_type=MediaType.JSON
    )


async def _post(
    request: Request[Any, Any, Any],
    resource: Resource,
    key: str | None,
    operation: Operation,
    status: int,
) -> Response[Any]:
    """A POST, made safe to retry by its `Idempotency-Key` (service/curation/idempotency.py):
    the first response is stored in the write's transaction and replayed byte for byte."""
    if key is None:
        return _respond(resource, await _run(request, operation), status)
    body = await request.body()
    claim = Claim.of(request.state.curator.key_id, key, request.method, request.url.path, body)
    engine = request.app.state.engine
    if (found := await idempotency.lookup(engine, claim)) is not None:
        return _answer(found, replayed=True)
    serializer = get_serializer(request.route_handler.resolve_type_encoders())
    answers: list[Stored] = []

    async def once(conn: AsyncConnection, curator: Curator) -> ops.Written:
        await idempotency.claim_key(conn, claim)
        written = await operation(conn, curator)
        plain = _respond(resource, written, status)
        answers.append(Stored(status, encode_json(written.body, serializer), plain.headers))
        await idempotency.store(conn, claim, answers[-1])
        return written

    try:
        await _run(request, once)
    except Replay as replay:
        return _answer(replay.stored, replayed=True)
    except IntegrityError:
        # Another request took the key between our look-up and our insert: answer as it did.
        if (found := await idempotency.lookup(engine, claim)) is None:
            raise
        return _answer(found, replayed=True)
    return _answer(answers[-1], replayed=False)


def write_handlers(resource: Resource) -> list[HTTPRouteHandler]:
    assert resource.write is not None
    in_type, patch_type = resource.write.in_type, resource.write.patch_type
    detail, record = resource.detail_type, id_parameter(resource.singular)
    json = RequestEncodingType.JSON

    async def create(
        request: Request[Any, Any, Any],
        data: Annotated[in_type, BodyKwarg(media_type=json)],  # type: ignore[valid-type]
        idempotency_key: IdempotencyKeyHeader,
    ) -> Response[detail]:  # type: ignore[valid-type]
        return await _post(
            request,
            resource,
            idempotency_key,
            lambda conn, curator: ops.create(conn, resource, data, curator),
            201,
        )

    async def update(
        request: Request[Any, Any, Any],
        data: Annotated[patch_type, BodyKwarg(media_type=json)],  # type: ignore[valid-type]
        record_id: record,  # type: ignore[valid-type]
        if_match: IfMatch,
    ) -> Response[detail]:  # type: ignore[valid-type]
        target = ops.Target(resource, record_id, if_match)
        written = await _run(request, lambda conn, curator: ops.patch(conn, target, data, curator))
        return _respond(resource, written, 200)

    async def remove(
        request: Request[Any, Any, Any],
        record_id: record,  # type: ignore[valid-type]
        if_match: IfMatch,
    ) -> Response[None]:
        target = ops.Target(resource, record_id, if_match)
        written = await _run(request, lambda conn, curator: ops.delete(conn, target, curator))
        return Response(None, status_code=204, headers={"ETag": written.tag})

    async def restore(
        request: Request[Any, Any, Any],
        record_id: record,  # type: ignore[valid-type]
        if_match: IfMatch,
        idempotency_key: IdempotencyKeyHeader,
    ) -> Response[detail]:  # type: ignore[valid-type]
        target = ops.Target(resource, record_id, if_match)
        return await _post(
            request,
            resource,
            idempotency_key,
            lambda conn, curator: ops.restore(conn, target, curator),
            200,
        )

    options = route_options(resource)
    item_path = f"/{resource.name}/{{{resource.singular}_id:str}}"
    return [
        post(f"/{resource.name}", **options["create"])(create),
        patch(item_path, **options["update"])(update),
        delete(item_path, **options["delete"])(remove),
        post(f"{item_path}/restore", **options["restore"])(restore),
    ]


WRITE_HANDLERS: list[HTTPRouteHandler] = [h for r in WRITABLE for h in write_handlers(r)]
