"""Health probes: `/health/live` (the process answers) and `/health/ready` (it can serve data).

Neither is rate limited nor cached (see `service.web.paths`). Readiness reads the dataset
version, which is both the database ping and a refresh of the version the response cache
depends on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get
from sqlalchemy.exc import SQLAlchemyError

from service.web.errors import problem_spec
from service.web.layer import data_version
from service.web.unavailable import ServiceUnavailable

logger = logging.getLogger("service.health")


class Liveness(msgspec.Struct):
    """The process is up and answering."""

    status: Literal["ok"]


class Readiness(msgspec.Struct):
    """The database answered within the timeout; `dataset_version` is the data being served."""

    status: Literal["ok"]
    dataset_version: int


# What the edge answers before any route, probes included (service/web/guards.py).
PROBE_ERRORS = {
    406: problem_spec("The `Accept` header admits no JSON."),
    414: problem_spec("The request target is too long."),
}


class HealthController(Controller):
    path = "/health"
    tags = ["Health"]

    @get(
        "/live",
        operation_id="getLiveness",
        summary="Liveness probe",
        description="200 while the process can answer HTTP; it never touches the database.",
        responses=PROBE_ERRORS,
        sync_to_thread=False,
    )
    def live(self) -> Liveness:
        return Liveness(status="ok")

    @get(
        "/ready",
        operation_id="getReadiness",
        summary="Readiness probe",
        description="200 when the database answers a query within the timeout "
        "(`DB_TIMEOUT_SECONDS`), else 503 with `Retry-After`.",
        responses={**PROBE_ERRORS, 503: problem_spec("The database did not answer in time.")},
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Readiness:
        try:
            async with asyncio.timeout(request.app.state.settings.db_timeout_seconds):
                version = await data_version(request.app).refresh()
        except (OSError, SQLAlchemyError) as exc:  # TimeoutError is an OSError
            logger.warning("not ready: %s", type(exc).__name__)
            raise ServiceUnavailable("The database is unreachable.") from exc
        return Readiness(status="ok", dataset_version=version)
