"""`/v1/search` ranks by relevance, the same on both databases; script- and input-tolerant `q`.

- Ranking: BM25 in integer arithmetic (service/ranking.py), checked against a Python
  computation of the same formula from the stored entries, and pinned in
  tests/golden/search-ranked.json, which both backends must reproduce exactly (regenerate with
  `UPDATE_GOLDEN=1` and review the diff).
- `sort=` overrides the order; cursors page through the ranked order without gaps or repeats.
- 麗水 finds what 丽水 finds, ＬＩＳＨＵＩ what lishui finds, and pinyin (lishui,
  gongfugongfang) finds records by their name.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service.db import create_engine
from tests.helpers import Client, assert_problem

GOLDEN = Path(__file__).resolve().parent / "golden" / "search-ranked.json"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
PINNED_QUERIES = ["共富", "麗水", "lishui", "gongfugongfang", "共富 工坊", "银行 丽水", "村"]


async def walk(client: Client, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Every hit, following `next_cursor`; and the reported total."""
    hits: list[dict[str, Any]] = []
    query = {"count": "exact", **params}
    total = -1
    while True:
        response = await client.get("/v1/search", params=query)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        if total < 0:
            total = body["total"]["value"]
        hits.extend(body["data"])
        if not body["page"]["next_cursor"]:
            return hits, total
        query["cursor"] = body["page"]["next_cursor"]


def keys(hits: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(h["type"], h["id"]) for h in hits]


async def test_ranked_results_are_pinned_and_the_same_on_both_databases(client: Client) -> None:
    found = {}
    for q in PINNED_QUERIES:
        hits, total = await walk(client, {"q": q, "limit": "7"})
        assert total == len(hits) > 0, q
        found[q] = [[h["type"], h["id"], h["score"]] for h in hits]
    text = _golden_text(found)
    if UPDATE and (not GOLDEN.exists() or GOLDEN.read_text() != text):
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"missing {GOLDEN}: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert json.loads(GOLDEN.read_text()) == found


def _golden_text(found: dict[str, list[list[Any]]]) -> str:
    """One hit per line, so a review of the diff reads like a ranking."""
    blocks = [
        f"  {json.dumps(q, ensure_ascii=False)}: [\n"
        + ",\n".join(f"    {json.dumps(h, ensure_ascii=False)}" for h in hits)
        + "\n  ]"
        for q, hits in found.items()
    ]
    return "{\n" + ",\n".join(blocks) + "\n}\n"


async def _entries(database_url: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.connect() as conn:
            stmt = sa.text("SELECT resource, record_id, folded, size FROM search_entry")
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]
    finally:
        await engine.dispose()


def reference_scores(
    rows: list[dict[str, Any]], needles: list[str], frequencies: list[int]
) -> dict[tuple[str, str], int]:
    """The documented formula (service/ranking.py), in plain Python, in millionths."""
    n = len(rows)
    average = max((sum(r["size"] for r in rows) + n // 2) // n, 1)
    scores = {}
    for row in rows:
        norm = (1200 * 250 * average + 1200 * 750 * row["size"]) // (1000 * average)
        score = 0
        for needle, df in zip(needles, frequencies, strict=True):
            idf = round(math.log(1 + (n - df + 0.5) / (df + 0.5)) * 1_000_000)
            tf = row["folded"].count(needle)
            score += (idf * tf * 2200) // (tf * 1000 + norm)
        scores[(row["resource"], row["record_id"])] = score
    return scores


@pytest.mark.parametrize("q", ["共富", "丽水 银行", "lishui", "工坊 共富 村"])
async def test_scores_follow_the_documented_formula(
    client: Client, database_url: str, q: str
) -> None:
    rows = await _entries(database_url)
    needles = q.split()
    frequencies = [(await walk(client, {"q": w, "limit": "100"}))[1] for w in needles]
    expected = reference_scores(rows, needles, frequencies)
    hits, _ = await walk(client, {"q": q, "limit": "100"})
    assert hits
    for hit in hits:
        assert hit["score"] == expected[(hit["type"], hit["id"])] / 1_000_000, hit
    # Best first, then the hit's type and id ascending.
    order = sorted(hits, key=lambda h: (-h["score"], h["type"], h["id"]))
    assert keys(hits) == keys(order)


async def test_the_best_match_comes_first(client: Client) -> None:
    hits, _ = await walk(client, {"q": "共富", "limit": "100"})
    assert "共富" in hits[0]["title"]
    assert hits[0]["score"] == max(h["score"] for h in hits) > hits[-1]["score"]
    # Records named after the word outrank those that merely mention it.
    named = [i for i, h in enumerate(hits) if "共富" in h["title"]]
    assert sum(named) / len(named) < (len(hits) - 1) / 2
    for hit in hits:
        assert isinstance(hit["score"], float)
        assert hit["score"] > 0


async def test_sort_overrides_the_ranking(client: Client) -> None:
    ranked, _ = await walk(client, {"q": "丽水", "limit": "100"})
    by_type, _ = await walk(client, {"q": "丽水", "limit": "100", "sort": "type"})
    assert keys(by_type) == sorted(keys(ranked))
    by_title, _ = await walk(client, {"q": "丽水", "limit": "100", "sort": "-title,score"})
    titles = [h["title"] for h in by_title]
    assert titles == sorted(titles, reverse=True)
    worst, _ = await walk(client, {"q": "丽水", "limit": "100", "sort": "score"})
    assert keys(worst) == keys(sorted(ranked, key=lambda h: (h["score"], h["type"], h["id"])))
    await assert_problem(client, "/v1/search?q=%E4%B8%BD&sort=value", 400, "sort")
    await assert_problem(client, "/v1/search?q=%E4%B8%BD&sort=score,type,title,id", 400, "sort")


@pytest.mark.parametrize("sort", [None, "score", "-title"])
async def test_cursors_page_through_the_ranked_order(client: Client, sort: str | None) -> None:
    params = {"q": "丽水", "limit": "100"} | ({"sort": sort} if sort else {})
    whole, _ = await walk(client, params)
    paged, _ = await walk(client, params | {"limit": "4"})
    assert keys(paged) == keys(whole)  # no gaps, no repeats
    assert len(set(keys(paged))) == len(paged)
    # Back from the last page with prev cursors.
    response = await client.get("/v1/search", params=params | {"limit": "4"})
    page = response.json()
    pages = [keys(page["data"])]
    while page["page"]["next_cursor"]:
        cursor = page["page"]["next_cursor"]
        page = (
            await client.get("/v1/search", params=params | {"limit": "4", "cursor": cursor})
        ).json()
        pages.append(keys(page["data"]))
    backwards = [keys(page["data"])]
    while page["page"]["prev_cursor"]:
        cursor = page["page"]["prev_cursor"]
        page = (
            await client.get("/v1/search", params=params | {"limit": "4", "cursor": cursor})
        ).json()
        backwards.append(keys(page["data"]))
    assert backwards[::-1] == pages


async def test_a_ranked_cursor_is_bound_to_its_sort(client: Client) -> None:
    first = (await client.get("/v1/search", params={"q": "丽水", "limit": "2"})).json()
    cursor = first["page"]["next_cursor"]
    response = await client.get(
        "/v1/search", params={"q": "丽水", "sort": "type", "cursor": cursor}
    )
    assert response.status_code == 400
    assert [p["name"] for p in response.json()["invalid_params"]] == ["cursor"]


async def test_traditional_characters_find_simplified_text(client: Client) -> None:
    simplified, total = await walk(client, {"q": "丽水", "limit": "100"})
    traditional, _ = await walk(client, {"q": "麗水", "limit": "100"})
    assert total > 10
    assert traditional == simplified
    assert traditional[0]["highlights"]  # 麗水 is highlighted where the text says 丽水
    mixed, _ = await walk(client, {"q": "共富工坊 銀行", "limit": "100"})
    assert keys(mixed) == keys((await walk(client, {"q": "共富工坊 银行", "limit": "100"}))[0])


async def test_full_width_letters_and_digits_match_half_width(client: Client) -> None:
    half, total = await walk(client, {"q": "lishui", "limit": "100"})
    full, _ = await walk(client, {"q": "ＬＩＳＨＵＩ", "limit": "100"})
    assert total > 0
    assert keys(full) == keys(half)
    digits, count = await walk(client, {"q": "2022", "limit": "100"})
    wide, _ = await walk(client, {"q": "２０２２", "limit": "100"})
    assert count > 0
    assert keys(wide) == keys(digits)


async def test_pinyin_finds_records_by_name(client: Client) -> None:
    named = [
        h for h in (await walk(client, {"q": "丽水", "limit": "100"}))[0] if "丽水" in h["title"]
    ]
    by_pinyin, _ = await walk(client, {"q": "lishui", "limit": "100"})
    assert named
    assert set(keys(named)) <= set(keys(by_pinyin))
    workshops = [
        h
        for h in (await walk(client, {"q": "共富工坊", "limit": "100"}))[0]
        if "共富工坊" in h["title"]
    ]
    spelled, _ = await walk(client, {"q": "gongfugongfang", "limit": "100"})
    assert workshops
    assert set(keys(spelled)) == set(keys(workshops))
    # A word that is not pinyin matches Latin text only.
    assert (await walk(client, {"q": "zzzq", "limit": "100"}))[1] == 0


@pytest.mark.parametrize("resource", ["organisations", "initiatives"])
async def test_list_q_is_folded_too(client: Client, resource: str) -> None:
    async def ids(q: str) -> list[str]:
        response = await client.get(f"/v1/{resource}", params={"q": q, "limit": "100"})
        assert response.status_code == 200, response.text[:300]
        return [item["id"] for item in response.json()["data"]]

    assert await ids("麗水") == await ids("丽水") != []
    assert await ids("ＬＩＳＨＵＩ") == await ids("lishui") != []
    searched = [h["id"] for h in (await walk(client, {"q": "lishui", "type": resource}))[0]]
    assert sorted(await ids("lishui")) == sorted(searched)
