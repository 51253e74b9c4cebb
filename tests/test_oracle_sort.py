"""Every sort key of the served OpenAPI, both directions, against the independent oracle.

The order is the keys in turn, then the id ascending (also under `-key`: the tie-breaker never
flips). No sort key of the curated data holds a null; the oracle refuses one (tests/oracle.py)
until its place is pinned, since a keyset cursor cannot step over nulls without an explicit
rule. Keyset cursors are walked forwards and backwards with pages small enough that ties in the
leading key straddle page boundaries.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.helpers import Client
from tests.oracle import RESOURCES
from tests.oracle_cases import fetch_all, list_parameters, oracle, sort_keys


def sort_param(keys: list[tuple[str, bool]]) -> str:
    return ",".join(("-" if desc else "") + key for key, desc in keys)


async def sorts(client: Client, resource: str) -> list[list[tuple[str, bool]]]:
    """Each key both ways, and each neighbouring pair with opposite directions."""
    keys = sort_keys((await list_parameters(client))[resource])
    single = [[(key, desc)] for key in keys for desc in (False, True)]
    pairs = [
        [(a, first_desc), (b, not first_desc)]
        for a, b in itertools.pairwise(keys)
        for first_desc in (False, True)
    ]
    return single + pairs


@pytest.mark.parametrize("resource", RESOURCES)
async def test_every_sort_matches_the_oracle(client: Client, resource: str) -> None:
    data = oracle()
    everything = data.ids(resource)
    failures = []
    for keys in await sorts(client, resource):
        items, _ = await fetch_all(client, resource, {"sort": sort_param(keys)})
        got = [item["id"] for item in items]
        expected = data.order(resource, keys, everything)
        if got != expected:
            first = next(i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b)
            failures.append(
                f"sort={sort_param(keys)}: differs at {first}: {got[first : first + 3]}"
            )
    assert not failures, "\n".join(failures)


async def walk(
    client: Client, resource: str, params: dict[str, str]
) -> tuple[list[str], list[list[str]]]:
    """Forward by next cursors, then back by prev cursors: the ids, and the pages seen back."""
    pages: list[list[str]] = []
    cursor: str | None = None
    body: Any = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/v1/{resource}", params=query)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert (body["page"]["prev_cursor"] is None) == (cursor is None), query
        pages.append([item["id"] for item in body["data"]])
        cursor = body["page"]["next_cursor"]
        if cursor is None:
            break
    back: list[list[str]] = []
    prev = body["page"]["prev_cursor"]
    while prev is not None:
        response = await client.get(f"/v1/{resource}", params={**params, "cursor": prev})
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        back.append([item["id"] for item in body["data"]])
        assert body["page"]["next_cursor"] is not None
        prev = body["page"]["prev_cursor"]
    return [i for page in pages for i in page], [pages[-1], *back]


@pytest.mark.parametrize("resource", RESOURCES)
async def test_cursors_walk_every_sort_both_ways(client: Client, resource: str) -> None:
    data = oracle()
    everything = data.ids(resource)
    size = max(2, len(everything) // 6)  # about six pages, ties cross page boundaries
    for keys in await sorts(client, resource):
        params = {"sort": sort_param(keys), "limit": str(size)}
        ids, seen_back = await walk(client, resource, params)
        expected = data.order(resource, keys, everything)
        assert ids == expected, params
        pages = [expected[i : i + size] for i in range(0, len(expected), size)]
        assert seen_back == pages[::-1], params


async def test_cursors_with_a_filter(client: Client) -> None:
    data = oracle()
    chosen = data.select("metrics", "kind", "in", ("money", "count"))
    for keys in ([("value", True)], [("kind", False), ("value", True)]):
        params = {"kind__in": "money,count", "sort": sort_param(keys), "limit": "7"}
        ids, seen_back = await walk(client, "metrics", params)
        expected = data.order("metrics", keys, chosen)
        assert ids == expected
        assert [i for page in reversed(seen_back) for i in page] == expected
