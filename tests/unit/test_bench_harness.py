"""The benchmark harness's own logic (bench/): target verdicts, URL numbering, profile summary.

No server, no wrk, no data: the parts of `make bench` whose mistakes would report a wrong
PASS/MISS without failing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from bench.profile import summarise
from bench.run import _sign_cursor, expand, postgres_url, scenario_order
from bench.targets import evaluate, markdown, summary

Row = dict[str, Any]


def result(server: str, scenario: str, rps: float, p50: float, p99: float, **kw: Any) -> Row:
    return {
        "server": server, "scenario": scenario, "status": "ok", "rps": rps, "p50_ms": p50,
        "p99_ms": p99, "mode": kw.get("mode", "wrk"), "note": "",
    }  # fmt: skip


def verdict(rows: list[Row], server: str, target: str, scenario: str) -> bool | None:
    found = [
        r
        for r in rows
        if r["server"] == server and r["scenario"] == scenario and r["target"].startswith(target)
    ]
    assert len(found) == 1, (server, target, scenario, found)
    value: bool | None = found[0]["pass"]
    return value


def test_targets_as_the_issue_lists_them() -> None:
    results = [
        result("baseline", "list50", 4000, 5, 10),
        result("baseline", "list50", 5000, 6, 12),  # best rps 5,000, lowest p99 10 ms
        result("datasette", "detail", 500, 50, 100),
        result("service-nocache", "detail", 1600, 20, 29),  # 3.2x Datasette, p99 2.9x
        result("datasette", "first", 100, 300, 400),
        result("service-nocache", "first", 290, 100, 200),  # 2.9x: MISS
        result("service", "first", 4000, 8, 31),  # 80 % of 5,000: PASS; p99 3.1x: MISS
        result("service", "deep", 3200, 9, 20),  # first/deep = 1.25: MISS
        result("service-nocache", "deep", 0.5, 2000, 2100, mode="sequential"),
    ]
    memory = {"service": {"VmHWM": 249.0}, "service-nocache": {"VmHWM": 250.0}}
    rows = evaluate(results, memory)
    assert verdict(rows, "service-nocache", "rps >= 3x", "detail") is True
    assert verdict(rows, "service-nocache", "rps >= 3x", "first") is False
    assert verdict(rows, "service-nocache", "rps >= 1,000", "detail") is True
    assert verdict(rows, "service-nocache", "p99", "detail") is True
    assert verdict(rows, "service", "rps >= 80%", "first") is True
    assert verdict(rows, "service", "p99", "first") is False
    assert verdict(rows, "service", "deep page", "deep/first") is False
    assert verdict(rows, "service", "RSS", "-") is True
    assert verdict(rows, "service-nocache", "RSS", "-") is False
    assert verdict(rows, "service", "rps >= 80%", "search") is None  # not measured: n/a
    # Too slow for 32 connections: its 1-connection p99 (2.1 s) does not count, 32 x p50 does.
    deep = [r for r in rows if r["server"] == "service-nocache" and r["scenario"] == "deep"]
    assert any(r["target"].startswith("p99") and r["value"] == 6400.0 for r in deep)
    assert not any(r["server"].startswith("postgres") for r in rows)  # not run: no verdicts
    assert summary(rows)["service"]["pass"] >= 2
    assert markdown(rows)[0].startswith("| group | target | scenario | `service`")


def test_miss_scenarios_held_to_the_cache_off_targets() -> None:
    results = [
        result("baseline", "list50", 5000, 5, 10),
        result("datasette", "detail", 500, 50, 100),
        result("service", "detail-miss", 1200, 25, 40),
    ]
    rows = evaluate(results, {})
    assert verdict(rows, "service", "rps >= 3x", "detail-miss") is False  # 2.4x
    assert verdict(rows, "service", "rps >= 1,000", "detail-miss") is True
    assert verdict(rows, "service", "p99", "detail-miss") is False  # 4x


def test_distinct_urls_are_numbered_and_the_bare_list_brackets_the_run() -> None:
    assert expand("/v1/metrics?value__gte=3260000.{n}1", 12) == "/v1/metrics?value__gte=3260000.121"
    assert expand("/v1/metrics/abc", 5) == "/v1/metrics/abc"
    order = scenario_order(None)
    assert order[0] == order[-1] == "list50"
    assert order.count("list50") == 3
    assert order.index("search") < order.index("detail-miss")
    assert scenario_order({"deep", "deep-miss"}) == ["deep", "deep-miss"]


def test_postgres_can_be_switched_off_or_named() -> None:
    from bench.generate import Scale

    assert postgres_url("off", Scale()) == (None, True)
    assert postgres_url("postgresql+asyncpg://u@h/bench_x", Scale()) == (
        "postgresql+asyncpg://u@h/bench_x",
        True,
    )


@pytest.mark.parametrize("tag_bytes", [16, 12])
def test_signed_cursor_keeps_the_query_binding(tag_bytes: int) -> None:
    key = hashlib.sha256(b"bench-cursor-secret").digest()
    payload = json.dumps(["next", ["doc", 1, "id"], "binding"], separators=(",", ":")).encode()
    tag = hmac.new(key, payload, hashlib.sha256).digest()[:tag_bytes]
    template = base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")
    signed = _sign_cursor(template, ["doc-2", 7, "id-9"], "bench-cursor-secret")
    assert signed is not None
    blob = base64.urlsafe_b64decode(signed + "=" * (-len(signed) % 4))
    body = blob[tag_bytes:]
    assert json.loads(body) == ["next", ["doc-2", 7, "id-9"], "binding"]
    assert blob[:tag_bytes] == hmac.new(key, body, hashlib.sha256).digest()[:tag_bytes]
    assert _sign_cursor("not-a-cursor", ["a"], "x") is None


def test_profile_summary_groups_threads_and_ranks_functions() -> None:
    collapsed = "\n".join(
        [
            "thread (0x1): MainThread;run (asyncio/runners.py);handler (service/a.py) 30",
            "thread (0x1): MainThread;run (asyncio/runners.py);uuid4 (uuid.py) 10",
            "thread (0x2): Thread-1 (_worker);_worker (aiosqlite/core.py) 40",
            "thread (0x3): Thread-2 (_worker);_worker (aiosqlite/core.py) 20",
        ]
    )
    text = "\n".join(summarise(collapsed, 5))
    assert "100 samples" in text
    assert "Thread (_worker)  (2 threads)" in text
    assert "60.0 %       60  _worker" in text
    assert "30.0 %       30  handler" in text
