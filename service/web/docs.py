"""Second API reader: ReDoc at `/docs/redoc`, served from vendored assets (no CDN, no fonts).

Swagger UI (`/docs`, in `service.app`) is for trying requests; ReDoc is the readable reference.
The bundle is `redoc` from npm, copied with its licence into `service/static/redoc/`
(its README there records the release and how to refresh it).
"""

from __future__ import annotations

from pathlib import Path

from litestar import MediaType, Router, get
from litestar.handlers import HTTPRouteHandler
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
REDOC_DIR = STATIC_DIR / "redoc"

# The Content-Security-Policy keeps the page on this origin whatever the bundle tries: ReDoc
# shows a Redocly logo from a CDN (blocked, so it hides it) and builds its search worker from a
# blob: URL. The favicon is Swagger UI's local one (Litestar's plugins default to a CDN icon).
REDOC_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'">
  <title>Lishui common-prosperity API — reference (ReDoc)</title>
  <link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <redoc spec-url="/schema/openapi.json" expand-responses="200" json-sample-expand-level="2"></redoc>
  <script src="/static/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


@get("/docs/redoc", include_in_schema=False, media_type=MediaType.HTML, sync_to_thread=False)
def redoc_ui() -> str:
    return REDOC_HTML


def docs_routes() -> list[HTTPRouteHandler | Router]:
    """The ReDoc page and its static assets, for `create_app` to register."""
    return [
        redoc_ui,
        create_static_files_router(
            path="/static/redoc", directories=[REDOC_DIR], include_in_schema=False
        ),
    ]
