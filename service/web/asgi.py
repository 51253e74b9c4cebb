"""Raw ASGI helpers the middlewares share: header lists, the client address, whole responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from litestar.types import Message, Send

Headers = list[tuple[bytes, bytes]]


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def set_header(headers: Headers, name: bytes, value: bytes) -> None:
    headers[:] = [(k, v) for k, v in headers if k.lower() != name]
    headers.append((name, value))


def merge_vary(headers: Headers, tokens: Iterable[str]) -> None:
    seen: list[str] = []
    for key, value in headers:
        if key.lower() == b"vary":
            seen += [t.strip() for t in value.decode("latin-1").split(",") if t.strip()]
    lowered = {t.lower() for t in seen}
    seen += [t for t in tokens if t.lower() not in lowered]
    set_header(headers, b"vary", ", ".join(seen).encode("latin-1"))


def client_address(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def send_whole(send: Send, status: int, headers: Headers, body: bytes) -> None:
    """A complete response in two messages: start, then the one body."""
    await send(
        cast("Message", {"type": "http.response.start", "status": status, "headers": headers})
    )
    await send(cast("Message", {"type": "http.response.body", "body": body, "more_body": False}))
