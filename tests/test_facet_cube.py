"""Facets answered from the per-version cube (no filter, or region filters only) against the
oracle, for every region operator, and shared across page sizes (service/listing/facets.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.helpers import Client
from tests.oracle_cases import oracle

# Metric fields with a (region_id, field) index (migration 0010), and region itself.
CUBED = ("unit", "kind", "qualifier", "period", "cumulative", "region")


def served(body: Any, name: str) -> list[tuple[Any, int]]:
    return [(v["value"], v["count"]) for v in body["facets"][name]]


def region_cases() -> list[tuple[dict[str, str], tuple[str, Any]]]:
    """(query parameters, (oracle op, value)) for each region operator."""
    data = oracle()
    counts = Counter(r.fields["region"] for r in data.resources["metrics"])
    common = [region for region, _ in counts.most_common() if region is not None]
    parents = {p for p in data.region_parent.values() if p is not None}
    parent = next(r for r in common if r in parents)
    leaf = next(r for r in common if r not in parents)
    return [
        ({"region": parent}, ("eq", parent)),
        ({"region": leaf}, ("eq", leaf)),
        ({"region__in": f"{leaf},{parent}"}, ("in", (leaf, parent))),
        ({"region__not": leaf}, ("not", leaf)),
        ({"region__isnull": "true"}, ("isnull", True)),
        ({"region__isnull": "false"}, ("isnull", False)),
    ]


@pytest.mark.parametrize("case", range(len(region_cases()) + 1))
async def test_cubed_facets_under_region_filters_match_the_oracle(
    client: Client, case: int
) -> None:
    data = oracle()
    params: dict[str, str] = {}
    selected = data.ids("metrics")
    if case:
        params, (op, value) = region_cases()[case - 1]
        selected = data.select("metrics", "region", op, value)
    response = await client.get(
        "/v1/metrics", params={**params, "facet": ",".join(CUBED), "limit": 1}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    for name in CUBED:
        expected = data.facet(
            "metrics", name, data.ids("metrics") if name == "region" else selected
        )
        assert served(body, name) == expected, (params, name)


async def test_a_page_size_change_reuses_the_facets(client: Client) -> None:
    params = {"region": region_cases()[0][0]["region"], "facet": "unit,article"}
    first = await client.get("/v1/metrics", params={**params, "limit": 1})
    again = await client.get("/v1/metrics", params={**params, "limit": 2, "sort": "-value"})
    assert first.json()["facets"] == again.json()["facets"]
