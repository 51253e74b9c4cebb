"""Every facet of the served OpenAPI against the independent oracle: exact values, counts and
order, alone and under filters (a facet applies every other filter, not its own)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Client
from tests.oracle import RESOURCES, Oracle
from tests.oracle_cases import Param, cases, facet_names, fetch_all, list_parameters, oracle


def served(body: Any, name: str) -> list[tuple[Any, int]]:
    return [(v["value"], v["count"]) for v in body["facets"][name]]


def equality(data: Oracle, resource: str, name: str) -> tuple[str, frozenset[str]]:
    """A value of facet `name` (as a filter) selecting a non-empty strict subset."""
    param = Param(name, name, "eq", "boolean" if name == "cumulative" else "string")
    found, strict = cases(data, resource, param)
    assert strict, (resource, name)
    return found[0].raw, found[0].expected


@pytest.mark.parametrize("resource", RESOURCES)
async def test_every_facet_matches_the_oracle(client: Client, resource: str) -> None:
    data = oracle()
    names = facet_names((await list_parameters(client))[resource])
    if resource == "people":
        assert not names
        pytest.skip("people have no facetable field: names, titles and links only")
    assert names, resource
    everything = data.ids(resource)
    response = await client.get(f"/v1/{resource}", params={"facet": ",".join(names), "limit": 1})
    assert response.status_code == 200
    for name in names:
        assert served(response.json(), name) == data.facet(resource, name, everything), name


@pytest.mark.parametrize("resource", RESOURCES)
async def test_facets_apply_other_filters_not_their_own(client: Client, resource: str) -> None:
    data = oracle()
    names = facet_names((await list_parameters(client))[resource])
    if not names:
        pytest.skip(f"{resource}: no facets")
    for own, other in zip(names, [*names[1:], names[0]], strict=True):
        own_value, own_ids = equality(data, resource, own)
        params = {"facet": own, own: own_value}
        expected_own = data.facet(resource, own, data.ids(resource))
        selected = set(own_ids)
        if other != own:
            other_value, other_ids = equality(data, resource, other)
            params.update({"facet": f"{own},{other}", other: other_value})
            expected_own = data.facet(resource, own, set(other_ids))
            expected_other = data.facet(resource, other, set(own_ids))
            selected &= other_ids
        items, _ = await fetch_all(client, resource, params)
        response = await client.get(f"/v1/{resource}", params={**params, "limit": 1})
        body = response.json()
        assert {i["id"] for i in items} == selected, params
        assert served(body, own) == expected_own, params
        if other != own:
            assert served(body, other) == expected_other, params
