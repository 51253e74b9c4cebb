"""The glue between a `Request` and the listing parts: the list and detail responses, and the
ETag of a writable record's representation."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Request, Response
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.counts import SharedResults
from service.listing.envelope import Total, build_page
from service.listing.export import export_lines
from service.listing.facets import FacetCounts
from service.listing.params import (
    ListQuery,
    canonical_conditions,
    parse_list_query,
    parse_shape,
    reject_unknown,
)
from service.listing.shaping import shape_items
from service.listing.spec import DETAIL_PARAMS, EXPORT_MEDIA_TYPES, ListSpec
from service.listing.sql import count_rows, estimate_rows, fetch_page, read_revision
from service.web.layer import data_version
from service.web.wire import WireResponse


def cursor_secret(request: Request[Any, Any, Any]) -> bytes:
    secret: bytes = request.app.state.cursor_secret
    return secret


async def list_response(
    request: Request[Any, Any, Any], conn: AsyncConnection, spec: ListSpec[Any]
) -> Response[Any]:
    """Parse the query, then either stream an export or return one page with its links."""
    secret = cursor_secret(request)
    query = parse_list_query(request.query_params, request.headers.get("accept"), spec, secret)
    if query.export is not None:
        filename = f"{spec.resource}.{query.export}"
        return Stream(
            export_lines(request, spec, query, secret),
            media_type=EXPORT_MEDIA_TYPES[query.export],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    result = await fetch_page(conn, spec, query, secret)
    items = await shape_items(conn, spec, result.items, query.shape)
    shared = await _shared_results(request, spec, query)
    result = dataclasses.replace(result, total=await _total(conn, spec, query, shared))
    facets = None
    if query.facets:
        facets = await FacetCounts(shared.results, shared.version).facets(conn, spec, query)
    page, headers = build_page(request, spec, query, result, items, facets)
    return WireResponse(page, headers=headers)


async def _total(
    conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery, shared: _QueryResults
) -> Total:
    if query.count == "none":
        return Total(None, "none")
    exact = shared.peek("exact")
    if query.count == "exact" or exact is not None:
        value = await shared.get("exact", lambda: count_rows(conn, spec, query))
        return Total(value, "exact")
    total: Total = await shared.get("estimated", lambda: estimate_rows(conn, spec, query))
    return total


class _QueryResults:
    """The app's shared counts and facets (service/listing/counts.py), keyed for one query."""

    def __init__(self, results: SharedResults[Any], version: Any, key: tuple[Any, ...]) -> None:
        self.results, self.version, self.key = results, version, key

    async def get(self, what: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        return await self.results.get((*self.key, what), compute)

    def peek(self, what: Any) -> Any:
        return self.results.peek((*self.key, what))


async def _shared_results(
    request: Request[Any, Any, Any], spec: ListSpec[Any], query: ListQuery
) -> _QueryResults:
    state = request.app.state
    if "listing_results" not in state:
        state["listing_results"] = SharedResults()
    version = await data_version(request.app).current()
    selection = msgspec.json.encode(
        [canonical_conditions(query.conditions), query.search.canonical if query.search else None]
    )
    return _QueryResults(state["listing_results"], version, (version, spec.resource, selection))


async def detail_response(
    request: Request[Any, Any, Any], conn: AsyncConnection, spec: ListSpec[Any], item: Any
) -> Response[Any]:
    """A detail body, with `fields` and `expand` applied when asked for."""
    reject_unknown(request.query_params, DETAIL_PARAMS)
    shape = parse_shape(request.query_params, spec, type(item).__struct_fields__)
    if shape.plain:
        etag = await record_etag(conn, spec, item)
        return WireResponse(item, headers={"ETag": etag} if etag else None)
    return WireResponse((await shape_items(conn, spec, [item], shape))[0])


def make_etag(resource: str, record_id: str, revision: int, body: Any = None) -> str:
    """Strong validator of a writable record's plain representation (what `If-Match` on writes
    compares against): its revision and a hash of the body, so the tag moves whenever anything
    the body embeds moves too (an article names organisations: renaming one changes the
    article's tag). Without a body (a deleted record) it is the revision alone."""
    if body is None:
        return f'"{resource}:{record_id}:r{revision}"'
    encoded = msgspec.json.encode(body, order="deterministic")
    digest = hashlib.blake2b(encoded, digest_size=8).hexdigest()
    return f'"{resource}:{record_id}:r{revision}-{digest}"'


async def record_etag(conn: AsyncConnection, spec: ListSpec[Any], item: Any) -> str | None:
    """The ETag of a record whose table has a `revision` column, from its revision and its
    detail body `item` (None for read-only resources: the HTTP layer then hashes the body)."""
    if "revision" not in spec.table.c:
        return None
    revision = read_revision(spec, item.id)  # read with the record: no second query
    if revision is None:
        stmt = sa.select(spec.table.c.revision).where(spec.id_column == item.id)
        revision = await conn.scalar(stmt)
    return make_etag(spec.resource, item.id, int(revision), item) if revision is not None else None
