"""Search across resources: `/v1/search?q=` with the type, title and a highlighted snippet."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get
from litestar.openapi.spec import OpenAPIType, Operation, Parameter, Schema

from service.db import Db
from service.fulltext import (
    MAX_QUERY_WORDS,
    entries,
    highlight,
    match_clause,
    search_param,
)
from service.listing.columns import column_type
from service.listing.cursor import decode_cursor, query_binding
from service.listing.envelope import PageInfo, PageLinks, Total, page_url
from service.listing.handlers import cursor_secret
from service.listing.openapi import search_parameter
from service.listing.params import name_list, parse_count, parse_limit, reject_unknown, single_param
from service.listing.spec import MAX_IN_VALUES
from service.listing.sql import neighbour_cursors, scan_keyset
from service.resources.common import Span
from service.resources.registry import SEARCHABLE as SEARCHABLE_RESOURCES
from service.web.errors import COMMON_ERRORS, invalid

SEARCH_TYPES = tuple(r.name for r in SEARCHABLE_RESOURCES)
# A Literal built from the registry, so OpenAPI lists exactly the searchable resources.
SearchType = Literal[SEARCH_TYPES]  # type: ignore[valid-type]
PARAMS = frozenset({"q", "type", "limit", "cursor", "count"})
# Results are ordered by (type, id) so both databases page through them identically.
KEYS = ((entries.c.resource, False), (entries.c.record_id, False))


class SearchHit(msgspec.Struct):
    """A record matching the query: fetch it at `/v1/{type}/{id}`."""

    type: SearchType
    id: str
    title: str
    snippet: str
    highlights: list[Span]


class SearchPage(msgspec.Struct):
    """A page of search hits."""

    data: list[SearchHit]
    page: PageInfo
    links: PageLinks
    total: Total


def _parameters() -> list[Parameter]:
    return [
        search_parameter(
            "Full-text query in Chinese (and Latin words/numbers); every "
            f"space-separated word must occur (at most {MAX_QUERY_WORDS} words). 2-character "
            "words like 工坊 are found.",
            "共富工坊",
            required=True,
        ),
        Parameter(
            name="type",
            param_in="query",
            required=False,
            description="Only these resource types (comma-separated).",
            schema=Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(type=OpenAPIType.STRING, enum=list(SEARCH_TYPES)),
                min_items=1,
                max_items=MAX_IN_VALUES,
            ),
            style="form",
            explode=False,
        ),
        Parameter(
            name="limit",
            param_in="query",
            required=False,
            description="Page size, 1 to 100 (default 20).",
            schema=Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=100, default=20),
        ),
        Parameter(
            name="cursor",
            param_in="query",
            required=False,
            description="Opaque cursor from `page.next_cursor`/`prev_cursor`, bound to the query.",
            schema=Schema(type=OpenAPIType.STRING, max_length=2048),
        ),
        Parameter(
            name="count",
            param_in="query",
            required=False,
            description="`exact` (default) or `none`.",
            schema=Schema(type=OpenAPIType.STRING, enum=["exact", "none"], default="exact"),
        ),
    ]


def _operation_class() -> type[Operation]:
    import dataclasses

    def __post_init__(self: Operation) -> None:
        self.parameters = [*(self.parameters or []), *_parameters()]

    return dataclasses.dataclass(
        type("SearchOperation", (Operation,), {"__post_init__": __post_init__})
    )


class SearchController(Controller):
    path = "/search"
    tags = ["Search"]

    @get(
        "/",
        operation_id="search",
        summary="Search articles, initiatives, metrics and organisations",
        description="Chinese full-text search across resources, with a snippet around the first "
        "match and the match offsets inside it. Same results on SQLite and PostgreSQL.",
        operation_class=_operation_class(),
        responses=COMMON_ERRORS,
    )
    async def search(self, request: Request[Any, Any, Any], db: Db) -> Response[SearchPage]:
        reject_unknown(request.query_params, PARAMS)
        text = single_param(request.query_params, "q")
        if text is None:
            raise invalid("q", "required", "required")
        query = search_param(text)
        types = name_list(request.query_params, "type")
        if any(t not in SEARCH_TYPES for t in types):
            raise invalid("type", "expected any of: " + ", ".join(SEARCH_TYPES), "not_allowed")
        limit = parse_limit(request.query_params)
        count = parse_count(request.query_params)

        secret = cursor_secret(request)
        binding = query_binding(
            secret, "/v1/search", [list(query.phrases), sorted(set(types))], ["type", "id"]
        )
        raw_cursor = single_param(request.query_params, "cursor")
        cursor = (
            decode_cursor(raw_cursor, secret, binding, [column_type(c) for c, _ in KEYS])
            if raw_cursor
            else None
        )

        where = [match_clause(query, db.dialect.name)]
        if types:
            where.append(entries.c.resource.in_(types))
        stmt = sa.select(entries.c.resource, entries.c.record_id, entries.c.title, entries.c.text)
        rows, more = await scan_keyset(
            db, stmt.where(*where), KEYS, cursor, cursor.values if cursor else None, limit
        )
        next_cursor, prev_cursor = neighbour_cursors(
            rows, more, cursor, lambda r: [r["resource"], r["record_id"]], binding, secret
        )

        hits = []
        for row in rows:
            snippet, spans = highlight(row["text"], query)
            hits.append(
                SearchHit(
                    type=row["resource"],
                    id=row["record_id"],
                    title=row["title"],
                    snippet=snippet,
                    highlights=[Span(s, e) for s, e in spans],
                )
            )
        total: int | None = None
        if count:
            total_stmt = sa.select(sa.func.count()).select_from(entries).where(*where)
            total = int((await db.execute(total_stmt)).scalar_one())
        next_url = page_url(request, next_cursor) if next_cursor else None
        prev_url = page_url(request, prev_cursor) if prev_cursor else None
        link = [f'<{u}>; rel="{r}"' for r, u in (("next", next_url), ("prev", prev_url)) if u]
        body = SearchPage(
            data=hits,
            page=PageInfo(limit, next_cursor, prev_cursor),
            links=PageLinks(page_url(request, raw_cursor), next_url, prev_url),
            total=Total(total, "exact" if count else "none"),
        )
        return Response(body, headers={"Link": ", ".join(link)} if link else {})
