"""Curator write API: create, merge-patch, soft delete and restore for articles, initiatives,
metrics and organisations, behind bearer API keys (service/auth.py).

Rules, the same for every resource:
- Bodies are JSON (`application/json`; `application/merge-patch+json` too on PATCH), else a 415.
  They are decoded strictly into their types (service/write_bodies.py): wrong JSON types, unknown
  fields, over-long strings or lists, malformed or too deeply nested JSON are a 400.
- Every write is validated with the seed loader's rules (service/seed.py): text holds no control
  character (NUL included: PostgreSQL cannot store it, so neither database accepts it) and is
  never blank; quote exactly at its span in the document text, `value`/`unit`/`qualifier` equal
  to `parse_quantity(raw)`, `raw` inside the quote, references to existing, not-deleted records,
  unique names. Rule violations are a 422 naming each field in `invalid_params`.
- Ids: the client may send `id` (a slug, never used before, deleted records included: 409
  otherwise); without one it is the pinyin slug of the name (subject for metrics, headline for
  articles), at most 8 syllables, with `-2`, `-3` … appended on collision.
- PATCH, DELETE and restore need `If-Match` (RFC 9110 §13.1.1): the record's current `ETag` as a
  GET of its detail returns it (revision plus a hash of the body, so it also moves when an
  embedded record such as an article's organisation is renamed), or `*`, which matches any
  existing record. In this order: a missing (or, for PATCH and DELETE, deleted) record is a
  404; then a write without `If-Match` is a 428; then, as RFC 9110 §13.2.1 requires, a state
  conflict (409) comes before the condition is evaluated; then 412 when no tag matches. Every write transaction starts by bumping the dataset version, which serialises writers
  on both SQLite and PostgreSQL, so the tag is compared with the state the write applies to;
  the UPDATE also checks the revision (`WHERE revision = :expected`).
- A merge patch that changes nothing (`{}`, or the current values) writes nothing: the same
  revision and tag, no audit row, no dataset version bump (its transaction is rolled back).
- One transaction per write: the row, its search entry, the audit row (`change`) and the
  dataset-version bump; the HTTP layer's caches are invalidated after the commit.
- Soft delete sets `deleted_at`: the record is then a 404 and absent from lists, search,
  expansion and relation lists, until restored. A record that live records still reference
  (a metric's article, organisation, initiative or `growth_of`; an organisation's or
  initiative's `parent`) cannot be deleted: 409 naming the referrers; re-point or delete them
  first. Mentions in articles and initiatives' organisation roles come from the curated files
  and do not block a delete: they are hidden while the record is deleted.
- Records written here are `curator_edited`, so the seed loader leaves them alone (see
  `service.seed.sync`).
- Relation lists (article contributors and mentions, initiative organisations) come from the
  curated files and are not writable here.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, delete, patch, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Link, OpenAPIResponse, Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import BodyKwarg, HeaderParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from service.auth import SECURITY, Curator, editor_guard
from service.listing.handlers import make_etag
from service.listing.spec import ListSpec
from service.models import (
    Article,
    Change,
    Document,
    Initiative,
    Metric,
    Organisation,
    Region,
    SearchEntry,
    table_of,
)
from service.resources import articles, initiatives, metrics, organisations
from service.resources.common import ResourceId
from service.seed import (
    quantity_problems,
    search_entries,
    slugify,
    span_problem,
    squash,
)
from service.seed import text_problems as seed_text_problems
from service.web.errors import COMMON_ERRORS, BadRequest, InvalidParam, problem_spec
from service.web.layer import data_version
from service.write_bodies import (
    ArticleIn,
    ArticlePatch,
    InitiativeIn,
    InitiativePatch,
    MetricIn,
    MetricPatch,
    OrganisationIn,
    OrganisationPatch,
    json_body_guard,
    strict_body,
    wire_dict,
)

MAX_SLUG_SYLLABLES = 8


class Unprocessable(BadRequest):
    """422: the body is well-formed but breaks a data rule; `invalid_params` names each field."""

    status_code = 422


def _problem(name: str, reason: str) -> InvalidParam:
    return InvalidParam(name, reason, "body")


# ---------------------------------------------------------------- per-resource rules

Wire = dict[str, Any]
Columns = dict[str, Any]
Problems = list[InvalidParam]


async def _live(conn: AsyncConnection, table: sa.Table, record_id: str) -> Mapping[Any, Any] | None:
    stmt = sa.select(table).where(table.c.id == record_id)
    if "deleted_at" in table.c:
        stmt = stmt.where(table.c.deleted_at.is_(None))
    return (await conn.execute(stmt)).mappings().first()


async def _refs(conn: AsyncConnection, wire: Wire, refs: Mapping[str, sa.Table]) -> Problems:
    problems: Problems = []
    for name, table in refs.items():
        value = wire.get(name)
        if value is not None and await _live(conn, table, value) is None:
            problems.append(_problem(name, f"no {table.name} {value!r} (or it is deleted)"))
    return problems


def _common(wire: Wire, kinds: tuple[str, ...], nullable: tuple[str, ...]) -> Problems:
    problems: Problems = []
    if wire["kind"] not in kinds:
        problems.append(_problem("kind", "expected one of: " + ", ".join(kinds)))
    for name in wire.get("null_reasons", {}):
        if name not in nullable:
            problems.append(_problem("null_reasons", f"{name!r} is not a nullable field"))
        elif wire.get(name) is not None:
            problems.append(_problem("null_reasons", f"reason for {name!r} given but it is set"))
    return problems


def _named(table: sa.Table) -> Callable[[AsyncConnection, Wire, str], Awaitable[Problems]]:
    async def check(conn: AsyncConnection, wire: Wire, record_id: str) -> Problems:
        clash = await conn.scalar(
            sa.select(table.c.id).where(table.c.name == wire["name"], table.c.id != record_id)
        )
        if clash is not None:
            return [_problem("name", f"the name is already used by {clash!r}")]
        problems: Problems = []
        if wire.get("parent") == record_id:
            problems.append(_problem("parent", "a record cannot be its own parent"))
        return problems

    return check


async def organisation_columns(
    conn: AsyncConnection, wire: Wire, record_id: str
) -> tuple[Columns, Problems]:
    problems = _common(wire, organisations.ORGANISATION_KINDS, ("name_en", "region", "parent"))
    problems += await _refs(conn, wire, {"region": _region, "parent": _organisation})
    problems += await _named(_organisation)(conn, wire, record_id)
    columns = {
        "name": wire["name"],
        "name_en": wire["name_en"],
        "kind": wire["kind"],
        "region_id": wire["region"],
        "parent_id": wire["parent"],
        "aliases": wire["aliases"],
        "notes": wire["notes"],
        "null_reasons": wire["null_reasons"],
    }
    return columns, problems


async def initiative_columns(
    conn: AsyncConnection, wire: Wire, record_id: str
) -> tuple[Columns, Problems]:
    nullable = ("name_en", "summary", "region", "parent")
    problems = _common(wire, initiatives.INITIATIVE_KINDS, nullable)
    problems += await _refs(conn, wire, {"region": _region, "parent": _initiative})
    problems += await _named(_initiative)(conn, wire, record_id)
    columns = {
        "name": wire["name"],
        "name_en": wire["name_en"],
        "kind": wire["kind"],
        "summary": wire["summary"],
        "region_id": wire["region"],
        "parent_id": wire["parent"],
        "aliases": wire["aliases"],
        "notes": wire["notes"],
        "null_reasons": wire["null_reasons"],
    }
    return columns, problems


async def article_columns(
    conn: AsyncConnection, wire: Wire, record_id: str
) -> tuple[Columns, Problems]:
    nullable = ("section", "kicker", "subheadline", "byline", "region", "continued_on")
    problems = _common(wire, articles.ARTICLE_KINDS, nullable)
    problems += await _refs(conn, wire, {"region": _region})
    span = wire["span"]
    start, end = span["start"], span["end"]
    text = await conn.scalar(sa.select(_document.c.text).where(_document.c.id == wire["document"]))
    if text is None:
        problems.append(_problem("document", f"no document {wire['document']!r}"))
    elif not 0 <= start < end <= len(text):
        problems.append(_problem("span", f"outside the document (length {len(text)})"))
    elif squash(wire["headline"]) not in squash(text[start:end]):
        problems.append(_problem("headline", "not found inside the article span"))
    for i, repair in enumerate(wire["repairs"]):
        rs = repair["span"]
        if not start <= rs["start"] < rs["end"] <= end:
            problems.append(_problem(f"repairs[{i}].span", "not inside the article span"))
    columns = {
        "document_id": wire["document"],
        "kind": wire["kind"],
        "section": wire["section"],
        "kicker": wire["kicker"],
        "headline": wire["headline"],
        "subheadline": wire["subheadline"],
        "byline": wire["byline"],
        "region_id": wire["region"],
        "span_start": start,
        "span_end": end,
        "body": wire["body"],
        "repairs": [
            {"span": [r["span"]["start"], r["span"]["end"]], "note": r["note"]}
            for r in wire["repairs"]
        ],
        "continued_on": wire["continued_on"],
        "notes": wire["notes"],
        "null_reasons": wire["null_reasons"],
    }
    return columns, problems


async def metric_columns(
    conn: AsyncConnection, wire: Wire, record_id: str
) -> tuple[Columns, Problems]:
    problems = _common(wire, metrics.METRIC_KINDS, ("subject_en", "unit", "period", "region"))
    refs = {
        "region": _region,
        "initiative": _initiative,
        "organisation": _organisation,
        "growth_of": _metric,
    }
    problems += await _refs(conn, wire, refs)
    if wire.get("growth_of") == record_id:
        problems.append(_problem("growth_of", "a metric cannot qualify itself"))
    span = [wire["span"]["start"], wire["span"]["end"]]
    article = await _live(conn, _article, wire["article"])
    document_id = article["document_id"] if article is not None else None
    if article is None:
        problems.append(_problem("article", f"no article {wire['article']!r} (or it is deleted)"))
    else:
        text = await conn.scalar(sa.select(_document.c.text).where(_document.c.id == document_id))
        problem = span_problem(text or "", wire["quote"], span)
        if problem is not None:
            problems.append(_problem("span", problem))
        elif not article["span_start"] <= span[0] < span[1] <= article["span_end"]:
            problems.append(_problem("span", f"outside article {wire['article']}"))
    if squash(wire["raw"]) not in squash(wire["quote"]):
        problems.append(_problem("raw", "does not occur in the quote"))
    # `value` is exact decimal text (write_bodies.wire_dict) or None when it was not a number.
    value = Decimal(wire["value"]) if wire["value"] is not None else None
    # adjusted() is the exponent of the leading digit: no arithmetic, so no Overflow trap.
    if value is None or not value.is_finite() or value.adjusted() >= 14:
        problems.append(
            _problem("value", "expected a finite decimal below 1e14 (a JSON number or a string)")
        )
    else:
        for name, reason in quantity_problems(wire["raw"], value, wire["unit"], wire["qualifier"]):
            problems.append(_problem(name, reason))
    columns = {
        "article_id": wire["article"],
        "document_id": document_id,
        "subject": wire["subject"],
        "subject_en": wire["subject_en"],
        "kind": wire["kind"],
        "raw": wire["raw"],
        "value": value,
        "unit": wire["unit"],
        "qualifier": wire["qualifier"],
        "cumulative": wire["cumulative"],
        "period": wire["period"],
        "region_id": wire["region"],
        "initiative_id": wire["initiative"],
        "organisation_id": wire["organisation"],
        "growth_of_id": wire["growth_of"],
        "quote": wire["quote"],
        "span_start": span[0],
        "span_end": span[1],
        "notes": wire["notes"],
        "null_reasons": wire["null_reasons"],
    }
    return columns, problems


def _in_view(row: Mapping[str, Any], in_type: type[msgspec.Struct]) -> Wire:
    """A stored row as the create body that would produce it (the base a patch merges into)."""
    wire: Wire = {}
    for f in msgspec.structs.fields(in_type):
        name = f.name
        if name == "span":
            wire[name] = {"start": row["span_start"], "end": row["span_end"]}
        elif name == "repairs":
            wire[name] = [
                {"span": {"start": r["span"][0], "end": r["span"][1]}, "note": r["note"]}
                for r in row["repairs"]
            ]
        elif name == "value":
            wire[name] = str(row["value"])
        elif name in {"document", "article", "region", "parent", "initiative", "organisation"}:
            wire[name] = row[f"{name}_id"]
        elif name == "growth_of":
            wire[name] = row["growth_of_id"]
        else:
            wire[name] = row[name]
    return wire


_region = table_of(Region)
_document = table_of(Document)
_article = table_of(Article)
_organisation = table_of(Organisation)
_initiative = table_of(Initiative)
_metric = table_of(Metric)
_changes = table_of(Change)
_entries = table_of(SearchEntry)

SEARCH_TABLE = {
    "articles": "article",
    "initiatives": "initiative",
    "organisations": "organisation",
    "metrics": "metric",
}


@dataclass(frozen=True)
class Writable:
    spec: ListSpec[Any]
    singular: str
    in_type: type[msgspec.Struct]
    patch_type: type[msgspec.Struct]
    detail_type: type[Any]
    columns: Callable[[AsyncConnection, Wire, str], Awaitable[tuple[Columns, Problems]]]
    load_detail: Callable[[AsyncConnection, str], Awaitable[Any]]
    slug_field: str

    @property
    def table(self) -> sa.Table:
        return self.spec.table

    @property
    def resource(self) -> str:
        return self.spec.resource


WRITABLE = [
    Writable(
        articles.ARTICLES,
        "article",
        ArticleIn,
        ArticlePatch,
        articles.ArticleDetail,
        article_columns,
        articles.load_detail,
        "headline",
    ),
    Writable(
        initiatives.INITIATIVES,
        "initiative",
        InitiativeIn,
        InitiativePatch,
        initiatives.InitiativeDetail,
        initiative_columns,
        initiatives.load_detail,
        "name",
    ),
    Writable(
        metrics.METRICS,
        "metric",
        MetricIn,
        MetricPatch,
        metrics.MetricOut,
        metric_columns,
        metrics.load_detail,
        "subject",
    ),
    Writable(
        organisations.ORGANISATIONS,
        "organisation",
        OrganisationIn,
        OrganisationPatch,
        organisations.OrganisationDetail,
        organisation_columns,
        organisations.load_detail,
        "name",
    ),
]


# ---------------------------------------------------------------- shared steps


async def _derive_id(conn: AsyncConnection, w: Writable, text: str) -> str:
    base = "-".join(slugify(text).split("-")[:MAX_SLUG_SYLLABLES])[:100].strip("-")
    base = base or w.singular
    candidate, n = base, 1
    while await conn.scalar(sa.select(w.table.c.id).where(w.table.c.id == candidate)):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


async def _refresh_search(conn: AsyncConnection, w: Writable, record_id: str) -> None:
    """Rewrite the record's search entry from its row (FTS5 triggers follow on SQLite)."""
    await conn.execute(
        sa.delete(_entries).where(
            _entries.c.resource == w.resource, _entries.c.record_id == record_id
        )
    )
    row = (await conn.execute(sa.select(w.table).where(w.table.c.id == record_id))).mappings()
    current = row.first()
    if current is None or current["deleted_at"] is not None:
        return
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in SEARCH_TABLE.values()}
    tables[SEARCH_TABLE[w.resource]] = [dict(current)]
    await conn.execute(sa.insert(_entries).values(search_entries(tables)))


async def _audit(
    conn: AsyncConnection,
    curator: Curator,
    w: Writable,
    record_id: str,
    action: str,
    revision: int,
    before: Any,
    after: Any,
) -> None:
    await conn.execute(
        sa.insert(_changes).values(
            at=datetime.now(UTC),
            key_id=curator.key_id,
            key_name=curator.name,
            resource=w.resource,
            record_id=record_id,
            action=action,
            revision=revision,
            before=msgspec.to_builtins(before) if before is not None else None,
            after=msgspec.to_builtins(after) if after is not None else None,
        )
    )


# What live records may point at each writable resource: (table, column, singular). A delete is
# refused while any of these references it (mentions and roles do not block: see the docstring).
REFERRERS: dict[str, tuple[tuple[sa.Table, str, str], ...]] = {
    "articles": ((_metric, "article_id", "metric"),),
    "initiatives": ((_metric, "initiative_id", "metric"), (_initiative, "parent_id", "initiative")),
    "metrics": ((_metric, "growth_of_id", "metric"),),
    "organisations": (
        (_metric, "organisation_id", "metric"),
        (_organisation, "parent_id", "organisation"),
    ),
}
REQUIRED_TEXT: dict[str, tuple[str, ...]] = {
    "articles": ("headline",),
    "initiatives": ("name",),
    "metrics": ("subject", "raw", "quote"),
    "organisations": ("name",),
}
_ENTITY_TAG = re.compile(r'(W/)?("[^"]*")')


class _Unchanged(Exception):
    """Raised inside a write's transaction to roll it back and answer with `response`."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__()
        self.response = response


def _text_check(w: Writable, wire: Wire) -> None:
    """Control characters and blank text, before anything reaches the database (PostgreSQL
    would reject a NUL even in a reference it only looks up)."""
    problems = [
        _problem(name, f"{name} {reason}")
        for name, reason in seed_text_problems(wire, REQUIRED_TEXT[w.resource])
    ]
    if problems:
        raise Unprocessable(f"Invalid {w.singular}", problems)


def _if_match_holds(if_match: str, current: str) -> bool:
    """RFC 9110 §13.1.1: `*` holds for any current record; otherwise one listed tag must equal
    the current one by strong comparison (a weak tag never does)."""
    if if_match.strip() == "*":
        return True
    return any(m.group(1) is None and m.group(2) == current for m in _ENTITY_TAG.finditer(if_match))


def _stale(tag: str) -> HTTPException:
    return HTTPException(
        status_code=412,
        detail="The record changed since that ETag: GET it again and re-apply your change.",
        headers={"ETag": tag},
    )


def _precondition_required() -> HTTPException:
    return HTTPException(
        status_code=428,
        detail="This write needs `If-Match` with the record's current ETag (from GET), or `*`.",
    )


@dataclass(frozen=True)
class Current:
    """A record as a conditional write finds it: its row, detail body (None when deleted) and
    the ETag a GET would give it now."""

    row: Mapping[Any, Any]
    body: Any
    tag: str


async def _current(
    conn: AsyncConnection, w: Writable, record_id: str, *, deleted_ok: bool = False
) -> Current:
    """The record, or a 404 when it does not exist (or is deleted, unless `deleted_ok`)."""
    result = await conn.execute(sa.select(w.table).where(w.table.c.id == record_id))
    row = result.mappings().first()
    if row is None or (row["deleted_at"] is not None and not deleted_ok):
        gone = " (it is deleted)" if row is not None else ""
        raise NotFoundException(f"No {w.singular} with id {record_id!r}{gone}")
    if row["deleted_at"] is not None:
        return Current(row, None, make_etag(w.resource, record_id, row["revision"]))
    body = await w.load_detail(conn, record_id)
    return Current(row, body, make_etag(w.resource, record_id, row["revision"], body))


def _require_if_match(if_match: str | None) -> str:
    """428 without `If-Match` (RFC 6585): checked once the record is known to exist, before any
    state conflict (409), since a write without it is refused whatever the state."""
    if if_match is None or not if_match.strip():
        raise _precondition_required()
    return if_match


def _check_if_match(current: Current, if_match: str | None) -> None:
    if not _if_match_holds(_require_if_match(if_match), current.tag):
        raise _stale(current.tag)


def _merge(target: Any, patch_value: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch_value, dict):
        return patch_value
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch_value.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged


def _with_defaults(wire: Wire, in_type: type[msgspec.Struct]) -> Wire:
    """A field a merge patch cleared with `null` takes its create-body default (null, [] or {})."""
    for f in msgspec.structs.fields(in_type):
        if f.name not in wire and f.name != "id":
            if f.default_factory is not msgspec.NODEFAULT:
                wire[f.name] = f.default_factory()
            else:
                wire[f.name] = None if f.default is msgspec.NODEFAULT else f.default
    return wire


def _unchanged(row: Mapping[Any, Any], columns: Columns) -> bool:
    return all(row[name] == value for name, value in columns.items())


def _respond(w: Writable, record_id: str, tag: str, body: Any, status: int) -> Response[Any]:
    headers = {"ETag": tag}
    if status == 201:
        headers["Location"] = f"/v1/{w.resource}/{record_id}"
    return Response(body, status_code=status, headers=headers)


async def _referrers(conn: AsyncConnection, w: Writable, record_id: str) -> list[str]:
    found: list[str] = []
    for table, column, singular in REFERRERS[w.resource]:
        stmt = (
            sa.select(table.c.id)
            .where(table.c[column] == record_id, table.c.deleted_at.is_(None))
            .order_by(table.c.id)
            .limit(20)
        )
        found += [
            f"{singular} {rid} ({column.removesuffix('_id')})" for rid in await conn.scalars(stmt)
        ]
    return found


# ---------------------------------------------------------------- operations


async def create_record(request: Request[Any, Any, Any], w: Writable, data: Any) -> Response[Any]:
    curator: Curator = request.state.curator
    wire = wire_dict(data)
    _text_check(w, wire)
    requested_id = wire.pop("id", None)
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)  # first: serialises concurrent writers
        if requested_id is None:
            record_id = await _derive_id(conn, w, wire[w.slug_field])
        else:
            record_id = requested_id
            if await conn.scalar(sa.select(w.table.c.id).where(w.table.c.id == record_id)):
                raise HTTPException(
                    status_code=409,
                    detail=f"The id {record_id!r} is already used (ids are never reused, "
                    "deleted records included).",
                )
        columns, problems = await w.columns(conn, wire, record_id)
        if problems:
            raise Unprocessable(f"Invalid {w.singular}", problems)
        if w.resource == "articles":
            last = await conn.scalar(
                sa.select(sa.func.max(w.table.c.position)).where(
                    w.table.c.document_id == columns["document_id"]
                )
            )
            columns["position"] = int(last or 0) + 1
        await conn.execute(
            sa.insert(w.table).values(id=record_id, revision=1, curator_edited=True, **columns)
        )
        await _refresh_search(conn, w, record_id)
        after = await w.load_detail(conn, record_id)
        await _audit(conn, curator, w, record_id, "create", 1, None, after)
    data_version(request.app).invalidate()
    return _respond(w, record_id, make_etag(w.resource, record_id, 1, after), after, 201)


async def patch_record(
    request: Request[Any, Any, Any], w: Writable, record_id: str, data: Any, if_match: str | None
) -> Response[Any]:
    curator: Curator = request.state.curator
    patch_doc = wire_dict(data, drop_unset=True)
    try:
        async with request.app.state.engine.begin() as conn:
            await data_version(request.app).bump(conn)
            current = await _current(conn, w, record_id)
            _check_if_match(current, if_match)
            wire = _with_defaults(_merge(_in_view(current.row, w.in_type), patch_doc), w.in_type)
            wire.pop("id", None)
            _text_check(w, wire)
            columns, problems = await w.columns(conn, wire, record_id)
            if problems:
                raise Unprocessable(f"Invalid {w.singular}", problems)
            if _unchanged(current.row, columns):
                raise _Unchanged(_respond(w, record_id, current.tag, current.body, 200))
            revision = await _compare_and_set(conn, w, current, columns)
            await _refresh_search(conn, w, record_id)
            after = await w.load_detail(conn, record_id)
            await _audit(conn, curator, w, record_id, "update", revision, current.body, after)
    except _Unchanged as nothing:  # rolled back: not even the dataset version moved
        return nothing.response
    data_version(request.app).invalidate()
    tag = make_etag(w.resource, record_id, revision, after)
    return _respond(w, record_id, tag, after, 200)


async def _compare_and_set(
    conn: AsyncConnection, w: Writable, current: Current, values: Columns
) -> int:
    """UPDATE … WHERE revision = :expected: race-free whatever the isolation level."""
    expected = int(current.row["revision"])
    result = await conn.execute(
        sa.update(w.table)
        .where(w.table.c.id == current.row["id"], w.table.c.revision == expected)
        .values(revision=w.table.c.revision + 1, curator_edited=True, **values)
    )
    if result.rowcount != 1:
        raise _stale(current.tag)
    return expected + 1


async def delete_record(
    request: Request[Any, Any, Any], w: Writable, record_id: str, if_match: str | None
) -> Response[None]:
    curator: Curator = request.state.curator
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)
        current = await _current(conn, w, record_id)
        _require_if_match(if_match)
        referrers = await _referrers(conn, w, record_id)
        if referrers:
            raise HTTPException(
                status_code=409,
                detail=f"The {w.singular} {record_id} is still referenced by "
                + "; ".join(referrers)
                + ". Re-point or delete those first.",
            )
        _check_if_match(current, if_match)
        revision = await _compare_and_set(conn, w, current, {"deleted_at": datetime.now(UTC)})
        await _refresh_search(conn, w, record_id)
        await _audit(conn, curator, w, record_id, "delete", revision, current.body, None)
    data_version(request.app).invalidate()
    return Response(
        None, status_code=204, headers={"ETag": make_etag(w.resource, record_id, revision)}
    )


async def restore_record(
    request: Request[Any, Any, Any], w: Writable, record_id: str, if_match: str | None
) -> Response[Any]:
    curator: Curator = request.state.curator
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)
        current = await _current(conn, w, record_id, deleted_ok=True)
        _require_if_match(if_match)
        if current.row["deleted_at"] is None:
            raise HTTPException(status_code=409, detail=f"{w.singular} {record_id} is not deleted")
        _check_if_match(current, if_match)
        # The references it had may have been deleted meanwhile: the usual rules apply.
        wire = _in_view(current.row, w.in_type)
        wire.pop("id", None)
        _, problems = await w.columns(conn, wire, record_id)
        if problems:
            raise Unprocessable(f"Cannot restore {w.singular}", problems)
        revision = await _compare_and_set(conn, w, current, {"deleted_at": None})
        await _refresh_search(conn, w, record_id)
        after = await w.load_detail(conn, record_id)
        await _audit(conn, curator, w, record_id, "restore", revision, None, after)
    data_version(request.app).invalidate()
    return _respond(w, record_id, make_etag(w.resource, record_id, revision, after), after, 200)


# ---------------------------------------------------------------- route handlers

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        # Optional for the framework, so a missing one reaches the handler and is a 428 (not a
        # 400); the OpenAPI document declares it required (`_WriteOperation`).
        required=False,
        description="The record's current `ETag` (from GET of its detail, or from the last "
        "write), or `*` for whatever its current state. Several tags may be listed, "
        "comma-separated. 428 without it, 412 if none matches.",
        max_length=300,
    ),
]

_AUTH_ERRORS: dict[int, ResponseSpec] = {
    401: problem_spec(
        "No API key, or an unknown or revoked one (`WWW-Authenticate: Bearer`). Create keys "
        "with `python -m service.keys create`."
    ),
    403: problem_spec("The API key is read-only (role `reader`)."),
    413: problem_spec("The request body is larger than the server accepts."),
    422: problem_spec(
        "The body breaks a data rule (control character or blank text, span, quantity parser, "
        "unknown or deleted reference, duplicate name); `invalid_params` names each field."
    ),
}
_BODY_ERRORS: dict[int, ResponseSpec] = {
    415: problem_spec(
        "The body is not declared as JSON (`Content-Type: application/json`; "
        "`application/merge-patch+json` is accepted on PATCH), or not as UTF-8."
    ),
}
CREATE_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    **_AUTH_ERRORS,
    **_BODY_ERRORS,
    409: problem_spec("The `id` is already used (ids are never reused, deleted records included)."),
}
CREATE_ERRORS.pop(304)
_CONDITIONAL_ERRORS: dict[int, ResponseSpec] = {
    **_AUTH_ERRORS,
    404: problem_spec("No record with this id (or it is deleted)."),
    412: problem_spec(
        "`If-Match` names no current ETag of the record: someone changed it (or a record it "
        "embeds) since. The response's `ETag` is the current one."
    ),
    428: problem_spec("`If-Match` is missing."),
}
UPDATE_ERRORS: dict[int, ResponseSpec] = {**COMMON_ERRORS, **_CONDITIONAL_ERRORS, **_BODY_ERRORS}
UPDATE_ERRORS.pop(304)
DELETE_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    **_CONDITIONAL_ERRORS,
    409: problem_spec(
        "Live records still reference this one (as article, organisation, initiative, "
        "`growth_of` or parent); `detail` names them. Re-point or delete them first."
    ),
}
DELETE_ERRORS.pop(304)
RESTORE_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    **_CONDITIONAL_ERRORS,
    409: problem_spec("The record is not deleted."),
}
RESTORE_ERRORS.pop(304)


def _link(operation_id: str, param: str, record_id: str, description: str) -> Link:
    return Link(
        operation_id=operation_id,
        parameters={param: record_id, "If-Match": "$response.header.ETag"},
        description=description,
    )


def _write_operation(
    w: Writable, action: str, links: dict[str, dict[str, tuple[str, str]]]
) -> type[Operation]:
    """The OpenAPI operation of a write: `If-Match` declared required (a missing one is a 428),
    no `If-None-Match` (writes are not conditional GETs), and links from each response to the
    next write on the same record (create → update/delete → restore), with its ETag."""
    param = f"{w.singular}_id"

    def __post_init__(self: Operation) -> None:
        kept: list[Any] = []
        for parameter in self.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name == "If-None-Match":
                continue
            if isinstance(parameter, Parameter) and parameter.name == "If-Match":
                parameter.required = True
                parameter.schema = Schema(type=OpenAPIType.STRING, max_length=300, min_length=1)
            kept.append(parameter)
        self.parameters = kept
        no_content = (self.responses or {}).get("204")
        if isinstance(no_content, OpenAPIResponse):
            no_content.content = None  # a 204 has no body (Litestar documents a JSON null)
        for status, targets in links.items():
            response = (self.responses or {}).get(status)
            if isinstance(response, OpenAPIResponse):
                response.links = {
                    name: _link(op, param, source, f"{name} the {w.singular} just written")
                    for name, (op, source) in targets.items()
                }

    name = f"{_title(w)}{action.title()}Operation"
    return dataclasses.dataclass(type(name, (Operation,), {"__post_init__": __post_init__}))


def _title(w: Writable) -> str:
    return w.singular.title()


def _handlers(w: Writable) -> list[HTTPRouteHandler]:
    param = f"{w.singular}_id"
    item_path = f"/{w.resource}/{{{param}:str}}"

    async def create(request: Request[Any, Any, Any], data: Any) -> Response[Any]:
        return await create_record(request, w, data)

    create.__annotations__ = {
        "request": Request[Any, Any, Any],
        "data": Annotated[w.in_type, BodyKwarg(media_type=RequestEncodingType.JSON)],
        "return": Response[w.detail_type],  # type: ignore[name-defined]
    }

    async def update(
        request: Request[Any, Any, Any], data: Any, if_match: IfMatch, **path: Any
    ) -> Response[Any]:
        return await patch_record(request, w, path[param], data, if_match)

    async def remove(
        request: Request[Any, Any, Any], if_match: IfMatch, **path: Any
    ) -> Response[None]:
        return await delete_record(request, w, path[param], if_match)

    async def restore(
        request: Request[Any, Any, Any], if_match: IfMatch, **path: Any
    ) -> Response[Any]:
        return await restore_record(request, w, path[param], if_match)

    for fn, data_type, returns in (
        (update, w.patch_type, Response[w.detail_type]),  # type: ignore[name-defined]
        (remove, None, Response[None]),
        (restore, None, Response[w.detail_type]),  # type: ignore[name-defined]
    ):
        _with_path_param(fn, param, data_type, returns)

    options = _options(w)
    return [
        post(f"/{w.resource}", **options["create"])(create),
        patch(item_path, **options["update"])(update),
        delete(item_path, **options["delete"])(remove),
        post(f"{item_path}/restore", **options["restore"])(restore),
    ]


def _options(w: Writable) -> dict[str, dict[str, Any]]:
    """Route-handler options of the four writes: guards, body decoding, OpenAPI."""
    title, a = _title(w), _article_of(w.singular)
    by_body, by_path = "$response.body#/id", f"$request.path.{w.singular}_id"
    write_on = {"Update": (f"update{title}", by_path), "Delete": (f"delete{title}", by_path)}
    common: dict[str, Any] = {"security": SECURITY, "tags": [w.resource.title()]}
    body: dict[str, Any] = {"guards": [editor_guard, json_body_guard], "return_dto": None}
    return {
        "create": common
        | body
        | {
            "dto": strict_body(w.in_type),
            "operation_id": f"create{title}",
            "summary": f"Create {a} {w.singular}",
            "description": "Requires an editor API key. The body is validated like seed data; "
            f"the response is the new {w.singular} with its `ETag`.",
            "responses": CREATE_ERRORS,
            "status_code": 201,
            "operation_class": _write_operation(
                w,
                "create",
                {"201": {k: (op, by_body) for k, (op, _) in write_on.items()}},
            ),
        },
        "update": common
        | body
        | {
            "dto": strict_body(w.patch_type),
            "operation_id": f"update{title}",
            "summary": f"Update {a} {w.singular} (JSON merge patch)",
            "description": "RFC 7386 merge patch on the fields of the create body: a field "
            "omitted is unchanged, `null` clears it (a key of `null_reasons` set to `null` is "
            "removed); `span` is replaced whole. Needs `If-Match`. A patch that changes "
            "nothing (`{}` included) writes nothing: same revision and `ETag`, no audit entry.",
            "responses": UPDATE_ERRORS,
            "operation_class": _write_operation(w, "update", {"200": write_on}),
        },
        "delete": common
        | {
            "guards": [editor_guard],
            "operation_id": f"delete{title}",
            "summary": f"Soft-delete {a} {w.singular}",
            "description": "Hides the record everywhere (404, lists, search, expansion) until "
            "restored. Needs `If-Match`; the response's `ETag` is what restore needs. Refused "
            "with 409 while live records still reference it (a metric's article, "
            "organisation, initiative or `growth_of`; a parent): `detail` names them. Mentions "
            "in articles and initiatives' organisation roles do not block: they are hidden "
            "while the record is deleted.",
            "responses": DELETE_ERRORS,
            "status_code": 204,
            "operation_class": _write_operation(
                w, "delete", {"204": {"Restore": (f"restore{title}", by_path)}}
            ),
        },
        "restore": common
        | {
            "guards": [editor_guard],
            "operation_id": f"restore{title}",
            "summary": f"Restore a deleted {w.singular}",
            "description": "Undoes a soft delete. Needs `If-Match` with the ETag the delete "
            "returned, or `*`.",
            "responses": RESTORE_ERRORS,
            "status_code": 200,
            "operation_class": _write_operation(w, "restore", {"200": write_on}),
        },
    }


def _with_path_param(fn: Any, param: str, data_type: Any, returns: Any) -> None:
    """Give a generated handler the signature Litestar reads: the resource's path parameter
    by its name (as on the GET detail route), the body type, `If-Match`. Called with those
    keywords, the function's own `**path` collects the path parameter."""

    params = [
        inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request[Any, Any, Any]
        ),
        inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=ResourceId),
        inspect.Parameter("if_match", inspect.Parameter.KEYWORD_ONLY, annotation=IfMatch),
    ]
    if data_type is not None:
        params.insert(
            1,
            inspect.Parameter(
                "data",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[data_type, BodyKwarg(media_type=RequestEncodingType.JSON)],
            ),
        )
    fn.__signature__ = inspect.Signature(params, return_annotation=returns)
    fn.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}


def _article_of(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


WRITE_HANDLERS: list[HTTPRouteHandler] = [h for w in WRITABLE for h in _handlers(w)]
