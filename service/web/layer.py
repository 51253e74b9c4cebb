"""`HttpLayer`: builds the HTTP layer's parts from one `Settings` and wires them into the app.

`EdgeMiddleware` (edge.py) wraps the whole Litestar app; `CacheMiddleware` (cache.py) runs per
route. The layer owns the response cache, the rate limiter, CORS and the `DataVersion` the
cache depends on (service/dataset.py); database faults map to 503 (unavailable.py).
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
from service.web.cache import CacheMiddleware, ResponseCache
from service.web.cors import CorsPolicy
from service.web.edge import EdgeMiddleware
from service.web.observability import logging_config
from service.web.ratelimit import RATE_LIMIT_HEADERS, RateLimiter


def _documented(name: str, description: str) -> ResponseHeader:
    # Documentation only: the edge sets these. `value` only gives the schema its type.
    return ResponseHeader(name=name, documentation_only=True, value="", description=description)


class HttpLayer:
    """Everything `create_app` needs from the HTTP layer, built from one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        budget = settings.response_cache_mb * 1024 * 1024
        self.cache = ResponseCache(budget) if budget > 0 else None
        self.versions = DataVersion(settings.version_check_seconds, self._clear_cache)
        per_minute = settings.rate_limit_per_minute
        self.limiter = RateLimiter(per_minute) if per_minute > 0 else None
        # Reads from any origin, writes from the configured ones (service/web/cors.py).
        self.cors = CorsPolicy(frozenset(settings.cors_allow_origins))

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
