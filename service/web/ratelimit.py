"""Per-client rate limit: a fixed one-minute window, and the `RateLimit-*` headers it reports."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from service.web.asgi import Headers

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
