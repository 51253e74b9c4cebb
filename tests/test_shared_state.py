"""State shared across replicas through Redis (service/web/shared.py), in-process.

Two apps made by `create_app` with the same database and the same `REDIS_URL` stand for two
replicas: they draw on one rate-limit budget, a write through one is what the other answers
next (no stale cached copy, though neither re-reads the dataset version on its own for an
hour), and a page rendered by one is served from Redis by the other; a seed load that moves
the version announces it too. Redis unreachable: answers keep coming, counted and cached in
each process. Every backend; the database is this module's
own (SQLite file; PostgreSQL `<suite db>_shared`), the Redis keys live in `TEST_REDIS_URL`
(default DB 3 on 127.0.0.1:6379) under a fresh `h-redis-…` namespace, deleted afterwards.
Skips, saying why, when no Redis answers there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth import create_key
from service.db import create_engine
from service.seed import load
from service.seed.__main__ import main as seed_main
from service.settings import Settings
from service.web.layer import HttpLayer
from service.web.shared import Breaker
from tests.conftest import BACKENDS, fresh_database, scratch_postgres_url
from tests.helpers import Client

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
ORGANISATION = "tai-long-yin-hang-li-shui-fen-hang"
# Long enough that only the published version can explain a change seen by the other app.
NO_REREAD = 3600.0


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    """A fresh key namespace in Redis DB 3; skips when Redis does not answer."""
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}): the shared-state tests need one")
    name = f"h-redis-{uuid.uuid4().hex[:12]}"
    yield name
    for key in probe.scan_iter(match=f"{name}:*"):
        probe.delete(key)
    probe.close()


class Pair:
    """Two replicas of one deployment: same database, same Redis."""

    def __init__(self, url: str, token: str, a: Client, b: Client) -> None:
        self.url, self.token, self.a, self.b = url, token, a, b

    def auth(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


async def until(check: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def replicas(url: str, namespace: str, **overrides: Any) -> AsyncIterator[list[Client]]:
    settings = Settings(
        database_url=url,
        redis_url=REDIS_URL,
        redis_namespace=namespace,
        version_check_seconds=NO_REREAD,
        **overrides,
    )
    apps: list[Litestar] = [create_app(settings), create_app(settings)]
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(AsyncTestClient(app=app)) for app in apps]
        for app in apps:  # subscribed before anything is written
            layer: HttpLayer = app.state.http
            shared = layer.shared
            assert shared is not None
            await until(lambda s=shared: s.listening, "the version subscription")  # type: ignore[misc]
        yield clients


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def shared_log() -> Iterator[list[logging.LogRecord]]:
    """What service/web/shared.py logs (the app's logging set-up replaces caplog's handler)."""
    handler = _Collect()
    logger = logging.getLogger("service.shared")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope="module", params=BACKENDS)
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str]:
    """This module's own seeded database and an editor's API key."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('shared') / 'shared.db'}"
    else:
        url = await asyncio.to_thread(scratch_postgres_url, "shared")
    await asyncio.to_thread(fresh_database, url)
    await load(url)
    engine = create_engine(url, pool=False)
    async with engine.begin() as conn:
        _, token = await create_key(conn, "alice", "editor")
    await engine.dispose()
    return url, token


@pytest.fixture
async def pair(database: tuple[str, str], namespace: str) -> AsyncIterator[Pair]:
    url, token = database
    # A namespace per test: the budgets and cached pages of one test never reach another.
    async with replicas(url, f"{namespace}:{uuid.uuid4().hex[:8]}", rate_limit_per_minute=0) as (
        a,
        b,
    ):
        yield Pair(url, token, a, b)


async def test_replicas_share_one_rate_limit_budget(
    database: tuple[str, str], namespace: str
) -> None:
    url, _ = database
    async with replicas(url, f"{namespace}:{uuid.uuid4().hex[:8]}", rate_limit_per_minute=5) as (
        a,
        b,
    ):
        sent = [a, b, a, b, a, b, a]
        responses = [await client.get("/v1/meta") for client in sent]
        assert [r.status_code for r in responses] == [200] * 5 + [429, 429]
        remaining = [r.headers["ratelimit-remaining"] for r in responses]
        assert remaining == ["4", "3", "2", "1", "0", "0", "0"]
        assert all(r.headers["ratelimit-limit"] == "5" for r in responses)
        resets = [int(r.headers["ratelimit-reset"]) for r in responses]
        assert all(1 <= reset <= 60 for reset in resets)
        limited = responses[-1]
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # The exempt paths stay exempt, on either replica.
        assert (await b.get("/health/live")).status_code == 200


async def test_a_write_through_one_replica_is_what_the_other_answers_next(pair: Pair) -> None:
    path = f"/v1/organisations/{ORGANISATION}"
    before = await pair.b.get(path)  # cached by b (and in Redis) at the current version
    assert before.status_code == 200
    assert (await pair.b.get(path)).headers["etag"] == before.headers["etag"]
    listed = await pair.b.get("/v1/organisations?limit=100")
    name_en = f"Renamed through replica A {uuid.uuid4().hex[:6]}"
    patched = await pair.a.patch(
        path, json={"name_en": name_en}, headers=pair.auth(**{"If-Match": before.headers["etag"]})
    )
    assert patched.status_code == 200, patched.text
    after = await pair.b.get(path)
    assert after.status_code == 200
    assert after.json()["name_en"] == name_en
    assert after.headers["etag"] == patched.headers["etag"]
    relisted = await pair.b.get("/v1/organisations?limit=100")
    assert relisted.headers["etag"] != listed.headers["etag"]
    assert name_en in relisted.text
    # A new record too: b answered 404 before, the record right after a's 201.
    new_id = f"shared-{uuid.uuid4().hex[:8]}"
    assert (await pair.b.get(f"/v1/organisations/{new_id}")).status_code == 404
    body = {"id": new_id, "name": f"共享测试{new_id}", "kind": "other"}
    created = await pair.a.post("/v1/organisations", json=body, headers=pair.auth())
    assert created.status_code == 201, created.text
    assert (await pair.b.get(f"/v1/organisations/{new_id}")).status_code == 200


async def test_a_page_rendered_by_one_replica_is_served_by_the_other_from_redis(
    pair: Pair, namespace: str
) -> None:
    probe = redis.Redis.from_url(REDIS_URL)
    pattern = f"{namespace}:*:responses:*"
    stored_before = len(list(probe.scan_iter(match=pattern)))
    path = "/v1/metrics?limit=3&sort=-value"
    first = await pair.a.get(path)
    assert first.status_code == 200
    assert len(list(probe.scan_iter(match=pattern))) > stored_before
    ttl = min(probe.ttl(key) for key in probe.scan_iter(match=pattern))
    assert 0 < ttl <= 600, "shared entries expire"
    second = await pair.b.get(path)
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    revalidated = await pair.b.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304
    probe.close()


async def test_redis_down_degrades_to_this_process(database: tuple[str, str]) -> None:
    """Nothing listens on port 1: every answer still comes, limited and cached in this
    process, and its own writes show at once (the warning: see the breaker test below)."""
    url, token = database
    down = "redis://127.0.0.1:1/0"
    settings = Settings(
        database_url=url, redis_url=down, rate_limit_per_minute=3, version_check_seconds=NO_REREAD
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        responses = [await client.get("/v1/meta") for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    app = create_app(Settings(database_url=url, redis_url=down, rate_limit_per_minute=0))
    async with AsyncTestClient(app=app) as client:
        path = f"/v1/organisations/{ORGANISATION}"
        before = await client.get(path)
        assert before.status_code == 200
        assert (await client.get(path)).headers["etag"] == before.headers["etag"]
        name_en = f"Written while Redis is down {uuid.uuid4().hex[:6]}"
        headers = {"Authorization": f"Bearer {token}", "If-Match": before.headers["etag"]}
        patched = await client.patch(path, json={"name_en": name_en}, headers=headers)
        assert patched.status_code == 200, patched.text
        assert (await client.get(path)).json()["name_en"] == name_en  # its own write, at once
        layer: HttpLayer = app.state.http
        assert layer.shared is not None
        assert not layer.shared.breaker.up


def test_a_seed_load_that_changes_the_data_is_announced(
    tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m service.seed load` (the compose `migrate` job) publishes the new version."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'announced.db'}"
    fresh_database(url)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_NAMESPACE", namespace)
    client = redis.Redis.from_url(REDIS_URL)
    listener = client.pubsub()  # type: ignore[no-untyped-call]
    listener.subscribe(f"{namespace}:versions")

    def published(seconds: float) -> list[bytes]:
        seen, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = listener.get_message(timeout=0.1)
            if message is not None and message["type"] == "message":
                seen.append(message["data"])
        return seen

    try:
        assert seed_main(["load", "--database-url", url]) == 0  # empty → seeded: changed
        assert published(1.0) == [b"1"]
        assert seed_main(["load", "--database-url", url]) == 0  # unchanged: nothing to say
        assert published(0.5) == []
    finally:
        listener.close()
        client.close()


class FlakyRedis:
    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    def action(self) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            self.calls += 1
            if not self.up:
                raise redis.ConnectionError("Connection refused")
            return "redis"

        return call


async def test_breaker_falls_back_skips_redis_while_down_and_resumes(
    shared_log: list[logging.LogRecord],
) -> None:
    flaky, breaker = FlakyRedis(), Breaker(retry_seconds=0.05)
    assert await breaker.call(flaky.action(), lambda: "local") == "redis"
    flaky.up = False
    assert await breaker.call(flaky.action(), lambda: "local") == "local"
    assert not breaker.up
    calls = flaky.calls
    for _ in range(5):  # within the retry window: no call reaches Redis
        assert await breaker.call(flaky.action(), lambda: "local") == "local"
    assert flaky.calls == calls
    await asyncio.sleep(0.06)
    assert await breaker.call(flaky.action(), lambda: "local") == "local"  # still down
    assert flaky.calls == calls + 1
    flaky.up = True
    await asyncio.sleep(0.06)
    assert await breaker.call(flaky.action(), lambda: "local") == "redis"
    assert breaker.up
    messages = [r.getMessage() for r in shared_log]
    assert len([m for m in messages if "unreachable" in m]) == 1, "one warning per outage"
    assert any("answers again" in m for m in messages)


def test_redis_settings_from_the_environment() -> None:
    settings = Settings.from_env({"REDIS_URL": "redis://cache:6379/0", "REDIS_NAMESPACE": "x"})
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.redis_namespace == "x"
    defaults = Settings.from_env({"REDIS_URL": ""})
    assert defaults.redis_url is None
    assert defaults.redis_namespace == "lishui"
