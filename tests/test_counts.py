"""Totals: `count=estimated` (default) is exact for small results and a planner or sample
estimate above the threshold; `exact` is computed once per dataset version and query."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.listing import sql
from service.listing.counts import SharedResults

Client = AsyncTestClient[Litestar]


async def total(client: Client, **params: str) -> dict[str, object]:
    response = await client.get("/v1/metrics", params={"limit": "1", **params})
    assert response.status_code == 200
    body: dict[str, object] = response.json()["total"]
    return body


async def test_default_is_exact_on_small_results(client: Client) -> None:
    every = await total(client, count="exact")
    assert every["kind"] == "exact"
    assert await total(client) == every
    assert await total(client, count="estimated") == every
    assert await total(client, count="none") == {"value": None, "kind": "none"}


async def test_estimates_above_the_threshold(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = await total(client, count="exact", value__gt="-2")
    monkeypatch.setattr(sql, "EXACT_UP_TO", 5)
    estimated = await total(client, value__gt="-3")
    assert estimated["kind"] == "estimated"
    assert isinstance(estimated["value"], int)
    assert isinstance(exact["value"], int)
    # The planner or a sample, never below the threshold, and of the right order.
    assert 6 <= estimated["value"] <= 10 * exact["value"]
    small = await total(client, id__in="qiang-cun-gong-si-li-run", value__gt="-3")
    assert small == {"value": 1, "kind": "exact"}


@pytest.mark.parametrize(
    "params",
    [
        {"region": "li-shui-shi"},  # a subquery with an IN list
        {"kind__in": "money,count,percentage"},
        {"q": "丽水"},  # the search subquery
        {"region__in": "li-shui-shi,lian-du-qu", "q": "共富"},
    ],
)
async def test_estimates_of_every_filter_shape(
    client: Client, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    exact = await total(client, count="exact", **params)
    assert isinstance(exact["value"], int)
    monkeypatch.setattr(sql, "EXACT_UP_TO", 0)
    estimated = await total(client, value__gt="-5", **params)
    if exact["value"] == 0:
        assert estimated == {"value": 0, "kind": "exact"}
    else:
        assert estimated["kind"] == "estimated"
        assert isinstance(estimated["value"], int)
        assert estimated["value"] >= 1


async def test_an_exact_count_in_hand_is_used_for_estimates(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = await total(client, count="exact", value__gt="-4")
    monkeypatch.setattr(sql, "EXACT_UP_TO", 5)
    assert await total(client, value__gt="-4") == exact


async def test_concurrent_misses_share_one_computation() -> None:
    results: SharedResults[int] = SharedResults(max_entries=2)
    calls = 0

    async def slow() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    values = await asyncio.gather(*(results.get("key", slow) for _ in range(5)))
    assert values == [42] * 5
    assert calls == 1
    assert results.peek("key") == 42
    await results.get("b", slow)
    await results.get("c", slow)
    assert results.peek("key") is None  # least recently used, evicted
    assert len(results) == 2


async def test_a_failed_computation_is_not_kept() -> None:
    results: SharedResults[int] = SharedResults()

    async def broken() -> int:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        await results.get("key", broken)
    assert results.peek("key") is None
