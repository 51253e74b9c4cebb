"""Rate limiter window arithmetic (service/web/ratelimit.py) on a fake clock, no HTTP."""

from __future__ import annotations

from service.web.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_counts_down_and_refuses_past_the_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.hit("a") == (True, 1, 60)
    clock.now += 0.5
    assert limiter.hit("a") == (True, 0, 60)  # 59.5 s left, rounded up
    clock.now += 20
    assert limiter.hit("a") == (False, 0, 40)
    assert limiter.hit("b") == (True, 1, 60)  # per client


def test_window_resets_after_a_minute_and_reset_is_at_least_one_second() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    limiter.hit("a")
    clock.now += 59.99
    assert limiter.hit("a") == (False, 0, 1)
    clock.now += 0.01
    assert limiter.hit("a") == (True, 0, 60)


def test_idle_clients_are_swept_once_a_window() -> None:
    clock = Clock()
    limiter = RateLimiter(5, clock=clock)
    for client in "abc":
        limiter.hit(client)
    clock.now += 30
    limiter.hit("d")
    assert limiter.tracked_clients() == 4
    clock.now += 31  # a, b, c expired; the sweep runs on the next hit
    limiter.hit("d")
    assert limiter.tracked_clients() == 1


def test_budget_headers() -> None:
    assert RateLimiter(100).budget_headers(7, 12) == [
        (b"ratelimit-limit", b"100"),
        (b"ratelimit-remaining", b"7"),
        (b"ratelimit-reset", b"12"),
        (b"ratelimit-policy", b"100;w=60"),
    ]
