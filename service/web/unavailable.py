"""Database faults: a 503 problem+json with `Retry-After`, and one log line, never a trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap
from sqlalchemy import exc as sa_exc

from service.web.errors import Problem, handle_internal_error, problem_response

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


# SQLSTATE classes that mean "the database cannot serve now", not "this request is wrong":
# 08 connection exception, 53 insufficient resources, 57 operator intervention (a PostgreSQL
# shutting down or restarting: admin_shutdown 57P01, cannot_connect_now 57P03).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE behind a SQLAlchemy error (its driver error, or that error's cause)."""
    for error in (
        getattr(exc, "orig", None),
        getattr(getattr(exc, "orig", None), "__cause__", None),
    ):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_unavailable(exc: sa_exc.DBAPIError) -> bool:
    code = sqlstate(exc)
    return exc.connection_invalidated or (
        code is not None and code[:2] in UNAVAILABLE_SQLSTATE_CLASSES
    )


def handle_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Any other driver error: a 503 when the database is going away (seen while PostgreSQL
    restarts: the driver error arrives wrapped as a plain DBAPIError), else a 500."""
    if isinstance(exc, sa_exc.DBAPIError) and is_unavailable(exc):
        return handle_unavailable(request, exc)
    return handle_internal_error(request, exc)


UNAVAILABLE_HANDLERS: ExceptionHandlersMap = {
    sa_exc.DBAPIError: handle_database_error,
    **dict.fromkeys(_unavailable_exceptions(), handle_unavailable),
}


class ServiceUnavailable(HTTPException):
    status_code = 503

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})
