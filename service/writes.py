"""Curator write API: create, merge-patch, soft delete and restore for articles, initiatives,
metrics and organisations, behind bearer API keys (service/auth.py).

Rules, the same for every resource:
- Every write is validated with the seed loader's rules (service/seed.py: quote exactly at its
  span in the document text, `value`/`unit`/`qualifier` equal to `parse_quantity(raw)`, `raw`
  inside the quote, references to existing, not-deleted records, slug ids, unique names).
  Structurally invalid bodies (wrong JSON types, unknown fields) are a 400 from the framework;
  rule violations are a 422; both name each field in `invalid_params`.
- Ids: the client may send `id` (a slug, never used before, deleted records included);
  otherwise it is the pinyin slug of the name (subject for metrics, headline for articles), at
  most 8 syllables, with `-2`, `-3` … appended on collision.
- PATCH, DELETE and restore need `If-Match` with the record's current ETag
  (`"<resource>:<id>:r<revision>"`): 428 without it, 412 when stale. The compare-and-set is in
  the UPDATE (`WHERE revision = :expected`), and every write transaction starts by bumping the
  dataset version, which serialises writers on both SQLite and PostgreSQL.
- One transaction per write: the row, its search entry, the audit row (`change`) and the
  dataset-version bump; the HTTP layer's caches are invalidated after the commit.
- Soft delete sets `deleted_at`: the record is then a 404 and absent from lists, search,
  expansion and relation lists, until restored. Records written here are `curator_edited`, so
  the seed loader leaves them alone (see `service.seed.sync`).
- Relation lists (article contributors and mentions, initiative organisations) come from the
  curated files and are not writable here.
"""

from __future__ import annotations

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
from litestar.params import BodyKwarg, HeaderParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from service.auth import SECURITY, Curator, editor_guard
from service.http import data_version
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
from service.problems import COMMON_ERRORS, BadRequest, InvalidParam, problem_spec
from service.query import ListSpec, make_etag
from service.resources import articles, initiatives, metrics, organisations
from service.resources.common import ResourceId, Span
from service.seed import SLUG, quantity_problems, search_entries, slugify, span_problem, squash

MAX_SLUG_SYLLABLES = 8
ID_MAX = 120


class Unprocessable(BadRequest):
    """422: the body is well-formed but breaks a data rule; `invalid_params` names each field."""

    status_code = 422


def _problem(name: str, reason: str) -> InvalidParam:
    return InvalidParam(name, reason, "body")


# ---------------------------------------------------------------- wire input types


class RepairIn(msgspec.Struct, forbid_unknown_fields=True):
    span: Span
    note: str


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new organisation. Omit `id` to derive it from the name (pinyin slug)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    kind: str
    id: str | None = None
    name_en: str | None = None
    region: str | None = None
    parent: str | None = None
    aliases: list[str] = []
    notes: list[str] = []
    null_reasons: dict[str, str] = {}


class InitiativeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new initiative. Omit `id` to derive it from the name (pinyin slug)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    kind: str
    id: str | None = None
    name_en: str | None = None
    summary: str | None = None
    region: str | None = None
    parent: str | None = None
    aliases: list[str] = []
    notes: list[str] = []
    null_reasons: dict[str, str] = {}


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new article in a document: its span must contain the headline as printed. It is
    placed after the document's last article. Omit `id` to derive it from the headline."""

    document: str
    kind: str
    headline: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    span: Span
    id: str | None = None
    section: str | None = None
    kicker: str | None = None
    subheadline: str | None = None
    byline: str | None = None
    region: str | None = None
    body: list[str] = []
    continued_on: str | None = None
    repairs: list[RepairIn] = []
    notes: list[str] = []
    null_reasons: dict[str, str] = {}


class MetricIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new metric: `quote` must be the document text at `span` (inside the article's span),
    `raw` must occur in the quote, and `value`/`unit`/`qualifier` must be what the quantity
    parser reads from `raw`. Omit `id` to derive it from the subject."""

    article: str
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    kind: str
    raw: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    value: Decimal
    quote: Annotated[str, msgspec.Meta(min_length=1)]
    span: Span
    id: str | None = None
    subject_en: str | None = None
    unit: str | None = None
    qualifier: str | None = None
    cumulative: bool = False
    period: str | None = None
    region: str | None = None
    initiative: str | None = None
    organisation: str | None = None
    growth_of: str | None = None
    notes: list[str] = []
    null_reasons: dict[str, str] = {}


def _patch_type(in_type: type[msgspec.Struct], name: str) -> type[msgspec.Struct]:
    """The merge-patch body: every field of the create body except `id`, all optional."""
    fields: list[tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(in_type):
        if f.name == "id":
            continue
        annotation = f.type
        if f.name == "null_reasons":
            annotation = dict[str, str | None]  # null removes a key (RFC 7386)
        fields.append((f.name, annotation | msgspec.UnsetType, msgspec.UNSET))
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True, module=__name__)


OrganisationPatch = _patch_type(OrganisationIn, "OrganisationPatch")
InitiativePatch = _patch_type(InitiativeIn, "InitiativePatch")
ArticlePatch = _patch_type(ArticleIn, "ArticlePatch")
MetricPatch = _patch_type(MetricIn, "MetricPatch")


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
    value = Decimal(str(wire["value"]))
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        problems.append(_problem("value", "expected a finite decimal below 1e14"))
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


def _expected_revision(w: Writable, record_id: str, if_match: str | None) -> int:
    """The revision an `If-Match` names for this record (-1, never current, if none)."""
    if if_match is None or not if_match.strip():
        raise HTTPException(
            status_code=428,
            detail="This write needs `If-Match` with the record's current ETag (from GET).",
        )
    pattern = re.compile(rf'^"{re.escape(w.resource)}:{re.escape(record_id)}:r(\d{{1,9}})"$')
    for tag in if_match.split(","):
        match = pattern.match(tag.strip())
        if match:
            return int(match.group(1))
    return -1


def _stale(w: Writable, record_id: str, revision: int) -> HTTPException:
    return HTTPException(
        status_code=412,
        detail="The record changed since that ETag: GET it again and re-apply your change.",
        headers={"ETag": make_etag(w.resource, record_id, revision)},
    )


def _validation_problems(exc: msgspec.ValidationError) -> Problems:
    text = str(exc)
    match = re.search(r"at `\$\.?([^`]*)`", text)
    name = match.group(1) if match else "body"
    return [_problem(name or "body", text.split(" - at ")[0])]


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


def _respond(w: Writable, record_id: str, revision: int, body: Any, status: int) -> Response[Any]:
    headers = {"ETag": make_etag(w.resource, record_id, revision)}
    if status == 201:
        headers["Location"] = f"/v1/{w.resource}/{record_id}"
    return Response(body, status_code=status, headers=headers)


async def _current(conn: AsyncConnection, w: Writable, record_id: str) -> Mapping[Any, Any]:
    row = (await conn.execute(sa.select(w.table).where(w.table.c.id == record_id))).mappings()
    current = row.first()
    if current is None:
        raise NotFoundException(f"No {w.singular} with id {record_id!r}")
    return current


# ---------------------------------------------------------------- operations


async def create_record(request: Request[Any, Any, Any], w: Writable, data: Any) -> Response[Any]:
    curator: Curator = request.state.curator
    wire = msgspec.to_builtins(data)
    requested_id = wire.pop("id", None)
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)  # first: serialises concurrent writers
        problems: Problems = []
        if requested_id is None:
            record_id = await _derive_id(conn, w, wire[w.slug_field])
        else:
            record_id = requested_id
            if not SLUG.match(record_id) or len(record_id) > ID_MAX:
                problems.append(_problem("id", "expected a slug: [a-z0-9] words joined by -"))
            elif await conn.scalar(sa.select(w.table.c.id).where(w.table.c.id == record_id)):
                problems.append(_problem("id", "already used (ids are never reused)"))
        columns, more = await w.columns(conn, wire, record_id)
        problems += more
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
    return _respond(w, record_id, 1, after, 201)


async def patch_record(
    request: Request[Any, Any, Any], w: Writable, record_id: str, data: Any, if_match: str | None
) -> Response[Any]:
    curator: Curator = request.state.curator
    expected = _expected_revision(w, record_id, if_match)
    patch_doc = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)
        current = await _current(conn, w, record_id)
        if current["deleted_at"] is not None:
            raise NotFoundException(f"No {w.singular} with id {record_id!r} (it is deleted)")
        if expected != current["revision"]:
            raise _stale(w, record_id, current["revision"])
        before = await w.load_detail(conn, record_id)
        merged = _merge(_in_view(current, w.in_type), msgspec.to_builtins(patch_doc))
        try:
            wire = msgspec.to_builtins(msgspec.convert(merged, w.in_type))
        except msgspec.ValidationError as exc:
            raise Unprocessable(f"Invalid {w.singular}", _validation_problems(exc)) from None
        wire.pop("id", None)
        columns, problems = await w.columns(conn, wire, record_id)
        if problems:
            raise Unprocessable(f"Invalid {w.singular}", problems)
        revision = await _compare_and_set(conn, w, record_id, expected, columns)
        await _refresh_search(conn, w, record_id)
        after = await w.load_detail(conn, record_id)
        await _audit(conn, curator, w, record_id, "update", revision, before, after)
    data_version(request.app).invalidate()
    return _respond(w, record_id, revision, after, 200)


async def _compare_and_set(
    conn: AsyncConnection, w: Writable, record_id: str, expected: int, values: Columns
) -> int:
    """UPDATE … WHERE revision = :expected: race-free whatever the isolation level."""
    result = await conn.execute(
        sa.update(w.table)
        .where(w.table.c.id == record_id, w.table.c.revision == expected)
        .values(revision=w.table.c.revision + 1, curator_edited=True, **values)
    )
    if result.rowcount != 1:
        current = await conn.scalar(sa.select(w.table.c.revision).where(w.table.c.id == record_id))
        raise _stale(w, record_id, int(current or 0))
    return expected + 1


async def delete_record(
    request: Request[Any, Any, Any], w: Writable, record_id: str, if_match: str | None
) -> Response[None]:
    curator: Curator = request.state.curator
    expected = _expected_revision(w, record_id, if_match)
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)
        current = await _current(conn, w, record_id)
        if current["deleted_at"] is not None:
            raise NotFoundException(f"No {w.singular} with id {record_id!r} (it is deleted)")
        if expected != current["revision"]:
            raise _stale(w, record_id, current["revision"])
        before = await w.load_detail(conn, record_id)
        revision = await _compare_and_set(
            conn, w, record_id, expected, {"deleted_at": datetime.now(UTC)}
        )
        await _refresh_search(conn, w, record_id)
        await _audit(conn, curator, w, record_id, "delete", revision, before, None)
    data_version(request.app).invalidate()
    return Response(
        None, status_code=204, headers={"ETag": make_etag(w.resource, record_id, revision)}
    )


async def restore_record(
    request: Request[Any, Any, Any], w: Writable, record_id: str, if_match: str | None
) -> Response[Any]:
    curator: Curator = request.state.curator
    expected = _expected_revision(w, record_id, if_match)
    async with request.app.state.engine.begin() as conn:
        await data_version(request.app).bump(conn)
        current = await _current(conn, w, record_id)
        if expected != current["revision"]:
            raise _stale(w, record_id, current["revision"])
        if current["deleted_at"] is None:
            raise HTTPException(status_code=409, detail=f"{w.singular} {record_id} is not deleted")
        # The references it had may have been deleted meanwhile: the usual rules apply.
        wire = _in_view(current, w.in_type)
        wire.pop("id", None)
        _, problems = await w.columns(conn, wire, record_id)
        if problems:
            raise Unprocessable(f"Cannot restore {w.singular}", problems)
        revision = await _compare_and_set(conn, w, record_id, expected, {"deleted_at": None})
        await _refresh_search(conn, w, record_id)
        after = await w.load_detail(conn, record_id)
        await _audit(conn, curator, w, record_id, "restore", revision, None, after)
    data_version(request.app).invalidate()
    return _respond(w, record_id, revision, after, 200)


# ---------------------------------------------------------------- route handlers

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description="Required: the record's current `ETag` (from GET or the last write). "
        "428 without it, 412 if the record changed since.",
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
        "The body breaks a data rule (span, quantity parser, unknown or deleted reference, "
        "duplicate id or name); `invalid_params` names each field."
    ),
}
CREATE_ERRORS: dict[int, ResponseSpec] = {**COMMON_ERRORS, **_AUTH_ERRORS}
CREATE_ERRORS.pop(304)
_CONDITIONAL_ERRORS: dict[int, ResponseSpec] = {
    **_AUTH_ERRORS,
    404: problem_spec("No record with this id (or it is deleted)."),
    412: problem_spec("`If-Match` is not the record's current ETag: someone changed it since."),
    428: problem_spec("`If-Match` is missing."),
}
UPDATE_ERRORS: dict[int, ResponseSpec] = {**COMMON_ERRORS, **_CONDITIONAL_ERRORS}
UPDATE_ERRORS.pop(304)
RESTORE_ERRORS: dict[int, ResponseSpec] = {
    **UPDATE_ERRORS,
    409: problem_spec("The record is not deleted."),
}


def _title(w: Writable) -> str:
    return w.singular.title()


def _handlers(w: Writable) -> list[HTTPRouteHandler]:
    param = f"{w.singular}_id"
    item_path = f"/{w.resource}/{{{param}:str}}"
    common: dict[str, Any] = {
        "guards": [editor_guard],
        "security": SECURITY,
        "tags": [w.resource.title()],
    }

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

    return [
        post(
            f"/{w.resource}",
            operation_id=f"create{_title(w)}",
            summary=f"Create {_article_of(w.singular)} {w.singular}",
            description=f"Requires an editor API key. The body is validated like seed data; "
            f"the response is the new {w.singular} with its `ETag`.",
            responses=CREATE_ERRORS,
            status_code=201,
            **common,
        )(create),
        patch(
            item_path,
            operation_id=f"update{_title(w)}",
            summary=f"Update {_article_of(w.singular)} {w.singular} (JSON merge patch)",
            description="RFC 7386 merge patch on the fields of the create body: a field "
            "omitted is unchanged, `null` clears it (a key of `null_reasons` set to `null` is "
            "removed); `span` is replaced whole. Needs `If-Match`.",
            responses=UPDATE_ERRORS,
            **common,
        )(update),
        delete(
            item_path,
            operation_id=f"delete{_title(w)}",
            summary=f"Soft-delete {_article_of(w.singular)} {w.singular}",
            description="Hides the record everywhere (404, lists, search, expansion) until "
            "restored. Needs `If-Match`; the response's `ETag` is what restore needs.",
            responses=UPDATE_ERRORS,
            status_code=204,
            **common,
        )(remove),
        post(
            f"{item_path}/restore",
            operation_id=f"restore{_title(w)}",
            summary=f"Restore a deleted {w.singular}",
            description="Undoes a soft delete. Needs `If-Match` with the ETag the delete "
            "returned (also in `/v1/changes` as the revision).",
            responses=RESTORE_ERRORS,
            status_code=200,
            **common,
        )(restore),
    ]


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
