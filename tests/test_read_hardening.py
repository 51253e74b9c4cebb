"""Read-side hardening (issue #11): nothing a client sends in `Host`/`X-Forwarded-*` reaches a
(cached) response, cursor secret and `/metrics` are never public, numbers/dates/escapes are
strict, cursors are bound to their query, and `Accept` honours q-values.

The shared `client` runs on every backend with the response cache on. Tests that need other
settings build a dedicated app on the same database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import pytest
from litestar import Litestar, Response, post
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.listing.cursor import query_binding
from service.settings import Settings
from service.web.negotiation import accepts_json, negotiate
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
        total = (await client.get("/v1/metrics?limit=1&count=exact")).json()["total"]["value"]
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

    def test_uvicorn_keep_alive_is_explicit(self) -> None:
        assert "--timeout-keep-alive 5" in (Path(ROOT) / "Makefile").read_text()


# ---------------------------------------------------------------- 4. numbers the database cannot hold


def forge(secret: bytes, payload: Any) -> str:
    """A cursor signed with the app's key: valid signature, any payload."""
    body = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
    tag = hmac.new(secret, body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(tag + body).decode().rstrip("=")


def payload_of(cursor: str) -> Any:
    return msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))[16:])


class TestNumbers:
    @pytest.mark.parametrize(
        "query",
        [
            "value__gt=1e999",
            "value=-1e14",
            "value__lt=100000000000000",
            "value=NaN",
            "value__gte=Infinity",
            "value__lte=-Infinity",
            "value=sNaN",
            "value=" + "9" * 30,
            "value=1e9999999",
            "value__in=1,2,1e20",
            "value__not=0x10",
            "value=1_000",
            "value=%201",
        ],
    )
    async def test_out_of_range_or_malformed_is_400_with_the_range(
        self, client: Client, query: str
    ) -> None:
        name = query.partition("=")[0]
        body = await assert_problem(client, f"/v1/metrics?{query}", 400, name)
        assert "1e14" in body["invalid_params"][0]["reason"]

    async def test_finer_than_the_column_compares_exactly(self, client: Client) -> None:
        async def ids(query: str) -> list[str]:
            response = await client.get(f"/v1/metrics?limit=100&count=none&fields=id&{query}")
            assert response.status_code == 200, (query, response.text[:300])
            return [item["id"] for item in response.json()["data"]]

        positive = await ids("value__gt=0")
        assert positive
        assert await ids("value__gte=1E-16384") == positive
        assert await ids("value__gt=1E-16384") == positive
        assert await ids("value=1E-16384") == []
        assert await ids("value__in=1E-16384,-1E-16384") == []
        assert await ids("value__lte=-1E-16384") == await ids("value__lt=0")
        assert await ids("value__lt=1E-16384") == await ids("value__lte=0")
        assert await ids("value__not=0.0000001") == await ids("sort=document,position")


# ---------------------------------------------------------------- 4 & 7. control characters, UTF-8


LIST_URLS = [
    "/v1/metrics",
    "/v1/articles",
    "/v1/initiatives",
    "/v1/organisations",
    "/v1/regions",
    "/v1/documents",
    "/v1/search?q=%E5%B7%A5%E5%9D%8A",
    "/v1/changes",
]
CONTROL = ["%00", "%01", "%0A", "%1B", "%7F", "%C2%85", "a%00b"]


class TestStrictText:
    @pytest.mark.parametrize("char", CONTROL)
    @pytest.mark.parametrize(
        "param", ["q", "sort", "fields", "expand", "facet", "cursor", "format", "unit", "kind__in"]
    )
    async def test_control_characters_in_any_parameter(
        self, client: Client, param: str, char: str
    ) -> None:
        body = await assert_problem(client, f"/v1/metrics?{param}={char}", 400, param)
        assert "control character" in body["detail"]

    @pytest.mark.parametrize("url", LIST_URLS)
    async def test_every_list_and_parameter_names_too(self, client: Client, url: str) -> None:
        sep = "&" if "?" in url else "?"
        for extra in ("since=1%00", "type=articles%00", "limit=5%0A", "x%00y=1", "cursor=%00"):
            await assert_problem(client, f"{url}{sep}{extra}", 400)

    @pytest.mark.parametrize(
        "url",
        [
            "/v1/search?q=%FF",
            "/v1/metrics?q=%C3%28",
            "/v1/metrics?unit=%E5%85",
            "/v1/changes?since=%80",
            "/v1/regions/li-shui-shi?fields=%FE",
            "/v1/metrics?%FF=1",
            "/schema/openapi.json?x=%FF",
            "/docs?x=%ED%A0%80",  # an encoded surrogate is not UTF-8 either
            "/v1/metrics/%FF",
            "/v1/metrics/%00",
        ],
    )
    async def test_invalid_utf8_and_control_characters_at_the_edge(
        self, client: Client, url: str
    ) -> None:
        body = await assert_problem(client, url, 400)
        assert body["invalid_params"]
        assert "�" not in json.dumps(body, ensure_ascii=False)

    @pytest.mark.parametrize(
        "query",
        [
            "limit=%D9%A5",  # Arabic-Indic 5
            "limit=%EF%BC%95",  # full-width 5
            "limit=%E0%A5%AB",  # Devanagari 5
            "limit=+5",
            "limit=5.0",
            "limit=%205",
            "value=%D9%A5",
            "value__gt=%EF%BC%91%EF%BC%90",
            "value__in=1,%D9%A2",
        ],
    )
    async def test_ascii_digits_only_in_numbers(self, client: Client, query: str) -> None:
        await assert_problem(client, f"/v1/metrics?{query}", 400, query.partition("=")[0])

    @pytest.mark.parametrize(
        "since",
        [
            "%D9%A5",
            "%EF%BC%91",
            "%D9%A2%D9%A0%D9%A2%D9%A6-01-01T00:00:00Z",
            "2026-01-01T00:00:00%EF%BC%BA",
            "2026-%EF%BC%90%EF%BC%91-01T00:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00%2B23:59",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "1" * 19,
        ],
    )
    async def test_ascii_digits_only_in_since(self, client: Client, since: str) -> None:
        await assert_problem(client, f"/v1/changes?since={since}", 400, "since")

    async def test_valid_since_still_works(self, client: Client) -> None:
        for since in ("0", "2026-01-30T00:00:00z", "2020-01-01T08:00:00%2B08:00"):
            response = await client.get(f"/v1/changes?since={since}")
            assert response.status_code == 200, (since, response.text)


# ---------------------------------------------------------------- 4 & 5. cursors


# Every endpoint that pages (changes below), with the type of each cursor key (sort keys, id).
CURSOR_CASES = [
    ("/v1/metrics?limit=2", ("str", "int32", "str")),  # default sort: document, position
    ("/v1/metrics?limit=2&sort=-value,kind", ("decimal", "str", "str")),
    ("/v1/metrics?limit=2&sort=position", ("int32", "str")),
    ("/v1/articles?limit=2&sort=position", ("int32", "str")),
    ("/v1/articles?limit=2", ("str", "int32", "str")),
    ("/v1/initiatives?limit=2", ("str", "str")),
    ("/v1/organisations?limit=2", ("str", "str")),
    ("/v1/regions?limit=2", ("str", "str", "str")),
    ("/v1/documents?limit=1", ("str", "str")),
    ("/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2", ("int64", "str", "str")),  # score, type, id
    ("/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2&sort=type", ("str", "str")),
    ("/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2&sort=-title", ("str", "str", "str")),
]
# Values no key of that type can hold (or the database accept).
JUNK: dict[str, list[Any]] = {
    "str": [True, 0, 2**63, 10**40, 1.5, [], {}, "a\x00b", "\x00"],
    "int32": [None, True, "1", "", 2**31, -(2**31) - 1, 2**63, 10**40, 1.5, [], {}],
    "int64": [None, True, "1", 2**63, -(2**63) - 1, 10**40, 1.5, [], {}],
    "decimal": [
        *(None, True, 0, 5, "", "x", "NaN", "Infinity", "1e5", "1E-16384", "9" * 30),
        *("1.0000001", "100000000000000", "a\x00", "٥", 1.5, [], {}),
    ],
}


async def issued(client: Client, url: str) -> tuple[str, list[Any]]:
    body = (await client.get(url)).json()
    cursor = body["page"]["next_cursor"]
    assert cursor, url
    direction, values, binding = payload_of(cursor)
    assert direction == "next"
    return binding, values


def hostile_values(values: list[Any], kinds: tuple[str, ...]) -> list[list[Any]]:
    """Wrong arity, and each key in turn replaced by a value of the wrong type or range."""
    out = [[], values[:-1], [*values, values[-1]], [None] * len(values)]
    for i, kind in enumerate(kinds):
        out += [[*values[:i], junk, *values[i + 1 :]] for junk in JUNK[kind]]
    return out


class TestCursorPayloads:
    @pytest.mark.parametrize(("url", "kinds"), CURSOR_CASES)
    async def test_signed_but_unexpected_payloads_are_400(
        self, app: Litestar, client: Client, url: str, kinds: tuple[str, ...]
    ) -> None:
        secret: bytes = app.state.cursor_secret
        binding, values = await issued(client, url)
        assert len(values) == len(kinds)
        payloads: list[Any] = [["next", v, binding] for v in hostile_values(values, kinds)]
        payloads += [
            ["sideways", values, binding],
            [None, values, binding],
            ["next", values, binding, "extra"],
            ["next", values],
            ["next", values, None],
            ["next", values, 123],
            ["next", None, binding],
            {"direction": "next", "values": values, "binding": binding},
            "next",
            None,
            b"\xff\xfe",
            b"[" * 1000,
        ]
        for payload in payloads:
            cursor = forge(secret, payload)
            response = await client.get(f"{url}&cursor={cursor}")
            assert response.status_code == 400, (url, payload, response.text[:300])
            assert response.headers["content-type"].startswith(PROBLEM)
        # The real values, re-signed, still work: the 400s were the payloads.
        ok = await client.get(f"{url}&cursor={forge(secret, ['next', values, binding])}")
        assert ok.status_code == 200

    async def test_changes_cursor_payloads(self, app: Litestar, client: Client) -> None:
        secret: bytes = app.state.cursor_secret
        binding = query_binding(secret, "/v1/changes", [None, None], ["id"])
        assert (
            await client.get(f"/v1/changes?cursor={forge(secret, ['next', [0], binding])}")
        ).status_code == 200
        for values in hostile_values([0], ("int64",)):
            cursor = forge(secret, ["next", values, binding])
            await assert_problem(client, f"/v1/changes?cursor={cursor}", 400, "cursor")
        # Changes page forwards only.
        prev = forge(secret, ["prev", [0], binding])
        await assert_problem(client, f"/v1/changes?cursor={prev}", 400, "cursor")

    async def test_unsigned_truncated_and_odd_alphabets(self, client: Client) -> None:
        binding, values = await issued(client, "/v1/metrics?limit=2")
        good = (await client.get("/v1/metrics?limit=2")).json()["page"]["next_cursor"]
        flipped = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
        for bad in (good[:-3], flipped, good + "+", "é" + good, "x" * 3000, "==", good + "=="):
            await assert_problem(client, f"/v1/metrics?limit=2&cursor={quote(bad)}", 400, "cursor")
        legacy = forge(b"dev-only-cursor-secret", ["next", values, binding])
        await assert_problem(client, f"/v1/metrics?limit=2&cursor={legacy}", 400, "cursor")


class TestCursorBinding:
    PAIRS = [
        ("/v1/metrics?limit=2", "/v1/metrics?limit=2&value__gt=0"),
        ("/v1/metrics?limit=2&sort=-value", "/v1/metrics?limit=2&sort=value"),
        ("/v1/metrics?limit=2&unit=%E5%85%83", "/v1/metrics?limit=2&unit=%E4%B8%AA"),
        ("/v1/metrics?limit=2&q=%E5%B7%A5%E5%9D%8A", "/v1/metrics?limit=2&q=%E4%B8%BD%E6%B0%B4"),
        ("/v1/articles?limit=2", "/v1/articles?limit=2&sort=kind"),
        ("/v1/initiatives?limit=2", "/v1/initiatives?limit=2&kind__not=brand"),
        ("/v1/organisations?limit=2", "/v1/organisations?limit=2&region=li-shui-shi"),
        ("/v1/regions?limit=2", "/v1/regions?limit=2&sort=-name"),
        ("/v1/documents?limit=1", "/v1/documents?limit=1&sort=-date_estimate"),
        (
            "/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2",
            "/v1/search?q=%E4%B8%BD%E6%B0%B4&limit=2",
        ),
        (
            "/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2",
            "/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2&type=articles",
        ),
        # The same cursor on another endpoint with the same key shape.
        ("/v1/initiatives?limit=2", "/v1/organisations?limit=2"),
        ("/v1/articles?limit=2", "/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2"),
    ]

    @pytest.mark.parametrize(("issued_for", "replayed_on"), PAIRS)
    async def test_cursor_of_one_query_is_refused_by_another(
        self, client: Client, issued_for: str, replayed_on: str
    ) -> None:
        first = (await client.get(issued_for)).json()
        cursor = first["page"]["next_cursor"]
        assert cursor, issued_for
        assert (await client.get(f"{issued_for}&cursor={cursor}")).status_code == 200
        body = await assert_problem(client, f"{replayed_on}&cursor={cursor}", 400, "cursor")
        assert "different query" in body["detail"] or "tampered" in body["detail"]

    async def test_changes_cursor_is_bound_to_since_and_resource(
        self, app: Litestar, client: Client
    ) -> None:
        secret: bytes = app.state.cursor_secret
        for query, selection in (
            ("since=0", [0, None]),
            ("since=2026-01-01T00:00:00Z", ["2026-01-01T00:00:00+00:00", None]),
            ("resource=metrics", [None, "metrics"]),
        ):
            cursor = forge(
                secret, ["next", [0], query_binding(secret, "/v1/changes", selection, ["id"])]
            )
            assert (await client.get(f"/v1/changes?{query}&cursor={cursor}")).status_code == 200
            for other in ("since=1", "since=2026-01-01T00:00:01Z", "resource=articles", "limit=5"):
                if other != query:
                    await assert_problem(
                        client, f"/v1/changes?{other}&cursor={cursor}", 400, "cursor"
                    )

    def test_binding_is_a_full_hmac(self) -> None:
        a = query_binding(b"k" * 32, "/v1/search", [["x" * 40], []], ["type", "id"])
        b = query_binding(b"k" * 32, "/v1/search", [["x" * 40 + "y"], []], ["type", "id"])
        assert len(a) == 32
        assert a != b
        assert query_binding(b"j" * 32, "/v1/search", [["x" * 40], []], ["type", "id"]) != a


# ---------------------------------------------------------------- 6. Accept with q-values


class TestAcceptNegotiation:
    URL = "/v1/regions?limit=3"

    @pytest.mark.parametrize(
        ("accept", "media"),
        [
            ("text/csv;q=0, application/json", "application/json"),
            ("text/csv;q=0.5, application/x-ndjson;q=0.9", "application/x-ndjson"),
            ("application/x-ndjson;q=0.4, text/csv;q=0.5", "text/csv"),
            ("application/json;q=0, text/csv", "text/csv"),
            ("text/csv, application/json", "application/json"),  # a tie: the server's order
            ("text/*", "text/csv"),
            ("*/*", "application/json"),
            ("*/*;q=0.1, text/csv;q=0.2", "text/csv"),
            ("text/csv;q=0, */*", "application/json"),
            ("application/problem+json", "application/json"),
            ("text/csv;q=abc, application/json;q=0.1", "application/json"),
        ],
    )
    async def test_q_values(self, client: Client, accept: str, media: str) -> None:
        response = await client.get(self.URL, headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"].startswith(media), accept

    @pytest.mark.parametrize(
        "accept", ["text/html", "text/csv;q=0", "application/json;q=0, text/html", "image/*"]
    )
    async def test_nothing_acceptable_is_406(self, client: Client, accept: str) -> None:
        response = await client.get(self.URL, headers={"Accept": accept})
        assert response.status_code == 406
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_format_wins_over_accept(self, client: Client) -> None:
        csv = await client.get(self.URL + "&format=csv", headers={"Accept": "application/json"})
        assert csv.headers["content-type"].startswith("text/csv")
        json_ = await client.get(self.URL + "&format=json", headers={"Accept": "text/csv"})
        assert json_.headers["content-type"].startswith("application/json")

    async def test_cache_varies_on_accept(self, client: Client) -> None:
        url = "/v1/metrics?limit=2&count=none"
        sequence = [
            ("application/json", "application/json"),
            ("text/csv", "text/csv"),
            ("text/csv;q=0, application/json", "application/json"),
            ("text/csv;q=0.5, application/x-ndjson;q=0.9", "application/x-ndjson"),
            ("application/json", "application/json"),
            ("text/csv", "text/csv"),
        ]
        for accept, media in sequence * 2:
            response = await client.get(url, headers={"Accept": accept})
            assert response.headers["content-type"].startswith(media), accept
            assert "Accept" in response.headers["vary"]

    def test_negotiate(self) -> None:
        offers = ("application/json", "text/csv")
        assert negotiate(None, offers) == "application/json"
        assert negotiate("", offers) == "application/json"
        assert negotiate("TEXT/CSV", offers) == "text/csv"
        assert negotiate("text/csv;q=0.3, application/json;q=0.2", offers) == "text/csv"
        assert negotiate("application/json;q=0, text/csv;q=0", offers) is None
        assert negotiate("application/*;q=0.5, application/json;q=0", offers) is None
        assert negotiate("application/json;q=1.5", offers) is None  # invalid q: ignored
        assert accepts_json("text/csv;q=0.1")
        assert not accepts_json("text/csv;q=0")


# ---------------------------------------------------------------- 1, 3, 8 through the real proxy


@pytest.fixture(scope="module")
def nginx_url(proxied_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """deploy/nginx.conf in front of the proxied uvicorn (skipped where nginx is missing)."""
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    if binary is None:
        pytest.skip("nginx not installed (apt-get install nginx-light)")
    directory = tmp_path_factory.mktemp("nginx")
    port = free_port()
    upstream = proxied_url.removeprefix("http://")
    conf = (Path(ROOT) / "deploy" / "nginx.conf").read_text()
    conf = conf.replace("server api:8000", f"server {upstream}")
    conf = conf.replace("listen 8000", f"listen 127.0.0.1:{port}")
    (directory / "default.conf").write_text(conf)
    # What the official image's nginx.conf wraps around conf.d/default.conf.
    (directory / "nginx.conf").write_text(
        f"""worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
daemon off;
events {{}}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    keepalive_timeout 65;
    include {directory}/default.conf;
}}
"""
    )
    command = [binary, "-c", str(directory / "nginx.conf"), "-p", str(directory)]
    test = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/health/live", headers={"Host": "localhost"}, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


class TestThroughNginx:
    def test_only_configured_hosts_reach_the_api(self, nginx_url: str) -> None:
        with httpx.Client(base_url=nginx_url, timeout=10) as http:
            ok = http.get("/v1/regions?limit=1", headers={"Host": "localhost"})
            assert ok.status_code == 200
            assert ok.json()["links"]["next"].startswith("/v1/regions?")
            for host in (EVIL, "localhost.evil.example", "127.0.0.1.evil.example"):
                refused = http.get("/v1/regions?limit=1", headers={**HOSTILE_HEADERS, "Host": host})
                assert refused.status_code == 421, host
                assert refused.headers["content-type"].startswith(PROBLEM)
            forwarded = http.get(
                "/v1/regions?limit=1", headers={**HOSTILE_HEADERS, "Host": "localhost"}
            )
            assert not leaks(forwarded)

    def test_metrics_is_not_proxied(self, nginx_url: str) -> None:
        response = httpx.get(nginx_url + "/metrics", headers={"Host": "localhost"}, timeout=10)
        assert response.status_code == 404
        assert "http_requests_total" not in response.text

    def test_a_client_trickling_headers_is_cut(self, nginx_url: str) -> None:
        host, port = nginx_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"GET /v1/regions HTTP/1.1\r\nHost: localhost\r\n")
            started = time.monotonic()
            assert sock.recv(1024) in (b"", b"HTTP/1.1 408")
            assert time.monotonic() - started < 15  # client_header_timeout 10s
