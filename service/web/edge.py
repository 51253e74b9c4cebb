"""`EdgeMiddleware`: the outermost ASGI layer, so it also sees requests that match no route.

Request id, one JSON access-log line, Prometheus counters, security / `Cache-Control` / `Vary`
headers, HEAD, and the guards that answer before routing (414, 413, 429, 400, 406; see
`guards`). Any error that is not already problem+json becomes one.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any, cast

import msgspec
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.web.asgi import Headers, client_address, header, merge_vary, send_whole, set_header
from service.web.cache import edge_hit, send_entry
from service.web.errors import PROBLEM_MEDIA_TYPE, InvalidParam, make_problem, problem_bytes
from service.web.guards import reject
from service.web.observability import REQUEST_ID, Exchange, record_request
from service.web.paths import DOCS_PREFIXES, OPERATIONAL_PREFIXES
from service.web.urls import public_url

if TYPE_CHECKING:
    from service.web.layer import HttpLayer

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
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
error_log = logging.getLogger("service.errors")


# New request ids: 32 hex digits as before (uuid4().hex), a random per-process prefix and a
# counter. Unique without a urandom call each: uuid4 was ~4 % of a detail request's CPU.
_ID_PREFIX = uuid.uuid4().hex[:20]
_id_counter = itertools.count()


def request_id_from(value: bytes | None) -> str:
    """The client's `X-Request-ID` if it is sane (≤128 of A-Z a-z 0-9 . _ : -), else a new one."""
    if value is not None:
        text = value.decode("latin-1")
        if REQUEST_ID_PATTERN.fullmatch(text):
            return text
    return f"{_ID_PREFIX}{next(_id_counter) & 0xFFFFFFFFFFFF:012x}"


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    headers: Headers,
    params: list[InvalidParam] | None = None,
    base: str | None = None,
) -> None:
    """A problem+json answer the edge gives itself, without the app (`base`: the public base
    URL of problem `type`s)."""
    body = msgspec.json.encode(make_problem(status, detail, base=base, invalid_params=params))
    content = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send_whole(send, status, [*content, *headers], body)


class EdgeMiddleware:
    """Outermost ASGI layer: runs for every request, matched or not."""

    def __init__(self, app: ASGIApp, layer: HttpLayer) -> None:
        self.app = app
        self.layer = layer
        self.settings = layer.settings
        self.base = layer.settings.public_base_url  # of problem `type` URIs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        # A copy: the server keeps the original, and must still see HEAD as HEAD (uvicorn then
        # expects no body; told GET, it logged "content shorter than Content-Length").
        http = cast("dict[str, Any]", dict(scope))
        started = time.perf_counter()
        request_headers: Headers = http["headers"]
        exchange = Exchange(
            method=http["method"],
            path=http["path"],
            request_id=request_id_from(header(request_headers, b"x-request-id")),
            client=client_address(http),
        )
        token = REQUEST_ID.set(exchange.request_id)
        http.setdefault("state", {})["request_id"] = exchange.request_id
        if exchange.method == "HEAD":  # served as GET without the body (RFC 9110 §9.3.2)
            http["method"] = "GET"
        rate_headers: Headers = []
        origin = header(request_headers, b"origin")
        try:
            limiter = self.layer.limiter
            rejection = await reject(http, request_headers, self.settings, limiter, rate_headers)
            cors = self.layer.cors.response_headers(exchange.method, origin)
            wrapped = self._wrap_send(send, exchange, rate_headers + cors)
            preflight = header(request_headers, b"access-control-request-method")
            if rejection is not None:
                status, detail, extra, params = rejection
                await send_problem(wrapped, status, detail, extra, params, self.base)
            elif exchange.method == "OPTIONS" and origin is not None and preflight is not None:
                await self._answer_preflight(send, exchange, rate_headers, origin, preflight)
            elif (hit := await edge_hit(self.layer, http)) is not None:
                http["path_template"] = hit.route
                await send_entry(wrapped, hit, header(request_headers, b"if-none-match"))
            else:
                await self.app(cast("Scope", http), self._limit_body(receive), wrapped)
        except Exception:
            error_log.exception(
                "unhandled error in the HTTP layer on %s %s", exchange.method, exchange.path
            )
            if exchange.status:
                raise
            await send_problem(
                self._wrap_send(send, exchange, rate_headers),
                500,
                "The server could not complete the request.",
                [],
                base=self.base,
            )
        finally:
            duration = time.perf_counter() - started
            record_request(exchange, http.get("path_template") or "unmatched", duration)
            REQUEST_ID.reset(token)

    async def _answer_preflight(
        self, send: Send, exchange: Exchange, extra_headers: Headers, origin: bytes, method: bytes
    ) -> None:
        """A CORS preflight, answered before routing (service/web/cors.py)."""
        allowed = self.layer.cors.preflight(origin, method.decode("latin-1").upper())
        wrapped = self._wrap_send(send, exchange, extra_headers)
        if allowed is None:
            detail = "CORS: this origin may only read (GET, HEAD); writes need an allowed origin."
            await send_problem(wrapped, 403, detail, [], base=self.base)
        else:
            await send_whole(wrapped, 204, allowed, b"")

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

    def _wrap_send(self, send: Send, exchange: Exchange, extra_headers: Headers) -> Send:
        """`send` with the edge's headers added, HEAD bodies dropped and the outcome recorded."""
        replaced = False

        async def wrapped(message: Message) -> None:
            nonlocal replaced
            msg = cast("dict[str, Any]", message)
            if msg["type"] == "http.response.start":
                status: int = msg["status"]
                headers: Headers = list(msg.get("headers") or [])
                content_type = (header(headers, b"content-type") or b"").decode("latin-1")
                if status >= 400 and not content_type.startswith(PROBLEM_MEDIA_TYPE):
                    replaced = True
                    await self._send_as_problem(send, msg, headers, exchange, extra_headers)
                    return
                msg = {**msg, "headers": headers}
                self._finish_headers(headers, exchange, status, extra_headers)
                exchange.status = status
            elif msg["type"] == "http.response.body":
                if replaced:
                    return
                exchange.bytes += len(msg.get("body", b""))
                if exchange.method == "HEAD":
                    exchange.bytes = 0
                    msg = {**msg, "body": b""}
            await send(cast("Message", msg))

        return wrapped

    async def _send_as_problem(
        self,
        send: Send,
        start: dict[str, Any],
        headers: Headers,
        exchange: Exchange,
        extra_headers: Headers,
    ) -> None:
        """Whatever produced it (CORS preflight, a framework default), errors are
        problem+json: keep the headers, replace the body (the app's body is then dropped)."""
        status: int = start["status"]
        body = problem_bytes(status, base=self.base)
        set_header(headers, b"content-type", PROBLEM_MEDIA_TYPE.encode())
        set_header(headers, b"content-length", str(len(body)).encode())
        headers = [(k, v) for k, v in headers if k.lower() != b"content-encoding"]
        self._finish_headers(headers, exchange, status, extra_headers)
        exchange.status = status
        exchange.bytes = 0 if exchange.method == "HEAD" else len(body)
        await send(cast("Message", {**start, "headers": headers}))
        await send(
            cast(
                "Message",
                {
                    "type": "http.response.body",
                    "body": b"" if exchange.method == "HEAD" else body,
                    "more_body": False,
                },
            )
        )

    def _finish_headers(
        self, headers: Headers, exchange: Exchange, status: int, extra_headers: Headers
    ) -> None:
        """What every response gets: security headers and CSP, request id, rate-limit budget,
        public `Location`, `Cache-Control`, `Vary`, and HEAD in `Allow`."""
        path = exchange.path
        is_get = exchange.method in {"GET", "HEAD"}
        headers.extend(SECURITY_HEADERS)
        csp = DOCS_CSP if path.startswith(DOCS_PREFIXES) else API_CSP
        set_header(headers, b"content-security-policy", csp.encode())
        set_header(headers, b"x-request-id", exchange.request_id.encode())
        for name, value in extra_headers:  # the rate-limit budget, CORS of this origin
            if name == b"vary":
                merge_vary(headers, [value.decode("latin-1")])
            else:
                headers.append((name, value))
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
