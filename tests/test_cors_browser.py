"""CORS as a browser sees it: a page served from another origin reads the API with `fetch`
(the body and the `Link` and `ETag` headers), and cannot send a curator write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.test_docs_browser import TIMEOUT_MS

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>another origin</title></head>
<body><p>A page on another origin.</p></body></html>"""

READ_SCRIPT = """async (api) => {
  const response = await fetch(api + "/v1/metrics?limit=2");
  const body = await response.json();
  return {
    status: response.status,
    items: body.data.length,
    link: response.headers.get("link"),
    etag: response.headers.get("etag"),
    requestId: response.headers.get("x-request-id"),
  };
}"""

WRITE_SCRIPT = """async (api) => {
  try {
    await fetch(api + "/v1/metrics", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer x.y"},
      body: "{}",
    });
    return "sent";
  } catch (error) {
    return "blocked: " + error.name;
  }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """A static page on its own loopback port: another origin than the API's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_reads_the_api(
    browser: Browser, other_origin: str, live_url: str
) -> None:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(other_origin + "/")
        read = page.evaluate(READ_SCRIPT, live_url)
        write = page.evaluate(WRITE_SCRIPT, live_url)
    finally:
        page.close()
    assert read["status"] == 200
    assert read["items"] == 2
    assert 'rel="next"' in read["link"]
    assert read["etag"].startswith('"')
    assert read["requestId"]
    # No origin is configured for writes: the browser refuses to send the request.
    assert write == "blocked: TypeError"
