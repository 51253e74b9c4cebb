"""Per-client rate limit: a fixed one-minute window, and the `RateLimit-*` headers it reports.

`RateLimiter` counts in this process; `SharedRateLimiter` counts in Redis, so every replica and
worker draws on one budget per client (service/web/shared.py), and falls back to counting in
this process while Redis is unreachable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from service.web.asgi import Headers

if TYPE_CHECKING:
    from service.web.shared import SharedState

# One atomic step: count the hit, start the window on the first one, report what is left of it.
# The window starts at a client's first request, as in `RateLimiter`.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""

RATE_LIMIT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
)


class RateLimiter:
    """Fixed one-minute window per client; memory is swept once per window."""

    WINDOW = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = per_minute
        self._clock = clock
        self._windows: dict[str, list[float]] = {}  # client -> [window start, count]
        self._swept = clock()

    def hit(self, client: str) -> tuple[bool, int, int]:
        """Count one request: (allowed, remaining, seconds until the window resets)."""
        now = self._clock()
        if now - self._swept > self.WINDOW:
            self._windows = {k: w for k, w in self._windows.items() if now - w[0] < self.WINDOW}
            self._swept = now
        window = self._windows.get(client)
        if window is None or now - window[0] >= self.WINDOW:
            window = self._windows[client] = [now, 0]
        window[1] += 1
        reset = max(1, math.ceil(window[0] + self.WINDOW - now))
        return window[1] <= self.limit, max(0, self.limit - int(window[1])), reset

    async def take(self, client: str) -> tuple[bool, int, int]:
        """`hit`, as the edge calls it (a shared limiter awaits Redis here)."""
        return self.hit(client)

    def budget_headers(self, remaining: int, reset: int) -> Headers:
        """The `RateLimit-*` headers every limited response carries."""
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(reset).encode()),
            (b"ratelimit-policy", f"{self.limit};w={int(self.WINDOW)}".encode()),
        ]

    def tracked_clients(self) -> int:
        """How many clients have a window in memory (sweeping keeps this bounded)."""
        return len(self._windows)


class SharedRateLimiter(RateLimiter):
    """The same window and headers, counted in Redis: one budget across processes."""

    def __init__(self, per_minute: int, shared: SharedState) -> None:
        super().__init__(per_minute)
        self.shared = shared
        self._script = shared.client.register_script(_HIT_SCRIPT)

    async def take(self, client: str) -> tuple[bool, int, int]:
        return await self.shared.breaker.call(lambda: self._count(client), lambda: self.hit(client))

    async def _count(self, client: str) -> tuple[bool, int, int]:
        window_ms = int(self.WINDOW * 1000)
        key = self.shared.counter_key(client)
        count, ttl_ms = await self._script(keys=[key], args=[window_ms])
        ttl_ms = window_ms if int(ttl_ms) < 0 else int(ttl_ms)
        reset = max(1, math.ceil(ttl_ms / 1000))
        return int(count) <= self.limit, max(0, self.limit - int(count)), reset
