"""Totals: `count=estimated` (default) is exact for small results and a planner or sample
estimate above the threshold; `exact` is computed once per dataset version and query."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.datastructures import MultiDict
from litestar.testing import AsyncTestClient

from service.db import create_engine
from service.listing import sql
from service.listing.counts import SharedResults
from service.listing.params import parse_list_query
from service.resources import metrics

Client = AsyncTestClient[Litestar]


async def total(client: Client, **params: str) -> dict[str, object]:
    response = await client.get("/v1/metrics", params={"limit": "1", **params})
    assert response.status_code == 200
    body: dict[str, object] = response.json()["total"]
    return body


async def test_the_default_counts_nothing(client: Client) -> None:
    """A page never waits for a count its client did not ask for."""
    assert await total(client) == {"value": None, "kind": "none"}
    assert await total(client, unit="亿元", region="li-shui-shi") == {"value": None, "kind": "none"}
    for path in ("/v1/search?q=丽水", "/v1/changes"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json()["total"] == {"value": None, "kind": "none"}


async def test_estimated_is_exact_on_small_results(client: Client) -> None:
    every = await total(client, count="exact")
    assert every["kind"] == "exact"
    assert await total(client, count="estimated") == every


async def test_estimates_above_the_threshold(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = await total(client, count="exact", value__gt="-2")
    monkeypatch.setattr(sql, "EXACT_UP_TO", 5)
    estimated = await total(client, count="estimated", value__gt="-3")
    assert estimated["kind"] == "estimated"
    assert isinstance(estimated["value"], int)
    assert isinstance(exact["value"], int)
    # The planner or a sample, never below the threshold, and of the right order.
    assert 6 <= estimated["value"] <= 10 * exact["value"]
    small = await total(
        client, count="estimated", id__in="qiang-cun-gong-si-li-run", value__gt="-3"
    )
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
    estimated = await total(client, count="estimated", value__gt="-5", **params)
    if exact["value"] == 0:
        assert estimated == {"value": 0, "kind": "exact"}
    else:
        assert estimated["kind"] == "estimated"
        assert isinstance(estimated["value"], int)
        assert estimated["value"] >= 1


@pytest.mark.parametrize(
    "params",
    [
        {"value__gt": "-5"},
        {"region": "li-shui-shi", "unit": "亿元"},
        {"kind__in": "money,count", "value__lte": "100"},
        {"q": "丽水", "place__not": "none"},
        {"organisation": "zhong-gong-li-shui-shi-wei", "period__isnull": "false"},
    ],
)
async def test_a_sqlite_sample_of_the_whole_table_is_the_exact_count(
    client: Client, monkeypatch: pytest.MonkeyPatch, database_url: str, params: dict[str, str]
) -> None:
    """The seeded table is smaller than the sample window, so the sample reads every row: its
    estimate must then be the exact count (each filter read through the sample subquery)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite sample (PostgreSQL reads its planner's estimate)")
    exact = await total(client, count="exact", **params)
    assert isinstance(exact["value"], int)
    monkeypatch.setattr(sql, "EXACT_UP_TO", 0)
    estimated = await total(client, count="estimated", **params)
    assert estimated["value"] == exact["value"]


async def test_the_sqlite_sample_reads_a_rowid_range(database_url: str) -> None:
    """A filter with its own index must not turn the sample into a walk of that index."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan of the SQLite sample")
    spec = metrics.METRICS
    query = parse_list_query(
        MultiDict([("unit", "亿元"), ("value__gte", "1"), ("region", "li-shui-shi")]),
        None,
        spec,
        b"0" * 32,
    )
    stmt = sql.sampled_count(spec, query, 20_000)
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.connect() as conn:
            kwargs = {"render_postcompile": True}
            compiled = stmt.compile(dialect=conn.dialect, compile_kwargs=kwargs)
            # The driver gets raw values (no bind processors): a Decimal goes as its text.
            values = (compiled.params[name] for name in compiled.positiontup or [])
            params = tuple(str(v) if isinstance(v, Decimal) else v for v in values)
            result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, params)
            steps = [str(step) for step in result.scalars(3)]
    finally:
        await engine.dispose()
    assert any("metric USING INTEGER PRIMARY KEY (rowid<?)" in step for step in steps), steps
    assert not any("USING INDEX ix_metric" in step for step in steps), steps


async def test_an_exact_count_in_hand_is_used_for_estimates(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = await total(client, count="exact", value__gt="-4")
    monkeypatch.setattr(sql, "EXACT_UP_TO", 5)
    assert await total(client, count="estimated", value__gt="-4") == exact


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
