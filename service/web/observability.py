"""What operators see: one JSON log line per event, request counters and the `/metrics` endpoint."""

from __future__ import annotations

import contextvars
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.logging.config import LoggingConfig
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Histogram

from service.settings import Settings

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("service.access")

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


@dataclass(slots=True)
class Exchange:
    """One request as the edge saw it: what its access-log line and counters record."""

    method: str  # as the client sent it (HEAD stays HEAD)
    path: str
    request_id: str
    client: str
    status: int = 0  # 0 until a response starts
    bytes: int = 0


def record_request(exchange: Exchange, route: str, duration: float) -> None:
    """Count the request and write its access-log line."""
    REQUESTS.labels(exchange.method, route, str(exchange.status)).inc()
    LATENCY.labels(exchange.method, route).observe(duration)
    access_log.info(
        "request",
        extra={
            "method": exchange.method,
            "path": exchange.path,
            "route": route,
            "status": exchange.status,
            "duration_ms": round(duration * 1000, 2),
            "bytes": exchange.bytes,
            "client": exchange.client,
            "request_id": exchange.request_id,
        },
    )


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
