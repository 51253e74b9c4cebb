"""Search across resources: `/v1/search?q=` with the type, title and a highlighted snippet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get
from litestar.openapi.spec import Example, OpenAPIType, Parameter, Schema
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from service.db import Db
from service.fulltext import (
    MAX_QUERY_WORDS,
    SearchQuery,
    entries,
    highlight,
    match_clause,
    search_param,
)
from service.listing.columns import ColumnType, column_type
from service.listing.counts import SharedResults
from service.listing.cursor import decode_cursor, query_binding
from service.listing.envelope import PageInfo, PageLinks, Total, page_url
from service.listing.handlers import cursor_secret
from service.listing.openapi import (
    SEARCH_TOLERANCE,
    list_parameter,
    operation_with,
    page_parameters,
    query_parameter,
    search_parameter,
)
from service.listing.params import name_list, parse_count, parse_limit, reject_unknown, single_param
from service.listing.sql import neighbour_cursors, scan_keyset
from service.ranking import SCALE, Memo, ranked_candidates, weights
from service.resources.common import Span, doc
from service.resources.registry import SEARCHABLE as SEARCHABLE_RESOURCES
from service.web.errors import COMMON_ERRORS, invalid
from service.web.layer import data_version
from service.web.wire import WireResponse

SEARCH_TYPES = tuple(r.name for r in SEARCHABLE_RESOURCES)
# A Literal built from the registry, so OpenAPI lists exactly the searchable resources.
SearchType = Literal[SEARCH_TYPES]  # type: ignore[valid-type]
PARAMS = frozenset({"q", "type", "sort", "limit", "cursor", "count"})
# Sort keys besides the relevance `score`; the hit's (type, id) always breaks ties, so both
# databases page through the same order.
SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "type": entries.c.resource,
    "title": entries.c.title,
}
# Hits are read from ranking's candidates CTE, whose columns keep the entries' names.
CANDIDATE_COLUMNS = {"type": "resource", "title": "title"}
SORT_NAMES = ("score", *SORT_COLUMNS)
DEFAULT_SORT = "-score"
MAX_SEARCH_SORT_KEYS = len(SORT_NAMES)
SORT_PATTERN = (
    rf"^-?({'|'.join(SORT_NAMES)})(,-?({'|'.join(SORT_NAMES)})){{0,{len(SORT_NAMES) - 1}}}$"
)
# A score is a non-negative integer in millionths (service/ranking.py).
SCORE_TYPE = ColumnType("int", nullable=False, limit=2**63 - 1)


class SearchHit(msgspec.Struct):
    """A record matching the query: fetch it at `/v1/{type}/{id}`."""

    type: SearchType
    id: str
    title: str
    snippet: str
    highlights: list[Span]
    score: Annotated[
        float,
        doc(
            "Relevance to the query (BM25 over the service's own tokens, six decimals; "
            "higher is better): hits are ordered by it unless `sort` says otherwise."
        ),
    ]


class SearchPage(msgspec.Struct):
    """A page of search hits."""

    data: list[SearchHit]
    page: PageInfo
    links: PageLinks
    total: Total


def parse_search_sort(raw: str | None) -> list[tuple[str, bool]]:
    """`sort=` as (name, descending) pairs; `-score` (best first) when absent."""
    keys: list[tuple[str, bool]] = []
    parts = (raw if raw is not None else DEFAULT_SORT).split(",")
    if len(parts) > MAX_SEARCH_SORT_KEYS:
        raise invalid("sort", f"at most {MAX_SEARCH_SORT_KEYS} sort keys", "too_many")
    for part in parts:
        name = part.strip().removeprefix("-")
        if name not in SORT_NAMES:
            allowed = ", ".join(SORT_NAMES)
            raise invalid("sort", f"unknown sort key {name!r}; allowed: {allowed}", "not_allowed")
        if name not in {k for k, _ in keys}:
            keys.append((name, part.strip().startswith("-")))
    return keys


def order_keys(
    sort: list[tuple[str, bool]], candidates: CTE, score: ColumnElement[Any]
) -> list[tuple[ColumnElement[Any], bool]]:
    """The sort's columns, then the hit's type and id ascending as tie-breakers."""
    columns = candidates.c
    keys = [
        (score if name == "score" else columns[CANDIDATE_COLUMNS[name]], desc)
        for name, desc in sort
    ]
    if "type" not in {name for name, _ in sort}:
        keys.append((columns.resource, False))
    keys.append((columns.record_id, False))
    return keys


def key_types(sort: list[tuple[str, bool]]) -> list[ColumnType]:
    kinds = [SCORE_TYPE if n == "score" else column_type(SORT_COLUMNS[n]) for n, _ in sort]
    if "type" not in {name for name, _ in sort}:
        kinds.append(column_type(entries.c.resource))
    return [*kinds, column_type(entries.c.record_id)]


def _parameters() -> list[Parameter]:
    return [
        search_parameter(
            "Full-text query in Chinese (and Latin words/numbers); every "
            f"space-separated word must occur (at most {MAX_QUERY_WORDS} words). 2-character "
            f"words like 工坊 are found. {SEARCH_TOLERANCE}",
            "共富工坊",
            required=True,
        ),
        query_parameter(
            "sort",
            "Order of the hits: comma-separated keys, `-` for descending. Default `-score` (most "
            "relevant first); `type` or `title` instead. The hit's type and id always break ties.",
            Schema(type=OpenAPIType.STRING, pattern=SORT_PATTERN, default=DEFAULT_SORT),
            examples={"default": Example(value=DEFAULT_SORT), "by type": Example(value="type")},
        ),
        list_parameter(
            "type",
            "Only these resource types (comma-separated).",
            Schema(type=OpenAPIType.STRING, enum=list(SEARCH_TYPES)),
        ),
        *page_parameters(
            "Opaque cursor from `page.next_cursor`/`prev_cursor`, bound to the query."
        ),
    ]


class SearchController(Controller):
    path = "/search"
    tags = ["Search"]

    @get(
        "/",
        operation_id="search",
        summary="Search articles, initiatives, metrics and organisations",
        description="Chinese full-text search across resources, with a snippet around the first "
        "match and the match offsets inside it. Hits are ranked by relevance (`score`: BM25 "
        "over the service's own tokens, the title counting twice), best first, the hit's type "
        "and id breaking ties; `sort=type` or `sort=title` orders them otherwise. Same hits, "
        "scores and order on SQLite and PostgreSQL.",
        operation_class=operation_with("SearchOperation", _parameters),
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
        sort = parse_search_sort(single_param(request.query_params, "sort"))
        limit = parse_limit(request.query_params)
        count = parse_count(request.query_params)

        secret = cursor_secret(request)
        binding = query_binding(
            secret,
            "/v1/search",
            [query.canonical, sorted(set(types))],
            [("-" if desc else "") + name for name, desc in sort],
        )
        raw_cursor = single_param(request.query_params, "cursor")
        cursor = decode_cursor(raw_cursor, secret, binding, key_types(sort)) if raw_cursor else None

        memo = await _memo(request)
        where = [match_clause(query, db.dialect.name)]
        if types:
            where.append(entries.c.resource.in_(types))
        candidates, score = ranked_candidates(await weights(db, query, memo), where)
        keys = order_keys(sort, candidates, score)
        stmt = sa.select(
            candidates.c.id,
            candidates.c.resource,
            candidates.c.record_id,
            candidates.c.title,
            *(column.label(f"_k{i}") for i, (column, _) in enumerate(keys)),
            score.label("score"),
        )
        rows, more = await scan_keyset(
            db, stmt, keys, cursor, cursor.values if cursor else None, limit
        )
        next_cursor, prev_cursor = neighbour_cursors(
            rows, more, cursor, lambda r: [r[f"_k{i}"] for i in range(len(keys))], binding, secret
        )
        # The texts of this page only: ranked rows are sorted, and a sorter carrying every
        # candidate's text (whole articles) cost more than the ranking itself.
        texts = await _texts(db, [row["id"] for row in rows])
        total: int | None = None
        if count:
            total_stmt = sa.select(sa.func.count()).select_from(entries).where(*where)
            total = int((await db.execute(total_stmt)).scalar_one())
        next_url = page_url(request, next_cursor) if next_cursor else None
        prev_url = page_url(request, prev_cursor) if prev_cursor else None
        link = [f'<{u}>; rel="{r}"' for r, u in (("next", next_url), ("prev", prev_url)) if u]
        body = SearchPage(
            data=[_hit(row, texts[row["id"]], query) for row in rows],
            page=PageInfo(limit, next_cursor, prev_cursor),
            links=PageLinks(page_url(request, raw_cursor), next_url, prev_url),
            total=Total(total, "exact" if count else "none"),
        )
        return WireResponse(body, headers={"Link": ", ".join(link)} if link else {})


async def _texts(db: Db, ids: list[int]) -> dict[int, str]:
    stmt = sa.select(entries.c.id, entries.c.text).where(entries.c.id.in_(ids))
    return {row.id: row.text for row in await db.execute(stmt)} if ids else {}


def _hit(row: Any, text: str, query: SearchQuery) -> SearchHit:
    snippet, spans = highlight(text, query)
    return SearchHit(
        type=row["resource"],
        id=row["record_id"],
        title=row["title"],
        snippet=snippet,
        highlights=[Span(s, e) for s, e in spans],
        score=int(row["score"]) / SCALE,
    )


async def _memo(request: Request[Any, Any, Any]) -> Memo:
    """Ranking's corpus statistics, shared by every request until the dataset version moves."""
    state = request.app.state
    if "search_statistics" not in state:
        state["search_statistics"] = SharedResults()
    shared: SharedResults[Any] = state["search_statistics"]
    version = await data_version(request.app).current()

    async def memo(key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        return await shared.get((version, key), compute)

    return memo
