"""Database faults: a 503 problem+json with `Retry-After`, and one log line, never a trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap
from sqlalchemy import exc as sa_exc

from service.web.errors import Problem, problem_response

RETRY_AFTER_UNAVAILABLE = 5
error_log = logging.getLogger("service.errors")


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
