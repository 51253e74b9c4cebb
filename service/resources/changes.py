"""The audit trail of curator writes, for sync clients: `GET /v1/changes?since=…`.

Public, like every read: what changed and when, with the wire representations the API serves
anyway. Who changed it (the API key id and curator name) is curator-only:
`GET /v1/curation/changes` needs an API key and is never cached or shared. Ascending change id, keyset-paged with the same
signed cursors as every list; `since` is a change id (exclusive) or an RFC 3339 time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, cast

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get
from litestar.openapi.spec import Example, OpenAPIType, Parameter, Schema

from service.auth import SECURITY, key_guard
from service.db import Db
from service.listing.columns import column_type
from service.listing.cursor import Cursor, decode_cursor, encode_cursor, query_binding
from service.listing.envelope import PageInfo, PageLinks, Total, page_url
from service.listing.handlers import cursor_secret
from service.listing.openapi import (
    operation_with,
    page_parameters,
    query_parameter,
)
from service.listing.params import parse_count, parse_limit, reject_unknown, single_param
from service.models import Change, table_of
from service.resources.registry import WRITABLE
from service.web.errors import COMMON_ERRORS, invalid, problem_spec
from service.web.wire import WireResponse

RESOURCES = tuple(r.name for r in WRITABLE)
CURATOR_READ_ERRORS = {
    **{status: spec for status, spec in COMMON_ERRORS.items() if status != 304},
    401: problem_spec("No API key, or an unknown or revoked one (`WWW-Authenticate: Bearer`)."),
}
# A Literal built from the registry: the resources curators can write.
ResourceName = Literal[RESOURCES]  # type: ignore[valid-type]
PARAMS = frozenset({"since", "resource", "limit", "cursor", "count"})
changes = table_of(Change)
# A change id, or an RFC 3339 time with offset (days ≤ 28 here only so every string the
# pattern admits is a real date; the server accepts any valid time).
SINCE_PATTERN = (
    r"^([0-9]{1,18}|[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[Tt]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))$"
)
# What the server checks before parsing: ASCII digits only (int() and fromisoformat() also
# take other Unicode digits), any real date.
SINCE_ID = re.compile(r"[0-9]{1,18}")
MAX_CHANGE_ID = 2**31 - 1
SINCE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class Actor(msgspec.Struct):
    """The API key that made the change."""

    key_id: str
    name: str


class ChangeOut(msgspec.Struct):
    """One write: `before`/`after` are the record's representation (null on create/delete)."""

    id: int
    at: datetime
    resource: ResourceName
    record_id: str
    action: Literal["create", "update", "delete", "restore"]
    revision: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ChangePage(msgspec.Struct):
    """A page of changes, oldest first."""

    data: list[ChangeOut]
    page: PageInfo
    links: PageLinks
    total: Total


class CuratorChangeOut(ChangeOut):
    """A change and the API key that made it."""

    actor: Actor


class CuratorChangePage(msgspec.Struct):
    """A page of changes with their actors, oldest first."""

    data: list[CuratorChangeOut]
    page: PageInfo
    links: PageLinks
    total: Total


def _parameters() -> list[Parameter]:
    return [
        query_parameter(
            "since",
            "Only changes after this: a change id (exclusive) or an RFC 3339 time with offset "
            "(`2026-01-01T00:00:00Z`).",
            Schema(type=OpenAPIType.STRING, max_length=40, pattern=SINCE_PATTERN),
            examples={"id": Example(value="0")},
        ),
        query_parameter(
            "resource",
            "Only changes to this resource.",
            Schema(type=OpenAPIType.STRING, enum=list(RESOURCES)),
        ),
        *page_parameters("Opaque cursor from `page.next_cursor`, bound to `since` and `resource`."),
    ]


def parse_since(raw: str | None) -> int | datetime | None:
    """A change id or an aware UTC time; anything else (other digits too) is a 400."""
    if raw is None:
        return None
    if SINCE_ID.fullmatch(raw):
        # Change ids are 32-bit on PostgreSQL: a larger one bound as-is is a driver error (a
        # 500 found by schemathesis); no change is after the largest, so clamping keeps meaning.
        return min(int(raw), MAX_CHANGE_ID)
    bad = invalid(
        "since",
        "expected a change id or an RFC 3339 time with offset (ASCII digits)",
        "invalid_value",
    )
    if not SINCE_TIME.fullmatch(raw):
        raise bad
    try:
        # RFC 3339 allows lowercase t and z; in UTC, so an offset past year 1 or 9999 is a 400.
        return datetime.fromisoformat(raw.upper()).astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad from None


def _since(since: int | datetime | None) -> sa.ColumnElement[bool] | None:
    if since is None:
        return None
    if isinstance(since, int):
        return changes.c.id > since
    return changes.c.at > since


async def _changes_page(
    request: Request[Any, Any, Any], db: Db, path: str
) -> tuple[list[Any], PageInfo, PageLinks, Total, dict[str, str]]:
    """The rows of one page of changes, with its paging parts and `Link` header."""
    reject_unknown(request.query_params, PARAMS)
    limit = parse_limit(request.query_params)
    count = parse_count(request.query_params)
    since = parse_since(single_param(request.query_params, "since"))
    resource = single_param(request.query_params, "resource")
    if resource is not None and resource not in RESOURCES:
        raise invalid("resource", "expected one of: " + ", ".join(RESOURCES), "not_allowed")
    where = [c for c in (_since(since),) if c is not None]
    if resource is not None:
        where.append(changes.c.resource == resource)
    secret = cursor_secret(request)
    canonical_since = since.isoformat() if isinstance(since, datetime) else since
    binding = query_binding(secret, path, [canonical_since, resource], ["id"])
    raw_cursor = single_param(request.query_params, "cursor")
    keys = [column_type(changes.c.id)]
    cursor = decode_cursor(raw_cursor, secret, binding, keys) if raw_cursor else None
    if cursor is not None and cursor.direction != "next":
        raise invalid(
            "cursor", "malformed or tampered cursor; restart from the first page", "invalid_cursor"
        )
    stmt = sa.select(changes).where(*where)
    if cursor is not None:
        stmt = stmt.where(changes.c.id > cast(int, cursor.values[0]))
    rows = list((await db.execute(stmt.order_by(changes.c.id).limit(limit + 1))).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(Cursor("next", [rows[-1]["id"]], binding), secret) if rows and more else None
    )
    total: int | None = None
    if count:
        total = int(
            await db.scalar(sa.select(sa.func.count()).select_from(changes).where(*where)) or 0
        )
    next_url = page_url(request, next_cursor) if next_cursor else None
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return (
        rows,
        PageInfo(limit, next_cursor, None),
        PageLinks(page_url(request, raw_cursor), next_url, None),
        Total(total, "exact" if count else "none"),
        headers,
    )


def _change(r: Any) -> ChangeOut:
    return ChangeOut(
        id=r["id"],
        at=r["at"],
        resource=r["resource"],
        record_id=r["record_id"],
        action=r["action"],
        revision=r["revision"],
        before=r["before"],
        after=r["after"],
    )


class ChangesController(Controller):
    path = "/changes"
    tags = ["Changes"]

    @get(
        "/",
        operation_id="listChanges",
        summary="List changes (what changed, when) for sync clients",
        description="Every create, update, delete and restore made through the write API, "
        "oldest first, with the record before and after. Poll with `since=<last id seen>`. "
        "Who made a change (curator and key) is curator-only: `GET /v1/curation/changes`.",
        operation_class=operation_with("ChangesOperation", _parameters),
        responses=COMMON_ERRORS,
    )
    async def list_changes(self, request: Request[Any, Any, Any], db: Db) -> Response[ChangePage]:
        rows, page, links, total, headers = await _changes_page(request, db, "/v1/changes")
        body = ChangePage([_change(r) for r in rows], page, links, total)
        return WireResponse(body, headers=headers)


class CuratorChangesController(Controller):
    path = "/curation/changes"
    tags = ["Changes (curation)"]

    @get(
        "/",
        operation_id="listCuratorChanges",
        summary="List changes with who made them (curators only)",
        description="The audit trail of `GET /v1/changes`, each change with the API key that "
        "made it (its public id and the curator's name). Needs an API key (any role); never "
        "cached or shared (`Cache-Control: private, no-store`).",
        operation_class=operation_with("ChangesOperation", _parameters),
        responses=CURATOR_READ_ERRORS,
        guards=[key_guard],
        security=SECURITY,
    )
    async def list_curator_changes(
        self, request: Request[Any, Any, Any], db: Db
    ) -> Response[CuratorChangePage]:
        path = "/v1/curation/changes"
        rows, page, links, total, headers = await _changes_page(request, db, path)
        items = [
            CuratorChangeOut(
                **msgspec.structs.asdict(_change(r)), actor=Actor(r["key_id"], r["key_name"])
            )
            for r in rows
        ]
        body = CuratorChangePage(items, page, links, total)
        return WireResponse(body, headers=headers | {"Cache-Control": "private, no-store"})
