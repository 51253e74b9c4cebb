"""`Idempotency-Key` on curator POSTs: a retry after a lost response gets the first response
again instead of a second record.

Per API key, a key names one request (its fingerprint: SHA-256 of method, path and body) and
the response it got, kept for 24 hours (`idempotency_keys`). The key row is inserted inside the
write's own transaction, after the dataset-version bump that serialises writers: a duplicate
sent while the first is still running waits for it, then finds the committed row and replays
its response (the unique (owner, key) constraint stops a second creation even without that
lock). Only a successful write stores a response: an error rolls the row back with the rest,
so a retry after an error runs again. The same key with another request is a 422.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.models import IdempotencyKey, table_of
from service.web.problems import ProblemError

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
keys = table_of(IdempotencyKey)

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Makes a retry safe: a unique string per request (a UUID, say), 1 to 255 "
        "visible ASCII characters. A repeat with the same key, method, path and body within "
        "24 hours (per API key) gets the first response again, with `Idempotent-Replayed: "
        "true`, and creates nothing; a repeat sent while the first is running waits for it. "
        "The same key with a different body is a 422 (`idempotency-key-reused`). Only "
        "successful responses are stored: after an error, a retry runs again.",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[\x21-\x7e]+$",
    ),
]


@dataclass(frozen=True, slots=True)
class Claim:
    """Who sends which key for which request."""

    owner: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, owner: str, key: str, method: str, path: str, body: bytes) -> Claim:
        """The claim a request makes: its fingerprint covers the method, path and body."""
        return cls(owner, key, fingerprint(method, path, body))


@dataclass(frozen=True, slots=True)
class Stored:
    """The response given to the first request of a key."""

    status: int
    body: bytes
    headers: dict[str, str]


class Replay(Exception):
    """Raised inside a write's transaction when the key was used already: roll back, replay."""

    def __init__(self, stored: Stored) -> None:
        super().__init__()
        self.stored = stored


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)  # length-prefixed: unambiguous
    return digest.hexdigest()


def _stored(row: Any, claim: Claim) -> Stored:
    if row["fingerprint"] != claim.fingerprint:
        raise ProblemError(
            "idempotency-key-reused",
            "This Idempotency-Key was used in the last 24 hours for a different request "
            "(method, path or body); use a new key for a new request.",
        )
    return Stored(row["status"], row["response_body"].encode(), dict(row["response_headers"]))


async def _find(conn: AsyncConnection, claim: Claim, now: datetime) -> Stored | None:
    stmt = sa.select(keys).where(
        keys.c.owner == claim.owner, keys.c.key == claim.key, keys.c.created_at >= now - TTL
    )
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else _stored(row, claim)


async def lookup(engine: AsyncEngine, claim: Claim) -> Stored | None:
    """The stored response of an earlier request with this key (422 if it was another
    request), outside any write: most retries are answered without taking the writer lock."""
    async with engine.connect() as conn:
        return await _find(conn, claim, datetime.now(UTC))


async def claim_key(conn: AsyncConnection, claim: Claim) -> None:
    """Inside the write's transaction: drop expired keys, replay if the key is taken (raises
    `Replay`), else take it. The response is filled in by `store` before commit."""
    now = datetime.now(UTC)
    await conn.execute(sa.delete(keys).where(keys.c.created_at < now - TTL))
    found = await _find(conn, claim, now)
    if found is not None:
        raise Replay(found)
    await conn.execute(
        sa.insert(keys).values(
            owner=claim.owner,
            key=claim.key,
            fingerprint=claim.fingerprint,
            status=0,
            response_body="",
            response_headers={},
            created_at=now,
        )
    )


async def store(conn: AsyncConnection, claim: Claim, response: Stored) -> None:
    await conn.execute(
        sa.update(keys)
        .where(keys.c.owner == claim.owner, keys.c.key == claim.key)
        .values(
            status=response.status,
            response_body=response.body.decode(),
            response_headers=response.headers,
        )
    )
