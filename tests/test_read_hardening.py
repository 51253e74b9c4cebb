"""Read-side hardening (issue #11): nothing a client sends in `Host`/`X-Forwarded-*` reaches a
(cached) response, cursor secret and `/metrics` are never public, numbers/dates/escapes are
strict, cursors are bound to their query, and `Accept` honours q-values.

The shared `client` runs on every backend with the response cache on. Tests that need other
settings build a dedicated app on the same database.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Response, post
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.helpers import Client, assert_problem
from tests.live_server import ROOT, free_port

PROBLEM = "application/problem+json"
EVIL = "evil.example"
HOSTILE_HEADERS = {
    "Host": EVIL,
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Port": "6666",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-For": "203.0.113.9",
    "Forwarded": f"for=203.0.113.9;host={EVIL};proto=https",
    "X-Original-URL": f"http://{EVIL}/",
}
# Every paged endpoint and a sample of the rest: a cursor in the query where there is one.
PAGED = [
    "/v1/metrics?limit=3&count=none",
    "/v1/articles?limit=2",
    "/v1/initiatives?limit=2&sort=name",
    "/v1/organisations?limit=3&count=none",
    "/v1/regions?limit=2",
    "/v1/documents?limit=1",
    "/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2",
    "/v1/changes?limit=1",
]
OTHER = [
    "/v1/meta",
    "/v1/regions/li-shui-shi",
    "/v1/metrics/no-such-id",
    "/v1/metrics?bogus=1",
    "/no/such/route",
    "/schema/openapi.json",
    "/docs",
    "/docs/redoc",
    "/health/ready",
]


def dedicated(database_url: str, **overrides: Any) -> Litestar:
    return create_app(Settings(database_url=database_url, rate_limit_per_minute=0, **overrides))


def leaks(response: httpx.Response, needle: str = EVIL) -> list[str]:
    """Where `needle` shows up in a response: header names or "body"."""
    found = [k for k, v in response.headers.items() if needle in v.lower()]
    if needle.encode() in response.content.lower():
        found.append("body")
    return found


# ---------------------------------------------------------------- 1. host-independent URLs


class TestNoHostInResponses:
    async def test_hostile_then_plain_request_share_nothing_of_the_host(
        self, client: Client
    ) -> None:
        for url in PAGED + OTHER:
            for headers in (HOSTILE_HEADERS, {}, HOSTILE_HEADERS):
                response = await client.get(url, headers={**headers, "Accept-Encoding": "identity"})
                assert response.status_code < 500, url
                assert not leaks(response), (url, headers, leaks(response))

    async def test_links_are_relative_references(self, client: Client) -> None:
        for url in PAGED:
            response = await client.get(url, headers=HOSTILE_HEADERS)
            links = response.json()["links"]
            for rel in ("self", "next", "prev"):
                if links[rel] is not None:
                    assert links[rel].startswith("/v1/"), (url, links)
            for part in response.headers.get("link", "").split(","):
                if part:
                    assert part.strip().startswith("</v1/"), (url, part)

    async def test_following_relative_links_pages_through(self, client: Client) -> None:
        body = (await client.get("/v1/metrics?limit=40&count=none")).json()
        seen = len(body["data"])
        while body["links"]["next"]:
            body = (await client.get(body["links"]["next"])).json()
            seen += len(body["data"])
        total = (await client.get("/v1/metrics?limit=1")).json()["total"]["value"]
        assert seen == total

    async def test_public_base_url_builds_every_absolute_url(self, database_url: str) -> None:
        base = "https://data.example.org/api"

        @post("/v1/made", sync_to_thread=False)
        def made() -> Response[dict[str, str]]:
            return Response({"id": "x"}, status_code=201, headers={"Location": "/v1/made/x"})

        app = dedicated(database_url, public_base_url=base + "/")
        app.register(made)
        async with AsyncTestClient(app=app) as client:
            for url in PAGED:
                response = await client.get(url, headers=HOSTILE_HEADERS)
                assert not leaks(response), url
                links = response.json()["links"]
                assert links["self"].startswith(base + "/v1/"), links
                if links["next"]:
                    assert f"<{links['next']}>" in response.headers["link"]
                    assert links["next"].startswith(base + "/v1/")
            created = await client.post("/v1/made", headers=HOSTILE_HEADERS)
        assert created.headers["location"] == base + "/v1/made/x"

    @pytest.mark.parametrize(
        "bad",
        ["example.org", "ftp://example.org", "https://", "https://x.org/?a=1", "https://x.org/#f"],
    )
    def test_public_base_url_is_validated(self, bad: str) -> None:
        with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
            Settings.from_env({"PUBLIC_BASE_URL": bad})


@pytest.fixture(scope="module")
def proxied_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn as deployed behind the proxy: trusting X-Forwarded-* from anyone (worst case)."""
    import asyncio

    from service.seed import load
    from tests.conftest import fresh_database

    directory = tmp_path_factory.mktemp("proxied")
    database = f"sqlite+aiosqlite:///{directory / 'live.db'}"
    fresh_database(database)
    asyncio.run(load(database))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "RATE_LIMIT_PER_MINUTE": "0"}
    env.pop("CURSOR_SECRET", None)
    env.pop("PUBLIC_BASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "service.app:app_from_env", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--proxy-headers", "--forwarded-allow-ips", "*", "--timeout-keep-alive", "5"]
    log = (directory / "uvicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health/live", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((directory / "uvicorn.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_behind_a_proxy_forwarded_headers_never_reach_the_cache(proxied_url: str) -> None:
    with httpx.Client(base_url=proxied_url, timeout=10) as http:
        for url in PAGED:
            poisoned = http.get(url, headers=HOSTILE_HEADERS)
            plain = http.get(url)
            assert poisoned.status_code == plain.status_code == 200, url
            assert not leaks(poisoned), url
            assert not leaks(plain), (url, leaks(plain))
            assert not leaks(plain, "gopher"), url
            assert not leaks(plain, "6666"), url
            assert plain.json()["links"]["self"].startswith("/v1/")


# ---------------------------------------------------------------- 2. cursor secret


class TestCursorSecret:
    def test_unset_by_default(self) -> None:
        assert Settings.from_env({}).cursor_secret is None
        assert Settings.from_env({"CURSOR_SECRET": ""}).cursor_secret is None

    def test_short_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="CURSOR_SECRET"):
            Settings.from_env({"CURSOR_SECRET": "dev-only"})

    async def test_random_per_process_key_with_a_loud_warning(self, database_url: str) -> None:
        first, second = dedicated(database_url), dedicated(database_url)
        assert first.state.cursor_secret != second.state.cursor_secret
        assert len(first.state.cursor_secret) == 32
        records: list[logging.LogRecord] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(record)

        handler = Collect()
        logger = logging.getLogger("service.security")
        logger.addHandler(handler)
        try:
            async with AsyncTestClient(app=first) as client:
                await client.get("/health/live")
        finally:
            logger.removeHandler(handler)
        assert records
        assert records[0].levelno == logging.WARNING
        assert "CURSOR_SECRET" in records[0].getMessage()
        configured = dedicated(database_url, cursor_secret="x" * 32)
        records.clear()
        logger.addHandler(handler)
        try:
            async with AsyncTestClient(app=configured) as client:
                await client.get("/health/live")
        finally:
            logger.removeHandler(handler)
        assert not records

    async def test_a_cursor_from_another_process_key_is_refused(self, database_url: str) -> None:
        async with AsyncTestClient(app=dedicated(database_url)) as one:
            cursor = (await one.get("/v1/metrics?limit=2")).json()["page"]["next_cursor"]
        async with AsyncTestClient(app=dedicated(database_url)) as other:
            await assert_problem(other, f"/v1/metrics?limit=2&cursor={cursor}", 400, "cursor")

    async def test_configured_secret_is_shared(self, database_url: str) -> None:
        secret = "a-shared-secret-of-32-characters"
        async with AsyncTestClient(app=dedicated(database_url, cursor_secret=secret)) as one:
            cursor = (await one.get("/v1/metrics?limit=2")).json()["page"]["next_cursor"]
        async with AsyncTestClient(app=dedicated(database_url, cursor_secret=secret)) as other:
            response = await other.get(f"/v1/metrics?limit=2&cursor={cursor}")
        assert response.status_code == 200


# ---------------------------------------------------------------- 3. /metrics


class TestPrometheusEndpoint:
    TOKEN = "operator-token-0123456789"

    async def test_absent_without_a_token(self, client: Client) -> None:
        await assert_problem(client, "/metrics", 404)

    async def test_only_with_the_bearer_token(self, database_url: str) -> None:
        app = dedicated(database_url, metrics_token=self.TOKEN)
        async with AsyncTestClient(app=app) as client:
            await client.get("/v1/metrics/no-such-metric")
            for auth in (None, "Bearer wrong", f"Basic {self.TOKEN}", self.TOKEN):
                headers = {"Authorization": auth} if auth else {}
                denied = await client.get("/metrics", headers=headers)
                assert denied.status_code == 401, auth
                assert denied.headers["content-type"].startswith(PROBLEM)
                assert "http_requests_total" not in denied.text
            ok = await client.get("/metrics", headers={"Authorization": f"Bearer {self.TOKEN}"})
        assert ok.status_code == 200
        assert ok.headers["cache-control"] == "no-store"
        assert 'route="/v1/metrics/{metric_id}",status="404"' in ok.text

    def test_short_token_is_refused(self) -> None:
        with pytest.raises(ValueError, match="METRICS_TOKEN"):
            Settings.from_env({"METRICS_TOKEN": "short"})


# ---------------------------------------------------------------- deploy/nginx.conf


class TestNginxConfig:
    @pytest.fixture(scope="class")
    def conf(self) -> str:
        return (Path(ROOT) / "deploy" / "nginx.conf").read_text()

    def test_host_is_not_the_clients(self, conf: str) -> None:
        assert "$http_host" not in conf
        assert "proxy_set_header Host $host;" in conf
        assert "default_server" in conf
        assert "server_name _;" in conf

    def test_metrics_not_proxied(self, conf: str) -> None:
        assert "location = /metrics" in conf

    def test_timeouts_and_body_limit(self, conf: str) -> None:
        for directive in ("client_header_timeout", "client_body_timeout", "send_timeout"):
            assert f"{directive} " in conf, directive
        assert f"client_max_body_size {Settings().max_body_bytes // 1024}k;" in conf
