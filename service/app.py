"""Application factory: `create_app(settings)` builds the whole service."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, Contact, License, Server, Tag
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncConnection

from service.auth import BEARER_SCHEME, SECURITY_SCHEME
from service.curation.openapi import curation_tag
from service.curation.routes import WRITE_HANDLERS
from service.db import create_engine, transactional
from service.openapi_finish import finish_openapi
from service.resources.changes import ChangesController, CuratorChangesController
from service.resources.downloads import DownloadsController
from service.resources.meta import MetaController, describe_openapi
from service.resources.registry import RESOURCES, WRITABLE
from service.resources.search import SearchController
from service.runtime import tune_garbage_collector
from service.settings import Settings
from service.web.docs import docs_routes
from service.web.errors import handle_http_exception, handle_internal_error
from service.web.health import HealthController
from service.web.layer import HttpLayer
from service.web.observability import MetricsController
from service.web.problem_pages import ProblemTypesController
from service.web.unavailable import UNAVAILABLE_HANDLERS
from service.web.wire import DecimalAsNumber, WireResponse

API_VERSION = "1.0.0"
security_log = logging.getLogger("service.security")
DESCRIPTION = """\
A curated, source-traceable dataset of two pages of a Lishui (Zhejiang) city newspaper from 2022
on "common prosperity" (共同富裕): articles, the initiatives and organisations they name, and every
figure they state.

Every fact carries its provenance: the verbatim `quote` and its character `span` in the source
document (`GET /v1/documents/{id}` serves the full text). Unknown values are `null`, and
`null_reasons` says why.

Lists share one contract: `limit` + opaque `cursor` keyset pagination (`Link` header with
`rel=next`/`prev`), `field=value` and `field__op=value` filters, `sort=-a,b`, `count=none|estimated|exact` (default `none`).
Unknown query parameters are rejected with a 400. Errors are `application/problem+json`.
"""

SWAGGER_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Lishui common-prosperity API — Swagger UI</title>
  <link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/swagger-ui/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/schema/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      tryItOutEnabled: true,
      displayRequestDuration: true
    });
  </script>
</body>
</html>
"""


@get("/docs", include_in_schema=False, media_type=MediaType.HTML, sync_to_thread=False)
def swagger_ui() -> str:
    return SWAGGER_HTML


def _static_routers() -> list[Router]:
    from swagger_ui_bundle import swagger_ui_path

    return [
        create_static_files_router(
            path="/static/swagger-ui", directories=[swagger_ui_path], include_in_schema=False
        )
    ]


async def provide_db(state: State) -> AsyncIterator[AsyncConnection]:
    """The request's connection. Every handler that takes it only reads (writes open their own
    transaction on `state.engine`: service/curation/routes.py), so on PostgreSQL it runs in
    autocommit (service/db.py `create_engine` says why)."""
    async with state.read_engine.connect() as conn:
        yield conn


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Lishui Common Prosperity Open Data API",
        version=API_VERSION,
        description=DESCRIPTION,
        contact=Contact(name="Open data team"),
        license=License(name="Code MIT; data curated from public newspaper text", identifier="MIT"),
        servers=[Server(url="/", description="This server")],
        tags=[
            *(Tag(name=r.tag, description=r.description) for r in RESOURCES),
            Tag(name="Search", description="Chinese full-text search across resources."),
            Tag(name="Meta", description="Data dictionary: fields, filters, enumerations."),
            Tag(name="Changes", description="Audit trail of curator writes, for sync clients."),
            Tag(
                name="Downloads",
                description="The whole dataset at one version: Frictionless Data Package, SQLite.",
            ),
            *(
                Tag(
                    name=curation_tag(r.tag),
                    description=f"Curator writes to {r.name}: an editor API key, `If-Match` on "
                    "changes, `Idempotency-Key` on POST.",
                )
                for r in WRITABLE
            ),
            Tag(
                name=curation_tag("Changes"),
                description="The audit trail with who made each change: any API key.",
            ),
            Tag(name="Health", description="Liveness and readiness probes (not rate limited)."),
            Tag(
                name="Problems",
                description="What each problem `type` URI of an error response means.",
            ),
        ],
        path="/schema",
        render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        use_handler_docstrings=False,
        # Curator writes (service/curation/) declare it; reads are public.
        components=Components(security_schemes={SECURITY_SCHEME: BEARER_SCHEME}),
    )


def cursor_key(settings: Settings) -> bytes:
    """The key cursors are signed with: from CURSOR_SECRET, else random for this process."""
    if settings.cursor_secret is None:
        return secrets.token_bytes(32)
    return hashlib.sha256(settings.cursor_secret.encode()).digest()


def _open_engines(state: State, settings: Settings) -> None:
    """One pool: reads in autocommit (`read_engine`), everything else in transactions
    (`engine`); service/db.py says why."""
    url, timeout = settings.database_url, settings.db_timeout_seconds
    state.read_engine = create_engine(url, timeout=timeout, autocommit=True)
    state.engine = transactional(state.read_engine)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if settings.cursor_secret is None:
            # Loud, once per process: a random key breaks cursors across restarts and replicas.
            security_log.warning(
                "CURSOR_SECRET is not set: signing cursors with a random key for this process "
                "only; cursors will not survive a restart or work across replicas/workers. "
                "Set CURSOR_SECRET (same value everywhere) in production."
            )
        _open_engines(app.state, settings)
        tune_garbage_collector()  # service/runtime.py: the p99 of every request
        # Requests never wait for the periodic dataset-version re-read (service/dataset.py).
        refresher = asyncio.create_task(http_layer.versions.keep_fresh())
        # With REDIS_URL: writes made by other replicas and workers apply at once.
        follower = asyncio.create_task(http_layer.run_shared())
        try:
            yield
        finally:
            refresher.cancel()
            follower.cancel()
            await asyncio.gather(refresher, follower, return_exceptions=True)
            await http_layer.close()
            await app.state.read_engine.dispose()  # the pool both share

    # ETag/304/cache, headers, logging, limits, CORS, compression: service/web/.
    http_layer = HttpLayer(settings)

    v1 = Router(
        path="/v1",
        route_handlers=[
            *(r.controller for r in RESOURCES),
            MetaController,
            SearchController,
            ChangesController,
            CuratorChangesController,
            DownloadsController,
            *WRITE_HANDLERS,
        ],
        **http_layer.v1_options(),
    )
    app = Litestar(
        route_handlers=[
            v1,
            swagger_ui,
            *_static_routers(),
            *docs_routes(),
            HealthController,
            ProblemTypesController,
            # Operators only: off unless METRICS_TOKEN is set, then bearer-token protected.
            *([MetricsController] if settings.metrics_token else []),
        ],
        dependencies={"db": Provide(provide_db)},
        lifespan=[lifespan],
        openapi_config=openapi_config(),
        # Decimals are exact JSON numbers in every body (service/web/wire.py).
        response_class=WireResponse,
        plugins=[DecimalAsNumber()],
        exception_handlers={
            HTTPException: handle_http_exception,
            **UNAVAILABLE_HANDLERS,
            Exception: handle_internal_error,
        },
        state=State(
            {
                "settings": settings,
                "cursor_secret": cursor_key(settings),
            }
        ),
        debug=settings.debug,
        **http_layer.litestar_options(),
    )
    # Field descriptions and real examples from the data dictionary (service/resources/meta.py).
    describe_openapi(app.openapi_schema)
    # Operation order, public reads, response headers (service/openapi_finish.py).
    finish_openapi(app.openapi_schema)
    return http_layer.install(app)


def app_from_env() -> Litestar:
    return create_app(Settings.from_env())


__all__: list[Any] = ["create_app"]
