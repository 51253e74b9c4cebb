"""`HttpLayer`: builds the HTTP layer's parts from one `Settings` and wires them into the app.

`EdgeMiddleware` (edge.py) wraps the whole Litestar app; `CacheMiddleware` (cache.py) runs per
route. The layer owns the response cache, the rate limiter, CORS and the `DataVersion` the
cache depends on (service/dataset.py); database faults map to 503 (unavailable.py). With
`REDIS_URL`, the limiter counts, the cache stores and writes are announced in Redis for every
process (shared.py); without it, everything stays in this process.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import ResponseHeader
from litestar.middleware.base import DefineMiddleware
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncEngine

from service.dataset import DataVersion
from service.settings import Settings
from service.web.cache import CacheMiddleware, ResponseCache, SharedResponseCache
from service.web.cors import CorsPolicy
from service.web.edge import EdgeMiddleware
from service.web.observability import logging_config
from service.web.ratelimit import RATE_LIMIT_HEADERS, RateLimiter, SharedRateLimiter
from service.web.shared import SharedState


def _documented(name: str, description: str) -> ResponseHeader:
    # Documentation only: the edge sets these. `value` only gives the schema its type.
    return ResponseHeader(name=name, documentation_only=True, value="", description=description)


class HttpLayer:
    """Everything `create_app` needs from the HTTP layer, built from one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        shared = self.shared = (
            SharedState(settings.redis_url, settings.redis_namespace)
            if settings.redis_url
            else None
        )
        budget = settings.response_cache_mb * 1024 * 1024
        self.cache = ResponseCache(budget) if budget > 0 else None
        self.shared_cache = (
            SharedResponseCache(shared, budget // 8) if shared is not None and budget > 0 else None
        )
        announce = shared.publish if shared is not None else None
        self.versions = DataVersion(settings.version_check_seconds, self._clear_cache, announce)
        per_minute = settings.rate_limit_per_minute
        self.limiter: RateLimiter | None = None
        if per_minute > 0:
            limiter = RateLimiter(per_minute)
            self.limiter = limiter if shared is None else SharedRateLimiter(per_minute, shared)
        # Reads from any origin, writes from the configured ones (service/web/cors.py).
        self.cors = CorsPolicy(frozenset(settings.cors_allow_origins))

    async def run_shared(self) -> None:
        """Apply the versions other processes publish, while the app runs (its lifespan)."""
        if self.shared is not None:
            await self.shared.follow(self.versions.notice, self.versions.invalidate)

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()

    def _clear_cache(self) -> None:
        if self.cache is not None:
            self.cache.clear()

    def litestar_options(self) -> dict[str, Any]:
        """Keyword arguments for `Litestar(...)`."""
        return {
            "compression_config": CompressionConfig(
                backend="brotli", brotli_gzip_fallback=True, gzip_compress_level=6, minimum_size=512
            ),
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
