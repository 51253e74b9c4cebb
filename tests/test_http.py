"""The HTTP layer (service/web/): errors, caching, headers, limits, faults.

Most tests use the shared `client` (seeded DB, every backend, rate limit off). Tests that need
other settings, or that change or break the database, get a dedicated app on a private SQLite
copy (or a dead / proxied PostgreSQL URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import select
import shutil
import socket
import socketserver
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Response, get
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from service.app import create_app
from service.listing import handlers
from service.seed import load
from service.settings import Settings
from service.web.cache import etag_matches, sorted_query
from service.web.layer import data_version
from service.web.negotiation import accepts_json
from service.web.observability import JsonFormatter
from tests.conftest import fresh_database, postgres_url
from tests.helpers import Client, assert_problem

PROBLEM = "application/problem+json"
DEAD_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/test"


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite file that tests copy; never served directly."""
    path = tmp_path_factory.mktemp("http") / "seeded.db"
    url = f"sqlite+aiosqlite:///{path}"
    fresh_database(url)
    asyncio.run(load(url))
    return path


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy (the source is in WAL mode, so a file copy could miss pages)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


@pytest.fixture
def private_db(seeded_sqlite: Path, tmp_path: Path) -> Path:
    path = tmp_path / "private.db"
    copy_database(seeded_sqlite, path)
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=app) as client:
        yield client


def dedicated(database_url: str, **overrides: Any) -> Litestar:
    return create_app(Settings(database_url=database_url, rate_limit_per_minute=0, **overrides))


# ---------------------------------------------------------------- errors


class TestProblemDetails:
    async def test_unknown_route_is_a_problem(self, client: Client) -> None:
        body = await assert_problem(client, "/no/such/route", 404)
        assert body["title"] == "Not Found"

    async def test_unsupported_method_is_a_problem_with_allow(self, client: Client) -> None:
        response = await client.put("/v1/metrics")
        assert response.status_code == 405
        assert response.headers["content-type"].startswith(PROBLEM)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert {"GET", "HEAD", "OPTIONS"} <= allowed

    async def test_long_query_string_is_414(self, client: Client) -> None:
        body = await assert_problem(client, "/v1/metrics?subject__contains=" + "a" * 5000, 414)
        assert "4096" in body["detail"]

    async def test_large_body_is_413(self, client: Client) -> None:
        response = await client.post("/v1/metrics", content=b"x" * 70_000)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_unacceptable_accept_is_406(self, client: Client) -> None:
        response = await client.get("/v1/metrics", headers={"Accept": "text/html"})
        assert response.status_code == 406
        assert response.headers["content-type"].startswith(PROBLEM)
        for accept in ("application/json", "*/*", "text/html, application/*;q=0.5", PROBLEM):
            ok = await client.get("/v1/regions", headers={"Accept": accept})
            assert ok.status_code == 200, accept

    async def test_invalid_parameters_are_listed(self, client: Client) -> None:
        body = await assert_problem(client, "/v1/metrics?limit=0&bogus=1", 400)
        assert body["invalid_params"]

    async def test_internal_error_leaks_nothing(self, private_db: Path) -> None:
        @get("/boom", sync_to_thread=False)
        def boom() -> None:
            raise RuntimeError("secret-internal-detail at /srv/app.py line 42")

        app = dedicated(sqlite_url(private_db))
        app.register(boom)
        async with serve(app) as client:
            response = await client.get("/boom")
        assert response.status_code == 500
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.headers["cache-control"] == "no-store"
        assert "secret" not in response.text
        assert "Traceback" not in response.text
        assert response.json()["status"] == 500


class TestHelpers:
    def test_accepts_json(self) -> None:
        assert accepts_json("")
        assert accepts_json("application/json;q=0.9, text/html")
        assert not accepts_json("application/json;q=0, text/html")
        assert not accepts_json("application/xml")

    def test_etag_matches(self) -> None:
        assert etag_matches('"a", W/"b"', '"b"')
        assert etag_matches("*", '"b"')
        assert not etag_matches('"a"', '"b"')

    def test_sorted_query_keeps_repeated_names_in_order(self) -> None:
        assert sorted_query(b"b=1&a=2&b=0") == b"a=2&b=1&b=0"


# ---------------------------------------------------------------- caching


class TestConditionalGet:
    URL = "/v1/metrics?limit=5&sort=-value"

    async def test_strong_etag_and_304(self, client: Client) -> None:
        first = await client.get(self.URL)
        etag = first.headers["etag"]
        assert etag.startswith('"v')
        assert not etag.startswith("W/")
        again = await client.get(self.URL)
        assert again.headers["etag"] == etag
        for if_none_match in (etag, f'"other", W/{etag}', "*"):
            response = await client.get(self.URL, headers={"If-None-Match": if_none_match})
            assert response.status_code == 304, if_none_match
            assert response.content == b""
            assert response.headers["etag"] == etag
            assert response.headers["cache-control"] == "public, max-age=60"
            assert "Accept-Encoding" in response.headers["vary"]
        stale = await client.get(self.URL, headers={"If-None-Match": '"nope"'})
        assert stale.status_code == 200

    async def test_etag_carries_the_dataset_version(self, client: Client) -> None:
        version = (await client.get("/health/ready")).json()["dataset_version"]
        response = await client.get(self.URL)
        assert response.headers["etag"].startswith(f'"v{version}-')

    async def test_equivalent_query_orders_share_one_representation(self, client: Client) -> None:
        a = await client.get("/v1/metrics?limit=5&sort=-value")
        b = await client.get("/v1/metrics?sort=-value&limit=5")
        assert a.headers["etag"] == b.headers["etag"]
        assert a.json() == b.json()

    async def test_every_get_has_an_etag(self, client: Client) -> None:
        for url in ("/v1/regions", "/v1/regions/li-shui-shi", "/schema/openapi.json", "/docs"):
            response = await client.get(url)
            assert response.status_code == 200, url
            assert response.headers["etag"].startswith('"'), url

    async def test_a_handlers_own_etag_is_kept(self, private_db: Path) -> None:
        # Writable records carry a revision ETag that `If-Match` compares with.
        @get("/v1/own-etag", sync_to_thread=False)
        def own_etag() -> Response[dict[str, int]]:
            return Response({"revision": 3}, headers={"ETag": '"thing:r3"'})

        app = dedicated(sqlite_url(private_db))
        app.register(own_etag)
        async with serve(app) as client:
            first = await client.get("/v1/own-etag")
            again = await client.get("/v1/own-etag", headers={"If-None-Match": '"thing:r3"'})
        assert first.headers["etag"] == '"thing:r3"'
        assert again.status_code == 304

    async def test_head_has_the_headers_but_no_body(self, client: Client) -> None:
        get_response = await client.get(self.URL, headers={"Accept-Encoding": "identity"})
        head = await client.head(self.URL, headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == get_response.headers["etag"]
        assert head.headers["content-length"] == str(len(get_response.content))

    async def test_errors_are_not_cached(self, client: Client) -> None:
        response = await client.get("/v1/metrics/no-such-metric")
        assert response.status_code == 404
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers


class TestCacheControlAndVary:
    async def test_data_is_publicly_cacheable(self, client: Client) -> None:
        response = await client.get("/v1/regions")
        assert response.headers["cache-control"] == "public, max-age=60"
        vary = {v.strip() for v in response.headers["vary"].split(",")}
        assert {"Accept", "Accept-Encoding"} <= vary

    async def test_errors_and_probes_are_no_store(self, client: Client) -> None:
        for url in ("/v1/metrics?bogus=1", "/nope", "/health/live", "/health/ready", "/metrics"):
            response = await client.get(url)
            assert response.headers["cache-control"] == "no-store", url


class TestCompression:
    URL = "/v1/metrics?limit=20"

    @pytest.mark.parametrize(("accept", "encoding"), [("br", "br"), ("gzip", "gzip")])
    async def test_compressed_on_request(self, client: Client, accept: str, encoding: str) -> None:
        plain = await client.get(self.URL, headers={"Accept-Encoding": "identity"})
        packed = await client.get(self.URL, headers={"Accept-Encoding": accept})
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == encoding
        assert packed.json() == plain.json()
        # One cached representation never leaks to a client that asked for another.
        assert packed.headers["etag"] != plain.headers["etag"]
        again = await client.get(self.URL, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in again.headers

    async def test_gzip_etag_survives_a_cache_flush(self, private_db: Path) -> None:
        # gzip stamps the time in its header; the layer zeroes it so the ETag stays put.
        app = dedicated(sqlite_url(private_db))
        async with serve(app) as client:
            first = await client.get(self.URL, headers={"Accept-Encoding": "gzip"})
            await asyncio.sleep(1.1)
            data_version(app).invalidate()
            second = await client.get(self.URL, headers={"Accept-Encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip"
        assert first.headers["etag"] == second.headers["etag"]


class TestDataVersion:
    URL = "/v1/regions"

    @staticmethod
    def bump_in_database(path: Path) -> None:
        # What the seed loader (another process) does when the content changes.
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE dataset SET version = version + 1")
        conn.close()

    async def test_a_new_version_is_noticed_within_a_second(self, private_db: Path) -> None:
        app = dedicated(sqlite_url(private_db))
        async with serve(app) as client:
            before = (await client.get(self.URL)).headers["etag"]
            self.bump_in_database(private_db)
            await asyncio.sleep(1.1)
            after = await client.get(self.URL, headers={"If-None-Match": before})
        assert after.status_code == 200
        assert after.headers["etag"] != before
        assert before.startswith('"v1-')
        assert after.headers["etag"].startswith('"v2-')

    async def test_invalidate_applies_at_once(self, private_db: Path) -> None:
        app = dedicated(sqlite_url(private_db), version_check_seconds=3600)
        async with serve(app) as client:
            before = (await client.get(self.URL)).headers["etag"]
            self.bump_in_database(private_db)
            cached = (await client.get(self.URL)).headers["etag"]
            data_version(app).invalidate()
            after = (await client.get(self.URL)).headers["etag"]
        assert cached == before
        assert after != before

    async def test_bump_for_write_endpoints(self, private_db: Path) -> None:
        app = dedicated(sqlite_url(private_db), version_check_seconds=3600)
        async with serve(app) as client:
            await client.get(self.URL)
            async with app.state.engine.begin() as conn:
                version = await data_version(app).bump(conn)
            data_version(app).invalidate()
            response = await client.get(self.URL)
        assert version == 2
        assert response.headers["etag"].startswith('"v2-')


# ---------------------------------------------------------------- headers


class TestSecurityHeaders:
    async def test_api_responses(self, client: Client) -> None:
        for url in ("/v1/regions", "/nope"):
            headers = (await client.get(url)).headers
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert headers["referrer-policy"] == "no-referrer"
            assert headers["content-security-policy"].startswith("default-src 'none'")

    async def test_docs_csp_allows_its_own_assets(self, client: Client) -> None:
        csp = (await client.get("/docs")).headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "http" not in csp  # nothing from another origin


class TestRequestId:
    async def test_echoed_when_sane(self, client: Client) -> None:
        response = await client.get("/v1/regions", headers={"X-Request-ID": "abc-123_x.y:z"})
        assert response.headers["x-request-id"] == "abc-123_x.y:z"

    @pytest.mark.parametrize("bad", ["a" * 129, "bad id", "<script>", "ü"])
    async def test_replaced_when_not(self, client: Client, bad: str) -> None:
        headers = [(b"x-request-id", bad.encode("utf-8"))]
        response = await client.get("/v1/regions", headers=headers)
        generated = response.headers["x-request-id"]
        assert generated != bad
        assert len(generated) == 32

    async def test_generated_when_absent(self, client: Client) -> None:
        ids = {(await client.get("/nope")).headers["x-request-id"] for _ in range(3)}
        assert len(ids) == 3


class TestCors:
    """Reads are open to every origin (`*`, no credentials); writes only to configured ones."""

    ORIGIN = "https://data.example.org"

    async def test_reads_are_open_to_any_origin(self, private_db: Path) -> None:
        app = dedicated(sqlite_url(private_db), cors_allow_origins=(self.ORIGIN,))
        async with serve(app) as client:
            for origin in (self.ORIGIN, "https://anyone.example"):
                read = await client.get("/v1/regions", headers={"Origin": origin})
                assert read.headers["access-control-allow-origin"] == "*"
                assert "access-control-allow-credentials" not in read.headers
                assert "Origin" not in read.headers["vary"]  # one cached body for all
                exposed = {
                    h.strip().lower()
                    for h in read.headers["access-control-expose-headers"].split(",")
                }
                wanted = {"link", "etag", "x-request-id", "ratelimit-remaining", "retry-after"}
                assert wanted <= exposed
            without = await client.get("/v1/regions")
        assert "access-control-allow-origin" not in without.headers

    async def test_read_preflight_from_any_origin(self, private_db: Path) -> None:
        async with serve(dedicated(sqlite_url(private_db))) as client:
            preflight = await client.options(
                "/v1/regions",
                headers={
                    "Origin": "https://anyone.example",
                    "Access-Control-Request-Method": "GET",
                },
            )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "GET" in preflight.headers["access-control-allow-methods"]
        assert "PATCH" not in preflight.headers["access-control-allow-methods"]

    async def test_writes_only_from_configured_origins(self, private_db: Path) -> None:
        app = dedicated(sqlite_url(private_db), cors_allow_origins=(self.ORIGIN,))
        async with serve(app) as client:
            allowed = await client.options(
                "/v1/metrics",
                headers={"Origin": self.ORIGIN, "Access-Control-Request-Method": "PATCH"},
            )
            refused = await client.options(
                "/v1/metrics",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            )
            write = await client.post("/v1/metrics", headers={"Origin": self.ORIGIN}, json={})
            foreign = await client.post(
                "/v1/metrics", headers={"Origin": "https://evil.example"}, json={}
            )
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == self.ORIGIN
        assert "PATCH" in allowed.headers["access-control-allow-methods"]
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        assert "Origin" in allowed.headers["vary"]
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert write.headers["access-control-allow-origin"] == self.ORIGIN  # its 401 is readable
        assert "access-control-allow-origin" not in foreign.headers

    async def test_edge_answers_are_readable_cross_origin(self, private_db: Path) -> None:
        app = create_app(Settings(database_url=sqlite_url(private_db), rate_limit_per_minute=1))
        async with serve(app) as client:
            await client.get("/v1/regions", headers={"Origin": self.ORIGIN})
            limited = await client.get("/v1/regions", headers={"Origin": self.ORIGIN})
        assert limited.status_code == 429
        assert limited.headers["access-control-allow-origin"] == "*"


class TestCoalescing:
    """Concurrent identical misses run the handler once, cache on or off."""

    @pytest.mark.parametrize("cache_mb", [0, 32])
    async def test_one_render_for_a_burst(
        self, private_db: Path, monkeypatch: pytest.MonkeyPatch, cache_mb: int
    ) -> None:
        calls = 0
        real = handlers.fetch_page  # type: ignore[attr-defined]

        async def slow_fetch_page(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.2)
            return await real(*args, **kwargs)

        monkeypatch.setattr(handlers, "fetch_page", slow_fetch_page)
        app = dedicated(sqlite_url(private_db), response_cache_mb=cache_mb)
        # The test client sends one request at a time: call the started app concurrently.
        async with (
            serve(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                base_url="http://test",
            ) as client,
        ):
            url = "/v1/metrics?limit=3&sort=-value"
            burst = await asyncio.gather(*(client.get(url) for _ in range(6)))
            other = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert {r.status_code for r in burst} == {200}
        assert len({r.content for r in burst}) == 1
        assert other.status_code == 200
        assert calls == 2  # the burst once, the other encoding on its own


# ---------------------------------------------------------------- limits


class TestRateLimit:
    async def test_429_with_retry_after(self, private_db: Path) -> None:
        app = create_app(Settings(database_url=sqlite_url(private_db), rate_limit_per_minute=3))
        async with serve(app) as client:
            responses = [await client.get("/v1/regions") for _ in range(4)]
            probes = [await client.get("/health/live") for _ in range(5)]
            unknown = await client.get("/nope")
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
        assert responses[0].headers["ratelimit-limit"] == "3"
        limited = responses[-1]
        assert limited.headers["content-type"].startswith(PROBLEM)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["status"] == 429
        assert all(p.status_code == 200 and "ratelimit-limit" not in p.headers for p in probes)
        assert unknown.status_code == 429  # scanners are limited too

    async def test_off_when_zero(self, client: Client) -> None:
        response = await client.get("/v1/regions")
        assert "ratelimit-limit" not in response.headers


# ---------------------------------------------------------------- health and faults


class TestHealth:
    async def test_live_and_ready(self, client: Client) -> None:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}
        assert ready.status_code == 200
        assert ready.json()["status"] == "ok"
        assert ready.json()["dataset_version"] >= 1

    async def test_documented(self, client: Client) -> None:
        spec = (await client.get("/schema/openapi.json")).json()
        ready = spec["paths"]["/health/ready"]["get"]
        assert list(ready["responses"]["503"]["content"]) == [PROBLEM]
        assert "/health/live" in spec["paths"]
        assert "/metrics" not in spec["paths"]


class TcpProxy:
    """A TCP forwarder that can be cut and restored: the database 'goes away' and comes back.

    It runs on threads: the test client drives the app from another event loop, which blocks
    the test's own loop while a request is in flight.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: socketserver.ThreadingTCPServer | None = None
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        proxy = self

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream = socket.create_connection(proxy.target)
                proxy._sockets += [self.request, upstream]
                peers = {self.request: upstream, upstream: self.request}
                try:
                    while True:
                        readable, _, _ = select.select(list(peers), [], [], 0.5)
                        for sock in readable:
                            data = sock.recv(65536)
                            if not data:
                                return
                            peers[sock].sendall(data)
                except OSError:
                    return
                finally:
                    upstream.close()

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", self.port), Pipe)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        for sock in self._sockets:  # cut live connections too, as a crashed server would
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()


class TestDatabaseOutage:
    async def test_dead_database_is_503_and_live_stays_up(self) -> None:
        app = dedicated(DEAD_POSTGRES, db_timeout_seconds=1.0)
        async with serve(app) as client:
            for url in ("/v1/metrics", "/v1/metrics/some-id", "/health/ready"):
                response = await client.get(url)
                assert response.status_code == 503, url
                assert response.headers["content-type"].startswith(PROBLEM)
                assert response.headers["retry-after"].isdigit()
                assert response.headers["cache-control"] == "no-store"
                assert "127.0.0.1" not in response.text
                assert "Errno" not in response.text
            live = await client.get("/health/live")
            assert live.status_code == 200
            docs = await client.get("/schema/openapi.json")
            assert docs.status_code == 200  # the contract is served without the database

    async def test_sqlite_recovers_when_the_file_returns(
        self, seeded_sqlite: Path, tmp_path: Path
    ) -> None:
        path = tmp_path / "volume" / "service.db"
        app = dedicated(sqlite_url(path))
        async with serve(app) as client:
            shutil.rmtree(path.parent)  # the volume is gone: SQLite cannot even open the file
            down = await client.get("/v1/metrics")
            not_ready = await client.get("/health/ready")
            copy_database(seeded_sqlite, path)
            up = await client.get("/v1/metrics")
            ready = await client.get("/health/ready")
        assert (down.status_code, not_ready.status_code) == (503, 503)
        assert (up.status_code, ready.status_code) == (200, 200)

    @pytest.mark.skipif(postgres_url() is None, reason="needs DATABASE_URL=postgresql+asyncpg://…")
    async def test_postgresql_recovers_when_the_server_returns(self) -> None:
        url = make_url(postgres_url() or "")
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        proxy.start()
        app = dedicated(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
            db_timeout_seconds=1.0,
        )
        try:
            async with serve(app) as client:
                assert (await client.get("/v1/metrics")).status_code == 200
                proxy.stop()
                data_version(app).invalidate()  # don't wait out the one-second version cache
                assert (await client.get("/v1/metrics")).status_code == 503
                assert (await client.get("/health/ready")).status_code == 503
                proxy.start()  # same port: the pool's pre-ping finds it again
                assert (await client.get("/v1/metrics")).status_code == 200
                assert (await client.get("/health/ready")).status_code == 200
        finally:
            proxy.stop()


# ---------------------------------------------------------------- observability


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    handler = _Collect()
    logger = logging.getLogger("service.access")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


class TestAccessLog:
    async def test_one_json_line_per_request(self, client: Client, access_lines: list[str]) -> None:
        await client.get("/v1/regions?limit=2", headers={"X-Request-ID": "trace-me"})
        await client.get("/nope")
        entries = [json.loads(line) for line in access_lines]
        assert len(entries) == 2
        first, second = entries
        assert first["method"] == "GET"
        assert first["path"] == "/v1/regions"
        assert first["status"] == 200
        assert first["request_id"] == "trace-me"
        assert first["route"] == "/v1/regions"
        assert isinstance(first["duration_ms"], float)
        assert first["duration_ms"] >= 0
        assert second["status"] == 404
        assert second["route"] == "unmatched"

    async def test_a_cache_hit_answered_at_the_edge_is_logged_under_its_route(
        self, client: Client, access_lines: list[str]
    ) -> None:
        first = await client.get("/v1/regions?limit=3")
        again = await client.get(
            "/v1/regions?limit=3", headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304
        entries = [json.loads(line) for line in access_lines]
        assert [(e["route"], e["status"]) for e in entries] == [
            ("/v1/regions", 200),
            ("/v1/regions", 304),
        ]


class TestPrometheus:
    async def test_counts_by_route_template(self, private_db: Path) -> None:
        token = "operator-token-0123456789"  # /metrics is mounted only with METRICS_TOKEN
        async with serve(dedicated(sqlite_url(private_db), metrics_token=token)) as client:
            await client.get("/v1/metrics/no-such-metric")
            response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        text = response.text
        assert 'route="/v1/metrics/{metric_id}",status="404"' in text
        assert "http_requests_total{" in text
        assert "http_request_duration_seconds_bucket{" in text


class TestSettings:
    def test_read_from_the_environment(self) -> None:
        settings = Settings.from_env(
            {
                "RATE_LIMIT_PER_MINUTE": "0",
                "CACHE_MAX_AGE": "30",
                "RESPONSE_CACHE_MB": "0",
                "MAX_QUERY_LENGTH": "100",
                "DB_TIMEOUT_SECONDS": "0.5",
            }
        )
        assert settings.rate_limit_per_minute == 0
        assert settings.cache_max_age == 30
        assert settings.response_cache_mb == 0
        assert settings.max_query_length == 100
        assert settings.db_timeout_seconds == 0.5

    def test_defaults_are_generous_and_fresh(self) -> None:
        settings = Settings.from_env({})
        # The defaults README "Configuration" documents, stated here rather than compared with
        # `Settings()` (which would only compare the dataclass with itself).
        assert settings.database_url == "sqlite+aiosqlite:///./data/service.db"
        assert settings.cors_allow_origins == ()
        assert settings.cursor_secret is None
        assert settings.debug is False
        assert settings.rate_limit_per_minute == 1200
        assert settings.cache_max_age == 60
        assert settings.response_cache_mb == 16
        assert settings.version_check_seconds == 1.0
        assert settings.max_body_bytes == 65536
        assert settings.max_query_length == 4096
        assert settings.db_timeout_seconds == 2.0
        assert settings.log_level == "INFO"
        # Each process keeps its own state: `make run` needs no Redis.
        assert settings.redis_url is None
        assert settings.redis_namespace == "lishui"
