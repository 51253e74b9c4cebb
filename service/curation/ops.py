"""Create, merge-patch, soft-delete and restore a record: callable with explicit arguments (a
connection, the resource, the decoded body, the curator, the `If-Match` value), no Request.

Each operation runs inside the caller's transaction, which must have bumped the dataset
version first (that serialises writers on both databases, so the ETag is compared with the
state the write applies to): `write_transaction` does both and invalidates the version once
committed. A patch that changes nothing raises `Unchanged` so the transaction rolls back.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from litestar.exceptions import HTTPException, NotFoundException
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.auth import Curator
from service.curation.bodies import wire_dict
from service.curation.context import facts_for, table_named
from service.curation.fields import Columns, FieldMap
from service.curation.index import refresh_entry
from service.curation.rules import (
    Problems,
    Reason,
    Wire,
    code_of,
    common_problems,
    slugify,
    text_problems,
)
from service.dataset import DataVersion
from service.listing.handlers import make_etag
from service.models import Change, table_of
from service.resources.resource import Resource, WriteSpec
from service.web.errors import BadRequest, InvalidParam
from service.web.problems import PARAM_CODES, ParamCode, ProblemError
from service.web.wire import to_plain_json

MAX_SLUG_SYLLABLES = 8
_changes = table_of(Change)
_ENTITY_TAG = re.compile(r'(W/)?("[^"]*")')


class Unprocessable(BadRequest):
    """422: the body is well-formed but breaks a data rule; `invalid_params` names each field."""

    status_code = 422


@dataclass(frozen=True)
class Written:
    """The outcome of a write: the record's id, its new ETag and detail body (None when
    deleted)."""

    record_id: str
    tag: str
    body: Any


class Unchanged(Exception):
    """Raised inside a write's transaction to roll it back and answer with `written`."""

    def __init__(self, written: Written) -> None:
        super().__init__()
        self.written = written


def _write(resource: Resource) -> WriteSpec:
    assert resource.write is not None, f"{resource.name} is not writable"
    return resource.write


def _unprocessable(title: str, problems: Problems) -> Unprocessable:
    return Unprocessable(
        title,
        [InvalidParam(name, reason, _code(reason), "body") for name, reason in problems],
    )


def _code(reason: str) -> ParamCode:
    code = code_of(reason)
    return cast(ParamCode, code if code in PARAM_CODES else "rule_violation")


# ---------------------------------------------------------------- validation


def _text_check(resource: Resource, wire: Wire) -> None:
    """Control characters and blank text, before anything reaches the database (PostgreSQL
    would reject a NUL even in a reference it only looks up)."""
    problems: Problems = [
        (name, Reason(code_of(reason), f"{name} {reason}"))
        for name, reason in text_problems(wire, _write(resource).required_text)
    ]
    if problems:
        raise _unprocessable(f"Invalid {resource.singular}", problems)


async def validate(
    conn: AsyncConnection, resource: Resource, wire: Wire, record_id: str
) -> tuple[Columns, Problems]:
    """The record's columns and what it breaks: the rules of every resource, then its own."""
    write = _write(resource)
    ctx = await facts_for(conn, resource.singular, write, wire, record_id)
    problems = common_problems(
        wire, ctx, kinds=write.kinds, nullable=write.nullable, references=write.references
    )
    problems += write.rules(wire, ctx, record_id)
    columns: Columns = {}
    if not problems:
        columns = FieldMap(resource.spec.table, write.in_type).columns(wire)
        if write.derived is not None:
            columns.update(write.derived(wire, ctx))
    return columns, problems


# ---------------------------------------------------------------- the record as found


@dataclass(frozen=True)
class Current:
    """A record as a conditional write finds it: its row, detail body (None when deleted) and
    the ETag a GET would give it now."""

    row: Mapping[Any, Any]
    body: Any
    tag: str


async def _current(
    conn: AsyncConnection, resource: Resource, record_id: str, *, deleted_ok: bool = False
) -> Current:
    """The record, or a 404 when it does not exist (or is deleted, unless `deleted_ok`)."""
    table = resource.spec.table
    row = (await conn.execute(sa.select(table).where(table.c.id == record_id))).mappings().first()
    if row is None or (row["deleted_at"] is not None and not deleted_ok):
        gone = " (it is deleted)" if row is not None else ""
        raise NotFoundException(f"No {resource.singular} with id {record_id!r}{gone}")
    if row["deleted_at"] is not None:
        return Current(row, None, make_etag(resource.name, record_id, row["revision"]))
    body = await resource.load_detail(conn, record_id)
    return Current(row, body, make_etag(resource.name, record_id, row["revision"], body))


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


def _require_if_match(if_match: str | None) -> str:
    """428 without `If-Match` (RFC 6585): checked once the record is known to exist, before any
    state conflict (409), since a write without it is refused whatever the state."""
    if if_match is None or not if_match.strip():
        raise HTTPException(
            status_code=428,
            detail="This write needs `If-Match` with the record's current ETag (from GET), or `*`.",
        )
    return if_match


def _check_if_match(current: Current, if_match: str | None) -> None:
    if not _if_match_holds(_require_if_match(if_match), current.tag):
        raise _stale(current.tag)


# ---------------------------------------------------------------- shared steps


def merge_patch(target: Any, patch_value: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch_value, dict):
        return patch_value
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch_value.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
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


async def _derive_id(conn: AsyncConnection, resource: Resource, text: str) -> str:
    base = "-".join(slugify(text).split("-")[:MAX_SLUG_SYLLABLES])[:100].strip("-")
    base = base or resource.singular
    table = resource.spec.table
    candidate, n = base, 1
    while await conn.scalar(sa.select(table.c.id).where(table.c.id == candidate)):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


async def _new_id(conn: AsyncConnection, resource: Resource, wire: Wire) -> str:
    """The id the body asks for (409 if ever used), else one derived from the slug field."""
    requested = wire.pop("id", None)
    if requested is None:
        return await _derive_id(conn, resource, wire[_write(resource).slug_field])
    table = resource.spec.table
    if await conn.scalar(sa.select(table.c.id).where(table.c.id == requested)):
        raise ProblemError(
            "id-taken",
            f"The id {requested!r} is already used (ids are never reused, "
            "deleted records included).",
        )
    return str(requested)


async def _audit(
    conn: AsyncConnection,
    curator: Curator,
    resource: Resource,
    change: tuple[str, str, int],
    before: Any,
    after: Any,
) -> None:
    record_id, action, revision = change
    await conn.execute(
        sa.insert(_changes).values(
            at=datetime.now(UTC),
            key_id=curator.key_id,
            key_name=curator.name,
            resource=resource.name,
            record_id=record_id,
            action=action,
            revision=revision,
            # Plain JSON for the column: an exact decimal is kept as a JSON number.
            before=to_plain_json(before) if before is not None else None,
            after=to_plain_json(after) if after is not None else None,
        )
    )


async def _referrers(conn: AsyncConnection, resource: Resource, record_id: str) -> list[str]:
    found: list[str] = []
    for table_name, column in _write(resource).referrers:
        table = table_named(table_name)
        stmt = (
            sa.select(table.c.id)
            .where(table.c[column] == record_id, table.c.deleted_at.is_(None))
            .order_by(table.c.id)
            .limit(20)
        )
        found += [
            f"{table_name} {rid} ({column.removesuffix('_id')})" for rid in await conn.scalars(stmt)
        ]
    return found


async def _compare_and_set(
    conn: AsyncConnection, resource: Resource, current: Current, values: Columns
) -> int:
    """UPDATE … WHERE revision = :expected: race-free whatever the isolation level."""
    table = resource.spec.table
    expected = int(current.row["revision"])
    result = await conn.execute(
        sa.update(table)
        .where(table.c.id == current.row["id"], table.c.revision == expected)
        .values(revision=table.c.revision + 1, curator_edited=True, **values)
    )
    if result.rowcount != 1:
        raise _stale(current.tag)
    return expected + 1


async def _finish(
    conn: AsyncConnection,
    curator: Curator,
    resource: Resource,
    change: tuple[str, str, int],
    before: Any,
) -> Written:
    """After the row is written: its search entry, detail, audit row and ETag."""
    record_id, action, revision = change
    await refresh_entry(conn, resource, record_id)
    after = None if action == "delete" else await resource.load_detail(conn, record_id)
    await _audit(conn, curator, resource, change, before, after)
    return Written(record_id, make_etag(resource.name, record_id, revision, after), after)


# ---------------------------------------------------------------- operations


async def create(
    conn: AsyncConnection, resource: Resource, body: msgspec.Struct, curator: Curator
) -> Written:
    write = _write(resource)
    wire = wire_dict(body)
    _text_check(resource, wire)
    record_id = await _new_id(conn, resource, wire)
    columns, problems = await validate(conn, resource, wire, record_id)
    if problems:
        raise _unprocessable(f"Invalid {resource.singular}", problems)
    table = resource.spec.table
    if write.position_in is not None:
        group = table.c[write.position_in] == columns[write.position_in]
        last = await conn.scalar(sa.select(sa.func.max(table.c.position)).where(group))
        columns["position"] = int(last or 0) + 1
    await conn.execute(
        sa.insert(table).values(id=record_id, revision=1, curator_edited=True, **columns)
    )
    return await _finish(conn, curator, resource, (record_id, "create", 1), None)


@dataclass(frozen=True, slots=True)
class Target:
    """The record a PATCH, DELETE or restore writes to, and the `If-Match` the client sent."""

    resource: Resource
    record_id: str
    if_match: str | None


async def patch(
    conn: AsyncConnection, target: Target, body: msgspec.Struct, curator: Curator
) -> Written:
    """RFC 7386 merge patch of the create body; `Unchanged` when it changes nothing."""
    resource, record_id, if_match = target.resource, target.record_id, target.if_match
    write = _write(resource)
    current = await _current(conn, resource, record_id)
    _check_if_match(current, if_match)
    base = FieldMap(resource.spec.table, write.in_type).in_view(current.row)
    if write.patch_base is not None:
        base = write.patch_base(base)
    wire = _with_defaults(merge_patch(base, wire_dict(body, drop_unset=True)), write.in_type)
    wire.pop("id", None)
    _text_check(resource, wire)
    columns, problems = await validate(conn, resource, wire, record_id)
    if problems:
        raise _unprocessable(f"Invalid {resource.singular}", problems)
    if all(current.row[name] == value for name, value in columns.items()):
        raise Unchanged(Written(record_id, current.tag, current.body))
    revision = await _compare_and_set(conn, resource, current, columns)
    return await _finish(conn, curator, resource, (record_id, "update", revision), current.body)


async def delete(conn: AsyncConnection, target: Target, curator: Curator) -> Written:
    resource, record_id, if_match = target.resource, target.record_id, target.if_match
    current = await _current(conn, resource, record_id)
    _require_if_match(if_match)
    referrers = await _referrers(conn, resource, record_id)
    if referrers:
        raise ProblemError(
            "still-referenced",
            f"The {resource.singular} {record_id} is still referenced by "
            + "; ".join(referrers)
            + ". Re-point or delete those first.",
        )
    _check_if_match(current, if_match)
    revision = await _compare_and_set(conn, resource, current, {"deleted_at": datetime.now(UTC)})
    return await _finish(conn, curator, resource, (record_id, "delete", revision), current.body)


async def restore(conn: AsyncConnection, target: Target, curator: Curator) -> Written:
    resource, record_id, if_match = target.resource, target.record_id, target.if_match
    current = await _current(conn, resource, record_id, deleted_ok=True)
    _require_if_match(if_match)
    if current.row["deleted_at"] is None:
        raise ProblemError("not-deleted", f"{resource.singular} {record_id} is not deleted")
    _check_if_match(current, if_match)
    # The references it had may have been deleted meanwhile: the usual rules apply.
    wire = FieldMap(resource.spec.table, _write(resource).in_type).in_view(current.row)
    wire.pop("id", None)
    _, problems = await validate(conn, resource, wire, record_id)
    if problems:
        raise _unprocessable(f"Cannot restore {resource.singular}", problems)
    revision = await _compare_and_set(conn, resource, current, {"deleted_at": None})
    return await _finish(conn, curator, resource, (record_id, "restore", revision), None)


async def write_transaction(
    engine: AsyncEngine,
    version: DataVersion,
    operation: Callable[[AsyncConnection], Awaitable[Written]],
) -> Written:
    """Run one operation in its own transaction, the dataset version bumped first; the
    version (and with it every cache) is invalidated once committed, in every process."""
    try:
        async with engine.begin() as conn:
            new_version = await version.bump(conn)  # first: serialises concurrent writers
            written = await operation(conn)
    except Unchanged as nothing:  # rolled back: not even the dataset version moved
        return nothing.written
    await version.committed(new_version)  # here, and in every process sharing Redis
    return written
