"""Driver errors: the database going away (PostgreSQL shutting down or restarting) is a 503
with Retry-After, whatever SQLAlchemy class wraps it; a real error stays a 500."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from sqlalchemy import exc as sa_exc

from service.web.unavailable import UNAVAILABLE_HANDLERS, is_unavailable


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(sqlstate: str, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError(
        "SELECT 1", {}, DriverError(sqlstate), connection_invalidated=invalidated
    )


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57P01", True),  # admin_shutdown: the server is stopping
        ("57P03", True),  # cannot_connect_now: starting up or shutting down
        ("08006", True),  # connection_failure
        ("53300", True),  # too_many_connections
        ("23505", False),  # unique_violation: a bug, not an outage
        ("42P01", False),  # undefined_table
    ],
)
def test_sqlstate_classes(sqlstate: str, unavailable: bool) -> None:
    assert is_unavailable(wrapped(sqlstate)) is unavailable


def test_an_invalidated_connection_is_unavailable() -> None:
    assert is_unavailable(wrapped("XX000", invalidated=True))


@pytest.mark.parametrize(("sqlstate", "status"), [("57P01", 503), ("42P01", 500)])
def test_handlers_answer_problems(sqlstate: str, status: int) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise wrapped(sqlstate)

    app = Litestar([boom], exception_handlers=UNAVAILABLE_HANDLERS)
    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert ("retry-after" in response.headers) is (status == 503)
