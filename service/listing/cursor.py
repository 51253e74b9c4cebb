"""Keyset cursors: a signed, typed position bound (by HMAC) to the one query it was issued for.
Every endpoint that pages (resource lists, search, changes) uses these functions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

import msgspec

from service.listing.columns import DECIMAL_TEXT, ColumnType
from service.web.errors import invalid

# HMAC-SHA256 truncated to 128 bits, for both the cursor's signature and its query binding.
TAG_BYTES = 16
MAX_CURSOR_LENGTH = 2048
CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+")


def query_binding(secret: bytes, endpoint: str, selection: Any, sort: Sequence[str]) -> str:
    """The one binding of a cursor to its query, used by every endpoint that pages: an HMAC
    over the canonical query (endpoint path, what selects the rows, the sort with its
    directions). A cursor issued for one query is refused by any other."""
    canonical = msgspec.json.encode([endpoint, selection, list(sort)])
    digest = hmac.new(secret, b"query-binding\x00" + canonical, hashlib.sha256).digest()
    return digest[:TAG_BYTES].hex()


class Cursor(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """Position after (or before) a row: its sort-key values and id, bound to one query."""

    direction: Literal["next", "prev"]
    values: list[str | int | bool | None]
    binding: str


def encode_cursor(cursor: Cursor, secret: bytes) -> str:
    payload = msgspec.json.encode(cursor)
    tag = hmac.new(secret, payload, hashlib.sha256).digest()[:TAG_BYTES]
    return base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")


def key_fits(value: Any, kind: ColumnType) -> bool:
    """Whether a cursor key is a value the sort column could hold (and the database accept)."""
    if value is None:
        return kind.nullable
    if kind.kind == "bool":
        return isinstance(value, bool)
    if kind.kind == "int":
        return type(value) is int and -kind.limit - 1 <= value <= kind.limit
    if not isinstance(value, str) or "\x00" in value:
        return False
    if kind.kind == "str":
        return kind.max_length is None or len(value) <= kind.max_length
    if not DECIMAL_TEXT.fullmatch(value) or "e" in value.lower():
        return False
    number = Decimal(value)
    return abs(number) < kind.limit and number == number.quantize(Decimal(1).scaleb(-kind.scale))


def decode_cursor(raw: str, secret: bytes, binding: str, keys: Sequence[ColumnType]) -> Cursor:
    """A signed cursor for this query, each key checked against its sort column's type;
    anything else is a 400 (never a database error)."""
    bad = invalid(
        "cursor", "malformed or tampered cursor; restart from the first page", "invalid_cursor"
    )
    if len(raw) > MAX_CURSOR_LENGTH or not CURSOR_TEXT.fullmatch(raw):
        raise bad
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    tag, payload = blob[:TAG_BYTES], blob[TAG_BYTES:]
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        raise bad
    try:
        cursor = msgspec.json.decode(payload, type=Cursor)
    except msgspec.DecodeError:
        raise bad from None
    if not hmac.compare_digest(cursor.binding.encode(), binding.encode()):
        raise invalid(
            "cursor", "cursor belongs to a different query; restart paging", "invalid_cursor"
        )
    if len(cursor.values) != len(keys):
        raise bad
    if not all(key_fits(v, k) for v, k in zip(cursor.values, keys, strict=True)):
        raise bad
    return cursor


def cursor_value(value: Any) -> str | int | bool | None:
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def typed_key(value: Any, kind: type[Any]) -> Any:
    if value is None:
        return None
    if kind is Decimal:
        return Decimal(str(value))
    return value
