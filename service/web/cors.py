"""CORS: public reads from any origin, writes only from the configured ones.

Reads are open data, credential-free: every GET/HEAD answers `Access-Control-Allow-Origin: *`
(as GitHub, Socrata and Datasette's `--cors` do), the same bytes for every origin, so cached
responses stay shareable (no `Vary: Origin`). Curator writes carry a bearer key: a browser may
send them only from an origin in `CORS_ALLOW_ORIGINS`, which is then echoed with `Vary: Origin`.
The edge answers preflights itself, before routing.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.web.asgi import Headers

READ_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
READ_REQUEST_HEADERS = ("Accept", "If-None-Match", "X-Request-ID")
WRITE_REQUEST_HEADERS = (
    *READ_REQUEST_HEADERS,
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
)
# What a client reads from a response: paging, validators, the rate-limit budget, request ids.
EXPOSED_HEADERS = (
    "Link",
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Deprecation",
    "Sunset",
    "Idempotent-Replayed",
)
PREFLIGHT_MAX_AGE = b"600"


def _joined(names: tuple[str, ...] | frozenset[str]) -> bytes:
    return ", ".join(sorted(names) if isinstance(names, frozenset) else names).encode()


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    write_origins: frozenset[str]

    def may_write(self, origin: bytes) -> bool:
        return origin.decode("latin-1") in self.write_origins

    def response_headers(self, method: str, origin: bytes | None) -> Headers:
        """Headers for an actual (non-preflight) response to `method` from `origin`."""
        if origin is None:
            return []
        exposed = (b"access-control-expose-headers", _joined(EXPOSED_HEADERS))
        if method in READ_METHODS or method == "OPTIONS":
            return [(b"access-control-allow-origin", b"*"), exposed]
        if self.may_write(origin):
            return [(b"access-control-allow-origin", origin), (b"vary", b"Origin"), exposed]
        return []

    def preflight(self, origin: bytes, method: str) -> Headers | None:
        """The answer to a preflight for `method`, or None when it is refused."""
        common = [(b"access-control-max-age", PREFLIGHT_MAX_AGE)]
        if method in READ_METHODS:
            return [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
                (b"access-control-allow-headers", _joined(READ_REQUEST_HEADERS)),
                *common,
            ]
        if method in WRITE_METHODS and self.may_write(origin):
            methods = _joined(READ_METHODS | WRITE_METHODS | {"OPTIONS"})
            return [
                (b"access-control-allow-origin", origin),
                (b"vary", b"Origin"),
                (b"access-control-allow-methods", methods),
                (b"access-control-allow-headers", _joined(WRITE_REQUEST_HEADERS)),
                *common,
            ]
        return None
