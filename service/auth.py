"""Bearer API keys for the curator write API.

A token is `lcp_<key id>_<secret>`: the key id (8 hex characters, public, shown by
`python -m service.keys list` and recorded in the audit trail) finds the row; only the SHA-256
of the whole token is stored, and it is compared in constant time. Tokens are printed once, at
creation. Roles: `editor` may write; `reader` is authenticated but read-only (403 on writes).
Reads need no key at all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.models import ApiKey, table_of

ROLES = ("editor", "reader")
PREFIX = "lcp"
SECURITY_SCHEME = "bearerAuth"
SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
BEARER_SCHEME = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="lcp_<key id>_<secret>",
    description="Curator API key (`python -m service.keys create --name … --role editor`). "
    "Only write operations need one.",
)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="lishui-api"'}
KEY_ID = re.compile(r"[0-9a-f]{8}")

keys = table_of(ApiKey)


@dataclass(frozen=True, slots=True)
class Curator:
    """Who is writing: the key's public id and name."""

    key_id: str
    name: str
    role: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(key id, token): 32 random bytes of secret behind a short public id."""
    key_id = secrets.token_hex(4)
    return key_id, f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


async def create_key(conn: AsyncConnection, name: str, role: str) -> tuple[str, str]:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key_id, token = new_token()
    await conn.execute(
        sa.insert(keys).values(
            id=key_id,
            name=name,
            role=role,
            secret_sha256=token_digest(token),
            created_at=datetime.now(UTC),
        )
    )
    return key_id, token


async def revoke_key(conn: AsyncConnection, key_id: str) -> bool:
    result = await conn.execute(
        sa.update(keys)
        .where(keys.c.id == key_id, keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(result.rowcount)


async def list_keys(conn: AsyncConnection) -> list[dict[str, Any]]:
    stmt = sa.select(keys.c.id, keys.c.name, keys.c.role, keys.c.created_at, keys.c.revoked_at)
    return [dict(r) for r in (await conn.execute(stmt.order_by(keys.c.created_at))).mappings()]


def _unauthorized(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers=CHALLENGE)


async def authenticate(engine: AsyncEngine, authorization: str | None) -> Curator:
    """The curator behind an `Authorization: Bearer …` header, or a 401."""
    if not authorization:
        raise _unauthorized("This operation needs an API key: `Authorization: Bearer <key>`.")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    parts = token.split("_", 2)
    if (
        scheme.lower() != "bearer"
        or len(parts) != 3
        or parts[0] != PREFIX
        or len(token) > 200
        or KEY_ID.fullmatch(parts[1]) is None  # checked before it reaches the database
    ):
        raise _unauthorized("Malformed API key.")
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(keys).where(keys.c.id == parts[1]))).mappings().first()
    # Compare even when the id is unknown, so timing does not tell ids apart.
    stored = row["secret_sha256"] if row is not None else "0" * 64
    if not hmac.compare_digest(stored, token_digest(token)) or row is None:
        raise _unauthorized("Unknown or revoked API key.")
    if row["revoked_at"] is not None:
        raise _unauthorized("Unknown or revoked API key.")
    return Curator(row["id"], row["name"], row["role"])


async def key_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar guard on curator-only reads: any valid key (a `reader` one too)."""
    connection.state.curator = await authenticate(
        connection.app.state.engine, connection.headers.get("authorization")
    )


async def editor_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar guard on every write: runs before the body is parsed, so a request without a
    valid key is a 401 whatever it sends."""
    curator = await authenticate(
        connection.app.state.engine, connection.headers.get("authorization")
    )
    if curator.role != "editor":
        raise PermissionDeniedException(
            detail=f"Key {curator.key_id} is read-only ({curator.role})."
        )
    connection.state.curator = curator
