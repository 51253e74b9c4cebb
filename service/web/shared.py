"""State shared by every replica and worker process, through Litestar's store interface.

With `REDIS_URL` set, the rate-limit counters (`ratelimit.SharedRateLimiter`) and the response
cache (`cache.SharedResponseCache`) live in Redis, each in its own `RedisStore` namespace under
`REDIS_NAMESPACE`, and a write publishes the new dataset version on the channel
`<namespace>:versions`: every process subscribes (`follow`, run by the app's lifespan) and drops
its version and cached responses at once. Redis pub/sub rather than PostgreSQL LISTEN/NOTIFY:
it works on SQLite too and needs no connection held outside the database pool.

Redis is an accelerator, never a dependency of an answer: when a call fails, the caller falls
back to its in-process counterpart (`Breaker`: one warning per outage, no Redis call for
`RETRY_SECONDS` after a failure, so an outage does not add a timeout to every request), and the
periodic re-read of the dataset version (`DataVersion.keep_fresh`) still catches up on writes
made elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("service.shared")
T = TypeVar("T")
# Connect and per-command timeouts, seconds: Redis answers in well under a millisecond.
REDIS_TIMEOUT = 0.5
# After a failed call, requests skip Redis this long before trying again.
RETRY_SECONDS = 5.0
# A writer waits at most this long for its own publication to come back (see `publish`).
ECHO_WAIT = 0.5
FAILURES = (RedisError, OSError, TimeoutError)


class Breaker:
    """Runs Redis calls; on a failure answers the fallback, and skips Redis for a while."""

    def __init__(self, retry_seconds: float = RETRY_SECONDS) -> None:
        self.retry_seconds = retry_seconds
        self._down_until: float | None = None  # None: Redis answered last time

    @property
    def up(self) -> bool:
        return self._down_until is None

    async def call(self, action: Callable[[], Awaitable[T]], fallback: Callable[[], T]) -> T:
        now = time.monotonic()
        if self._down_until is not None and now < self._down_until:
            return fallback()
        try:
            result = await action()
        except FAILURES as exc:
            self.failed(exc)
            return fallback()
        if self._down_until is not None:
            log.warning("Redis answers again: shared rate limit and response cache resumed")
            self._down_until = None
        return result

    def failed(self, exc: BaseException) -> None:
        if self._down_until is None:  # once per outage
            log.warning(
                "Redis unreachable (%s: %s): rate limit and response cache fall back to this "
                "process until it answers again",
                type(exc).__name__,
                exc,
            )
        self._down_until = time.monotonic() + self.retry_seconds


class SharedState:
    """One Redis client for a process: the two stores, the version channel and its breaker."""

    def __init__(self, url: str, namespace: str) -> None:
        self.client = Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self.counters = RedisStore(self.client, namespace=f"{namespace}:ratelimit")
        self.responses = RedisStore(self.client, namespace=f"{namespace}:responses")
        self.channel = f"{namespace}:versions"
        self.breaker = Breaker()
        self._heard = 0  # the highest version this process's subscription has received
        self._listening = False
        self._heard_changed = asyncio.Condition()

    @property
    def listening(self) -> bool:
        """Whether this process is subscribed to the version channel right now."""
        return self._listening

    def counter_key(self, client: str) -> str:
        """The Redis key of a client's counter: `RedisStore`'s layout, `<namespace>:<key>`."""
        return f"{self.counters.namespace}:{client}"

    async def publish(self, version: int) -> None:
        """Tell every process the dataset version moved (after the write committed).

        Then wait, briefly, until this process's own subscription hears it back: Redis writes a
        message to all subscribers in one pass, so by then it has reached every replica's
        connection as well, and each applies it as soon as its event loop reads it: a client
        that reads through another replica after this write's answer sees the write (unless
        that replica's loop is too busy to read its socket first; its re-read catches up).
        """
        published = await self.breaker.call(
            lambda: self.client.publish(self.channel, str(version)), lambda: None
        )
        if published is None or not self._listening:
            return
        try:
            async with self._heard_changed:
                await asyncio.wait_for(
                    self._heard_changed.wait_for(lambda: self._heard >= version), ECHO_WAIT
                )
        except TimeoutError:
            log.warning("version %d published but not heard back within %.1f s", version, ECHO_WAIT)

    async def follow(self, on_version: Callable[[int], None], on_gap: Callable[[], None]) -> None:
        """Apply every published version for as long as the app runs (its lifespan starts and
        cancels this). After a lost subscription, `on_gap`: messages may have been missed."""
        while True:
            try:
                await self._listen(on_version, on_gap)
            except FAILURES as exc:
                self.breaker.failed(exc)
            except Exception:  # a bug must not end the subscription for good
                log.exception("the dataset-version subscription failed; subscribing again")
            self._listening = False
            await asyncio.sleep(1.0)

    async def _listen(self, on_version: Callable[[int], None], on_gap: Callable[[], None]) -> None:
        async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self.channel)
            self._listening = True
            on_gap()  # whatever was published while not subscribed
            while True:
                # No socket timeout while idle: a quiet channel is not an outage.
                message = await pubsub.get_message(timeout=None)
                if message is None or message.get("type") != "message":
                    continue
                try:
                    version = int(message["data"])
                except ValueError:
                    continue
                on_version(version)
                async with self._heard_changed:
                    self._heard = max(self._heard, version)
                    self._heard_changed.notify_all()

    async def close(self) -> None:
        await self.client.aclose()
