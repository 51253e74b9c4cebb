"""The checks the edge runs before routing: 414, 413, 429, 400 (unclean target) and 406."""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes

from service.settings import Settings
from service.web.asgi import Headers, client_address, header
from service.web.errors import InvalidParam
from service.web.negotiation import accepts_json
from service.web.paths import JSON_ONLY_PREFIXES, OPERATIONAL_PREFIXES
from service.web.ratelimit import RateLimiter

MAX_PATH_LENGTH = 2048
# C0 controls (NUL included), DEL and C1 controls: never meaningful in a path or parameter, and
# PostgreSQL cannot even store NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Rejection(NamedTuple):
    """The answer a guard gives instead of the app: a problem+json with these parts."""

    status: int
    detail: str
    headers: Headers
    params: list[InvalidParam]


async def reject(
    scope: dict[str, Any],
    headers: Headers,
    settings: Settings,
    limiter: RateLimiter | None,
    rate_headers: Headers,
) -> Rejection | None:
    """The first guard that refuses the request, or None to let it in. A rate-limited path
    counts as one hit and gets its `RateLimit-*` headers appended to `rate_headers`."""
    if (too_large := _too_large(scope, headers, settings)) is not None:
        return too_large
    if (limited := await _rate_limited(scope, limiter, rate_headers)) is not None:
        return limited
    if (bad := bad_target(scope)) is not None:
        where = "path" if bad.location == "path" else f"parameter {bad.name!r}"
        return Rejection(400, f"Invalid {where}: {bad.reason}", [], [bad])
    accept = header(headers, b"accept")
    if (
        scope["path"].startswith(JSON_ONLY_PREFIXES)
        and accept
        and not accepts_json(accept.decode("latin-1"))
    ):
        return Rejection(406, "This resource is served as application/json only.", [], [])
    return None


def _too_large(scope: dict[str, Any], headers: Headers, settings: Settings) -> Rejection | None:
    """414 for a long query string or path, 413 for a declared body over the limit."""
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    if len(query) > settings.max_query_length:
        detail = f"The query string may be at most {settings.max_query_length} bytes."
        return Rejection(414, detail, [], [])
    if len((scope.get("raw_path") or path.encode()).partition(b"?")[0]) > MAX_PATH_LENGTH:
        return Rejection(414, f"The path may be at most {MAX_PATH_LENGTH} bytes.", [], [])
    length = header(headers, b"content-length")
    if length is not None and (
        not length.isascii() or not length.isdigit() or int(length) > settings.max_body_bytes
    ):
        detail = f"The request body may be at most {settings.max_body_bytes} bytes."
        return Rejection(413, detail, [], [])
    return None


async def _rate_limited(
    scope: dict[str, Any], limiter: RateLimiter | None, rate_headers: Headers
) -> Rejection | None:
    """429 past the per-client budget; operational paths are never limited."""
    if limiter is None or scope["path"].startswith(OPERATIONAL_PREFIXES):
        return None
    allowed, remaining, reset = await limiter.take(client_address(scope))
    rate_headers += limiter.budget_headers(remaining, reset)
    if allowed:
        return None
    detail = f"More than {limiter.limit} requests in a minute; retry in {reset} s."
    return Rejection(429, detail, [(b"retry-after", str(reset).encode())], [])


def bad_target(scope: dict[str, Any]) -> InvalidParam | None:
    """The first part of the request target that is not clean text: percent-escapes that are
    not UTF-8 (Litestar would silently turn them into U+FFFD) or control characters."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    raw_path = raw_path.partition(b"?")[0]  # some servers (and httpx's transport) include it
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return InvalidParam(
            "path", "percent-escapes that are not UTF-8", "invalid_encoding", "path"
        )
    if CONTROL_CHARACTERS.search(path):
        return InvalidParam("path", "contains a control character", "control_character", "path")
    query: bytes = scope.get("query_string", b"")
    for pair in query.split(b"&") if query else ():
        raw_name, _, raw_value = pair.partition(b"=")
        shown = raw_name.decode("latin-1")[:64]
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return InvalidParam(shown, "percent-escapes that are not UTF-8", "invalid_encoding")
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
            return InvalidParam(shown, "contains a control character", "control_character")
    return None
