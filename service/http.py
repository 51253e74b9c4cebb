"""The HTTP layer: what every response gets, whatever the handler.

Two ASGI pieces, wired by `HttpLayer` (see `create_app`):

- `EdgeMiddleware` wraps the whole Litestar app, so it also sees requests that match no route:
  request id, one JSON access-log line, Prometheus counters, security / `Cache-Control` / `Vary`
  headers, HEAD, and the guards that answer before routing (414, 413, 429, 406). Any error
  that is not already problem+json becomes one.
- `CacheMiddleware` runs per route (inside CORS, outside compression), so it stores the bytes
  actually sent: strong `ETag` (hash of the body, plus the dataset version on `/v1`),
  `If-None-Match` → 304, and a server-side cache keyed on method, path, sorted query, `Accept`
  and `Accept-Encoding`, emptied whenever the dataset version moves.

`DataVersion` re-reads `dataset.version` at most once per `version_check_seconds`; code that
changes data calls `data_version(app).invalidate()` (or `bump`) to make it visible at once.
Database faults map to 503 problem+json with `Retry-After` (`UNAVAILABLE_HANDLERS`).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import logging
import math
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import unquote_to_bytes

import msgspec
import sqlalchemy as sa
from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.logging.config import LoggingConfig
from litestar.middleware.base import DefineMiddleware
from litestar.params import HeaderParameter
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ASGIApp, ExceptionHandlersMap, Message, Receive, Scope, Send
from prometheus_client import Counter, Histogram
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.models import Dataset, table_of
from service.problems import (
    PROBLEM_MEDIA_TYPE,
    InvalidParam,
    Problem,
    problem_bytes,
    problem_response,
    title_for,
)
from service.settings import Settings

Headers = list[tuple[bytes, bytes]]

# Paths that are operational rather than data: never rate limited, cached or ETagged.
OPERATIONAL_PREFIXES = ("/health", "/metrics")
# Browser-rendered pages (Swagger UI, ReDoc) and their assets get a looser CSP.
DOCS_PREFIXES = ("/docs", "/static/")
DATA_PREFIX = "/v1"
# Paths whose only representation is JSON: an `Accept` that excludes it is a 406.
JSON_ONLY_PREFIXES = (DATA_PREFIX, "/health")

MAX_PATH_LENGTH = 2048
# Responses larger than this are streamed as produced: no ETag, not cached.
MAX_BUFFERED_BYTES = 8 * 1024 * 1024
RETRY_AFTER_UNAVAILABLE = 5

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI runs an inline init script and both UIs inject inline styles; ReDoc searches in a
# blob: worker. Everything else stays on this origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
RATE_LIMIT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
)
EXPOSED_HEADERS = ["Link", "ETag", "X-Request-ID", "Retry-After", *RATE_LIMIT_HEADERS]
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# C0 controls (NUL included), DEL and C1 controls: never meaningful in a path or parameter, and
# PostgreSQL cannot even store NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("service.access")
error_log = logging.getLogger("service.errors")

# One set of instruments per process (the Prometheus registry is global).
REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to the last byte of the response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CACHE_EVENTS = Counter(
    "http_response_cache_total", "Server-side response cache lookups.", ["result"]
)


# ---------------------------------------------------------------- headers


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


QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
# Every representation the service has: JSON, problem+json, and the list exports
# (service/query.py), in the server's order of preference.
SERVED_MEDIA_TYPES = ("application/json", PROBLEM_MEDIA_TYPE, "text/csv", "application/x-ndjson")


def parse_accept(accept: str) -> list[tuple[str, float]]:
    """`Accept` media ranges with their q-values (RFC 9110 §12.5.1), lowercased; a range with
    an invalid q-value is ignored."""
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            continue
        quality: float | None = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if QVALUE.fullmatch(value) else None
        if quality is not None:
            ranges.append((media.lower(), quality))
    return ranges


def quality_of(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q-value of `media_type`: from the most specific matching range (`type/subtype` over
    `type/*` over `*/*`); 0 when none matches."""
    kind = media_type.split("/")[0] + "/*"
    best: tuple[int, float] = (-1, 0.0)
    for media, quality in ranges:
        rank = 2 if media == media_type else 1 if media == kind else 0 if media == "*/*" else -1
        if rank > best[0]:
            best = (rank, quality)
    return best[1]


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers: highest q-value, then the server's order. No header: the
    first offer; nothing acceptable: None."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    scored = [(quality_of(ranges, offer), -i, offer) for i, offer in enumerate(offers)]
    quality, _, offer = max(scored)
    return offer if quality > 0 else None


def accepts_json(accept: str) -> bool:
    """Whether an `Accept` header admits a representation we serve: JSON, problem+json, or a
    CSV/NDJSON export (q-values honoured: `application/json;q=0` excludes JSON)."""
    return negotiate(accept, SERVED_MEDIA_TYPES) is not None


def bad_target(scope: dict[str, Any]) -> InvalidParam | None:
    """The first part of the request target that is not clean text: percent-escapes that are
    not UTF-8 (Litestar would silently turn them into U+FFFD) or control characters."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    raw_path = raw_path.partition(b"?")[0]  # some servers (and httpx's transport) include it
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return InvalidParam("path", "percent-escapes that are not UTF-8", "path")
    if CONTROL_CHARACTERS.search(path):
        return InvalidParam("path", "contains a control character", "path")
    query: bytes = scope.get("query_string", b"")
    for pair in query.split(b"&") if query else ():
        raw_name, _, raw_value = pair.partition(b"=")
        shown = raw_name.decode("latin-1")[:64]
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return InvalidParam(shown, "percent-escapes that are not UTF-8")
        if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
            return InvalidParam(shown, "contains a control character")
    return None


def etag_matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` uses the weak comparison (RFC 9110 §13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def sorted_query(query: bytes) -> bytes:
    """Order parameters by name; repeated names keep their order (it can matter)."""
    if not query:
        return b""
    ordered = sorted(query.split(b"&"), key=_param_name)
    return b"&".join(ordered)


def _param_name(pair: bytes) -> bytes:
    return pair.partition(b"=")[0]


def public_url(settings: Settings, path: str) -> str:
    """The URL the service sends for one of its own paths (`/v1/…?…`): absolute from
    `PUBLIC_BASE_URL` when set, else a relative reference. Never built from `Host` or
    `X-Forwarded-*`: cached responses are shared by every client."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"not a path on this service: {path!r}")
    base = settings.public_base_url
    return f"{base}{path}" if base else path


# ---------------------------------------------------------------- dataset version


class DataVersion:
    """The loaded dataset's version, as this process last read it (0 before any seed)."""

    def __init__(self, ttl: float, on_change: Callable[[], None]) -> None:
        self.ttl = ttl
        self._on_change = on_change
        self._engine: Callable[[], AsyncEngine] | None = None
        self._value: int | None = None
        self._read_at = -math.inf
        self._lock = asyncio.Lock()

    def bind(self, engine: Callable[[], AsyncEngine]) -> None:
        self._engine = engine

    async def current(self) -> int:
        """The version, re-read from the database at most once per `ttl` seconds."""
        if self._value is not None and time.monotonic() - self._read_at < self.ttl:
            return self._value
        async with self._lock:
            # Another request may have refreshed it while this one waited.
            if self._value is not None and time.monotonic() - self._read_at < self.ttl:
                return self._value
            return await self.refresh()

    async def refresh(self) -> int:
        """Read the version now; raises if the database is down.

        No deadline of its own: requests rely on the engine's connect timeout (so a busy
        machine does not turn slow reads into 503s); the readiness probe sets one.
        """
        assert self._engine is not None, "DataVersion used before the app started"
        async with self._engine().connect() as conn:
            version = await conn.scalar(sa.select(_dataset.c.version).where(_dataset.c.id == 1))
        self._set(int(version or 0))
        return int(version or 0)

    def invalidate(self) -> None:
        """Forget the version and every cached response: the next request re-reads both."""
        self._read_at = -math.inf
        self._on_change()

    async def bump(self, conn: AsyncConnection) -> int:
        """Advance the version inside the caller's transaction (for write endpoints).

        Call `invalidate()` once that transaction has committed.
        """
        await conn.execute(
            sa.update(_dataset).where(_dataset.c.id == 1).values(version=_dataset.c.version + 1)
        )
        version = await conn.scalar(sa.select(_dataset.c.version).where(_dataset.c.id == 1))
        return int(version or 0)

    def _set(self, version: int) -> None:
        if version != self._value:
            self._on_change()
        self._value, self._read_at = version, time.monotonic()


_dataset = table_of(Dataset)


# ---------------------------------------------------------------- response cache


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    headers: Headers
    body: bytes
    etag: str
    # False for responses that must not be replayed to other clients (they set a cookie).
    shareable: bool = True


class ResponseCache:
    """LRU over whole responses, bounded by body bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], CachedResponse] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[Any, ...]) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[Any, ...], entry: CachedResponse) -> None:
        size = len(entry.body)
        if size > self.max_bytes // 8:  # one big body must not flush everything else
            return
        if (old := self._entries.pop(key, None)) is not None:
            self._bytes -= len(old.body)
        self._entries[key] = entry
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


# ---------------------------------------------------------------- rate limit


class RateLimiter:
    """Fixed one-minute window per client; memory is swept once per window."""

    WINDOW = 60.0

    def __init__(self, per_minute: int) -> None:
        self.limit = per_minute
        self._windows: dict[str, list[float]] = {}  # client -> [window start, count]
        self._swept = time.monotonic()

    def hit(self, client: str) -> tuple[bool, int, int]:
        """Count one request: (allowed, remaining, seconds until the window resets)."""
        now = time.monotonic()
        if now - self._swept > self.WINDOW:
            self._windows = {k: w for k, w in self._windows.items() if now - w[0] < self.WINDOW}
            self._swept = now
        window = self._windows.get(client)
        if window is None or now - window[0] >= self.WINDOW:
            window = self._windows[client] = [now, 0]
        window[1] += 1
        reset = max(1, math.ceil(window[0] + self.WINDOW - now))
        return window[1] <= self.limit, max(0, self.limit - int(window[1])), reset


# ---------------------------------------------------------------- logging


_RECORD_FIELDS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _RECORD_FIELDS)
        if "request_id" not in entry and (request_id := REQUEST_ID.get()) is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


def logging_config(settings: Settings) -> LoggingConfig:
    # Litestar's default handlers use the formatter named "standard": make it JSON.
    return LoggingConfig(
        formatters={"standard": {"()": JsonFormatter}},
        loggers={
            "litestar": {"level": "INFO", "handlers": ["queue_listener"], "propagate": False},
            "service": {"level": settings.log_level, "propagate": True},
        },
    )


# ---------------------------------------------------------------- database faults


def handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # One line, no trace: an outage would otherwise flood the log with identical stacks.
    error_log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        extra={"error": str(exc).splitlines()[0][:200] if str(exc) else ""},
    )
    return problem_response(
        503,
        "The database is unreachable; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
    )


def _unavailable_exceptions() -> list[type[Exception]]:
    # OSError covers refused/reset connections and timeouts (asyncpg raises them unwrapped);
    # OperationalError covers SQLite's "unable to open", "locked" and a missing schema.
    kinds: list[type[Exception]] = [
        OSError,
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,
    ]
    try:
        import asyncpg  # type: ignore[import-untyped]

        kinds += [asyncpg.PostgresConnectionError, asyncpg.InterfaceError]
        kinds += [asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError]
    except ImportError:  # pragma: no cover - asyncpg is a dependency, but SQLite needs none
        pass
    return kinds


UNAVAILABLE_HANDLERS: ExceptionHandlersMap = dict.fromkeys(
    _unavailable_exceptions(), handle_unavailable
)


class ServiceUnavailable(HTTPException):
    status_code = 503

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})


# ---------------------------------------------------------------- edge middleware


class EdgeMiddleware:
    """Outermost ASGI layer: runs for every request, matched or not."""

    def __init__(self, app: ASGIApp, layer: HttpLayer) -> None:
        self.app = app
        self.layer = layer
        self.settings = layer.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        http = cast("dict[str, Any]", scope)
        started = time.perf_counter()
        request_headers: Headers = http["headers"]
        request_id = _request_id(header(request_headers, b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        http.setdefault("state", {})["request_id"] = request_id
        method: str = http["method"]
        path: str = http["path"]
        if method == "HEAD":  # served as GET without the body (RFC 9110 §9.3.2)
            http["method"] = "GET"
        result = _Outcome()
        rate_headers: Headers = []
        try:
            rejection = self._reject(http, request_headers, rate_headers)
            wrapped = self._wrap_send(send, http, method, request_id, rate_headers, result)
            if rejection is not None:
                status, detail, extra, params = rejection
                await _send_problem(
                    wrapped,
                    status,
                    detail,
                    extra + self.layer.cors_headers(request_headers),
                    params,
                )
            else:
                await self.app(scope, self._limit_body(receive), wrapped)
        except Exception:
            error_log.exception("unhandled error in the HTTP layer on %s %s", method, path)
            if result.status:
                raise
            await _send_problem(
                self._wrap_send(send, http, method, request_id, rate_headers, result),
                500,
                "The server could not complete the request.",
                [],
            )
        finally:
            duration = time.perf_counter() - started
            route = http.get("path_template") or "unmatched"
            REQUESTS.labels(method, route, str(result.status)).inc()
            LATENCY.labels(method, route).observe(duration)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": result.status,
                    "duration_ms": round(duration * 1000, 2),
                    "bytes": result.bytes,
                    "client": _client(http),
                    "request_id": request_id,
                },
            )
            REQUEST_ID.reset(token)

    def _reject(
        self, scope: dict[str, Any], headers: Headers, rate_headers: Headers
    ) -> tuple[int, str, Headers, list[InvalidParam]] | None:
        """The guards: a (status, detail, headers, invalid params) answer, or None to let the
        request in."""
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if len(query) > self.settings.max_query_length:
            return (
                414,
                f"The query string may be at most {self.settings.max_query_length} bytes.",
                [],
                [],
            )
        if len((scope.get("raw_path") or path.encode()).partition(b"?")[0]) > MAX_PATH_LENGTH:
            return 414, f"The path may be at most {MAX_PATH_LENGTH} bytes.", [], []
        length = header(headers, b"content-length")
        if length is not None and (
            not length.isascii()
            or not length.isdigit()
            or int(length) > self.settings.max_body_bytes
        ):
            detail = f"The request body may be at most {self.settings.max_body_bytes} bytes."
            return 413, detail, [], []
        limiter = self.layer.limiter
        if limiter is not None and not path.startswith(OPERATIONAL_PREFIXES):
            allowed, remaining, reset = limiter.hit(_client(scope))
            rate_headers += [
                (b"ratelimit-limit", str(limiter.limit).encode()),
                (b"ratelimit-remaining", str(remaining).encode()),
                (b"ratelimit-reset", str(reset).encode()),
                (b"ratelimit-policy", f"{limiter.limit};w={int(limiter.WINDOW)}".encode()),
            ]
            if not allowed:
                detail = f"More than {limiter.limit} requests in a minute; retry in {reset} s."
                return 429, detail, [(b"retry-after", str(reset).encode())], []
        if (bad := bad_target(scope)) is not None:
            where = "path" if bad.location == "path" else f"parameter {bad.name!r}"
            return 400, f"Invalid {where}: {bad.reason}", [], [bad]
        accept = header(headers, b"accept")
        if (
            path.startswith(JSON_ONLY_PREFIXES)
            and accept
            and not accepts_json(accept.decode("latin-1"))
        ):
            return 406, "This resource is served as application/json only.", [], []
        return None

    def _limit_body(self, receive: Receive) -> Receive:
        # Content-Length is checked up front; this catches chunked bodies that grow past it.
        limit, seen = self.settings.max_body_bytes, 0

        async def wrapped() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(
                        status_code=413, detail=f"The request body may be at most {limit} bytes."
                    )
            return message

        return wrapped

    def _wrap_send(
        self,
        send: Send,
        scope: dict[str, Any],
        method: str,
        request_id: str,
        rate_headers: Headers,
        result: _Outcome,
    ) -> Send:
        path: str = scope["path"]
        is_get = method in {"GET", "HEAD"}
        replace_body = False

        async def wrapped(message: Message) -> None:
            nonlocal replace_body
            msg = cast("dict[str, Any]", message)
            if msg["type"] == "http.response.start":
                status: int = msg["status"]
                headers: Headers = list(msg.get("headers") or [])
                content_type = (header(headers, b"content-type") or b"").decode("latin-1")
                if status >= 400 and not content_type.startswith(PROBLEM_MEDIA_TYPE):
                    # Whatever produced it (CORS preflight, a framework default), errors are
                    # problem+json: keep the headers, replace the body.
                    replace_body = True
                    body = problem_bytes(status)
                    set_header(headers, b"content-type", PROBLEM_MEDIA_TYPE.encode())
                    set_header(headers, b"content-length", str(len(body)).encode())
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-encoding"]
                    msg = {**msg, "headers": headers}
                    self._start(headers, path, is_get, status, request_id, rate_headers)
                    result.status = status
                    result.bytes = 0 if method == "HEAD" else len(body)
                    await send(cast("Message", msg))
                    await send(
                        cast(
                            "Message",
                            {
                                "type": "http.response.body",
                                "body": b"" if method == "HEAD" else body,
                                "more_body": False,
                            },
                        )
                    )
                    return
                self._start(headers, path, is_get, status, request_id, rate_headers)
                result.status = status
                msg = {**msg, "headers": headers}
            elif msg["type"] == "http.response.body":
                if replace_body:
                    return
                result.bytes += len(msg.get("body", b""))
                if method == "HEAD":
                    result.bytes = 0
                    msg = {**msg, "body": b""}
            await send(cast("Message", msg))

        return wrapped

    def _start(
        self,
        headers: Headers,
        path: str,
        is_get: bool,
        status: int,
        request_id: str,
        rate_headers: Headers,
    ) -> None:
        headers.extend(SECURITY_HEADERS)
        csp = DOCS_CSP if path.startswith(DOCS_PREFIXES) else API_CSP
        set_header(headers, b"content-security-policy", csp.encode())
        set_header(headers, b"x-request-id", request_id.encode())
        headers.extend(rate_headers)
        location = header(headers, b"location")
        if location is not None and location.startswith(b"/") and not location.startswith(b"//"):
            # Handlers give paths; the one URL builder makes them absolute when configured.
            url = public_url(self.settings, location.decode("latin-1"))
            set_header(headers, b"location", url.encode("latin-1"))
        if status >= 400 or path.startswith(OPERATIONAL_PREFIXES):
            set_header(headers, b"cache-control", b"no-store")
        elif is_get and status in (200, 203, 304) and header(headers, b"cache-control") is None:
            max_age = self.settings.cache_max_age
            set_header(headers, b"cache-control", f"public, max-age={max_age}".encode())
        if is_get:
            merge_vary(headers, ["Accept", "Accept-Encoding"])
        allow = header(headers, b"allow")
        if allow is not None and b"GET" in allow and b"HEAD" not in allow:
            set_header(headers, b"allow", allow + b", HEAD")


@dataclass(slots=True)
class _Outcome:
    status: int = 0
    bytes: int = 0


def _request_id(value: bytes | None) -> str:
    """The client's `X-Request-ID` if it is sane (≤128 of A-Z a-z 0-9 . _ : -), else a new one."""
    if value is not None:
        text = value.decode("latin-1")
        if REQUEST_ID_PATTERN.fullmatch(text):
            return text
    return uuid.uuid4().hex


def _client(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _send_problem(
    send: Send,
    status: int,
    detail: str,
    headers: Headers,
    params: list[InvalidParam] | None = None,
) -> None:
    problem = Problem(title_for(status), status, detail=detail, invalid_params=params or None)
    body = msgspec.json.encode(problem)
    await send(
        cast(
            "Message",
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            },
        )
    )
    await send(cast("Message", {"type": "http.response.body", "body": body, "more_body": False}))


# ---------------------------------------------------------------- cache middleware


class CacheMiddleware:
    """Per-route: ETag, 304 and the server-side response cache for GETs."""

    def __init__(self, app: ASGIApp, layer: HttpLayer) -> None:
        self.app = app
        self.layer = layer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = cast("dict[str, Any]", scope)
        path: str = http.get("path", "")
        if (
            scope["type"] != ScopeType.HTTP
            or http["method"] != "GET"
            or path.startswith(OPERATIONAL_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        headers: Headers = http["headers"]
        # Data depends on the dataset version (a database read at most once a second; if the
        # database is down this raises and the request is a 503).
        version = await self.layer.versions.current() if path.startswith(DATA_PREFIX) else None
        key = (
            version,
            path,
            sorted_query(http.get("query_string", b"")),
            header(headers, b"accept") or b"",
            header(headers, b"accept-encoding") or b"",
        )
        cache = self.layer.cache
        entry = cache.get(key) if cache is not None else None
        CACHE_EVENTS.labels("hit" if entry is not None else "miss").inc()
        if entry is None:
            entry = await self._render(scope, receive, send, version)
            if entry is None:  # already sent: not cacheable
                return
            if cache is not None and entry.shareable:
                cache.put(key, entry)
        if_none_match = header(headers, b"if-none-match")
        if if_none_match is not None and etag_matches(if_none_match.decode("latin-1"), entry.etag):
            kept = [(k, v) for k, v in entry.headers if k.lower() in _KEPT_ON_304]
            await _send_raw(send, 304, [*kept, (b"etag", entry.etag.encode())], b"")
            return
        await _send_raw(
            send, entry.status, [*entry.headers, (b"etag", entry.etag.encode())], entry.body
        )

    async def _render(
        self, scope: Scope, receive: Receive, send: Send, version: int | None
    ) -> CachedResponse | None:
        """Run the handler; return the 200 to send, or pass anything else straight through."""
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        size = 0
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, size, passthrough
            msg = cast("dict[str, Any]", message)
            if passthrough:
                await send(message)
            elif msg["type"] == "http.response.start":
                start = msg
                if msg["status"] != 200:
                    passthrough = True
                    await send(message)
            elif msg["type"] == "http.response.body" and start is not None:
                chunks.append(msg.get("body", b""))
                size += len(chunks[-1])
                # A streamed body (exports) or one too big to hold passes through uncached; a
                # stream must not be held back: it only ends once the server sees it complete.
                if msg.get("more_body") or size > MAX_BUFFERED_BYTES:
                    passthrough = True
                    await send(cast("Message", start))
                    await send(cast("Message", {**msg, "body": b"".join(chunks)}))
                    chunks.clear()

        await self.app(scope, receive, capture)
        if passthrough or start is None:
            return None
        body = b"".join(chunks)
        # A handler that knows its record's revision sets its own strong ETag (writable records:
        # `"<resource>:<id>:r<revision>"`, the validator `If-Match` checks): keep it rather than
        # hashing the body, so it is the same whatever the compression.
        handler_etag = header(start.get("headers", []), b"etag")
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower() not in (b"etag", b"content-length", b"date", b"last-modified")
        ]
        gzipped = (header(headers, b"content-encoding") or b"").lower() == b"gzip"
        if gzipped and body[:2] == b"\x1f\x8b" and len(body) >= 10:
            # Zero the gzip header's MTIME (RFC 1952 allows 0) so the bytes, and the ETag,
            # depend on the content only.
            body = body[:4] + b"\0\0\0\0" + body[8:]
        headers.append((b"content-length", str(len(body)).encode()))
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        etag = f'"v{version}-{digest}"' if version is not None else f'"{digest}"'
        if handler_etag is not None:
            etag = handler_etag.decode("latin-1")
        shareable = header(headers, b"set-cookie") is None
        return CachedResponse(200, headers, body, etag, shareable)


# Headers a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5), besides the ETag.
_KEPT_ON_304 = {b"cache-control", b"vary", b"content-location", b"expires", b"link"}


async def _send_raw(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send(
        cast("Message", {"type": "http.response.start", "status": status, "headers": headers})
    )
    await send(cast("Message", {"type": "http.response.body", "body": body, "more_body": False}))


# ---------------------------------------------------------------- wiring


def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """`/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`."""
    token: str | None = connection.app.state.settings.metrics_token
    scheme, _sep, given = connection.headers.get("authorization", "").partition(" ")
    if (
        token is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), token.encode())
    ):
        raise NotAuthorizedException(
            "The metrics endpoint needs the operator token.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


class MetricsController(PrometheusController):
    """Prometheus text exposition at `/metrics` (operational: not part of the API schema).

    Mounted only when `METRICS_TOKEN` is set, and then guarded by it."""

    include_in_schema = False
    guards = [metrics_guard]


def _documented(name: str, description: str) -> ResponseHeader:
    # Documentation only: the edge sets these. `value` only gives the schema its type.
    return ResponseHeader(name=name, documentation_only=True, value="", description=description)


class HttpLayer:
    """Everything `create_app` needs from this module, built from one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        budget = settings.response_cache_mb * 1024 * 1024
        self.cache = ResponseCache(budget) if budget > 0 else None
        self.versions = DataVersion(settings.version_check_seconds, self._clear_cache)
        per_minute = settings.rate_limit_per_minute
        self.limiter = RateLimiter(per_minute) if per_minute > 0 else None
        self.cors = (
            CORSConfig(
                allow_origins=list(settings.cors_allow_origins),
                allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE"],
                allow_headers=[
                    "Accept",
                    "Authorization",
                    "Content-Type",
                    "If-Match",
                    "If-None-Match",
                    "X-Request-ID",
                ],
                expose_headers=EXPOSED_HEADERS,
                max_age=600,
            )
            if settings.cors_allow_origins
            else None
        )

    def _clear_cache(self) -> None:
        if self.cache is not None:
            self.cache.clear()

    def litestar_options(self) -> dict[str, Any]:
        """Keyword arguments for `Litestar(...)`."""
        return {
            "compression_config": CompressionConfig(
                backend="brotli", brotli_gzip_fallback=True, gzip_compress_level=6, minimum_size=512
            ),
            "cors_config": self.cors,
            "middleware": [DefineMiddleware(CacheMiddleware, layer=self)],
            "logging_config": logging_config(self.settings),
            "request_max_body_size": self.settings.max_body_bytes,
        }

    def v1_options(self) -> dict[str, Any]:
        """Keyword arguments for the `/v1` Router: documents conditional GETs and headers."""
        return {
            "parameters": {
                "if_none_match": HeaderParameter(
                    name="If-None-Match",
                    annotation=str,
                    required=False,
                    description="An `ETag` from an earlier response: a 304 if it still matches.",
                )
            },
            "response_headers": [
                _documented("ETag", "Strong validator: hash of the body and the dataset version."),
                _documented(
                    "Cache-Control", "`public, max-age=…` for data; `no-store` for errors."
                ),
                _documented("X-Request-ID", "The request's `X-Request-ID` if sane, else a new id."),
                *(
                    _documented(name, "Per-client rate limit budget (when the limit is on).")
                    for name in RATE_LIMIT_HEADERS
                ),
            ],
        }

    def cors_headers(self, request_headers: Headers) -> Headers:
        """CORS headers for answers the edge gives itself, so browsers can read a 429."""
        origin = header(request_headers, b"origin")
        if self.cors is None or origin is None:
            return []
        text = origin.decode("latin-1")
        if not self.cors.is_origin_allowed(text):
            return []
        headers = [(k.lower().encode(), v.encode()) for k, v in self.cors.simple_headers.items()]
        set_header(headers, b"access-control-allow-origin", origin)
        set_header(headers, b"vary", b"Origin")
        return headers

    def install(self, app: Litestar) -> Litestar:
        """Wrap the app's whole ASGI handler, so unmatched routes pass the edge too."""
        app.state.http = self
        self.versions.bind(lambda: cast("AsyncEngine", app.state.engine))
        app.asgi_handler = EdgeMiddleware(app.asgi_handler, self)
        return app


def data_version(app: Litestar) -> DataVersion:
    """The app's `DataVersion`: call `.invalidate()` after committing a data change."""
    layer: HttpLayer = app.state.http
    return layer.versions


__all__ = [
    "UNAVAILABLE_HANDLERS",
    "CacheMiddleware",
    "DataVersion",
    "EdgeMiddleware",
    "HttpLayer",
    "JsonFormatter",
    "MetricsController",
    "ServiceUnavailable",
    "data_version",
]
