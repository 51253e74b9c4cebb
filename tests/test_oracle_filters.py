"""Every filter x operator x resource of the served OpenAPI against the independent oracle.

The parameters come from `/schema/openapi.json`, so a new filter is tested (or reported as
lacking oracle semantics) without editing this file. Sample values are drawn from the curated
data so each case selects a non-empty strict subset; a parameter that cannot is reported and
must be in `NO_STRICT_SUBSET` with its reason. The API's answer (every page, limit=100) must
equal the oracle's ids exactly, and `total` must count them, on each database backend.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import Client
from tests.oracle import RESOURCES, Oracle
from tests.oracle_cases import cases, fetch_all, filters, list_parameters, oracle

# Parameters no sample value can turn into a non-empty strict subset, and why.
NO_STRICT_SUBSET = {
    ("metrics", "article__isnull"): "every metric comes from an article (NOT NULL)",
    ("metrics", "document__isnull"): "every metric is in a document (NOT NULL)",
    ("articles", "document__isnull"): "every article is in a document (NOT NULL)",
    ("articles", "headline__isnull"): "every article has a headline (NOT NULL)",
    ("metrics", "region__isnull"): "every curated metric names its region",
    ("initiatives", "name__isnull"): "every initiative has a name (NOT NULL)",
    ("organisations", "name__isnull"): "every organisation has a name (NOT NULL)",
    ("regions", "name__isnull"): "every region has a name (NOT NULL)",
    ("places", "region__isnull"): "every curated place names its county-level region",
}


async def served_oracle(client: Client) -> Oracle:
    """The oracle, with contributor ids (slugs the loader derives) taken from the API."""
    data = oracle()
    articles, _ = await fetch_all(client, "articles", {})
    names: dict[str, str] = {}
    for article in articles:
        for person in article["contributors"]:
            names[person["name"]] = person["id"]
    assert len(set(names.values())) == len(names), "two contributors share an id"
    data.contributor_ids(names)
    return data


def wire_value(value: Any) -> Any:
    return (
        Decimal(str(value))
        if isinstance(value, float | int) and not isinstance(value, bool)
        else value
    )


@pytest.mark.parametrize("resource", RESOURCES)
async def test_oracle_reads_the_data_the_api_serves(client: Client, resource: str) -> None:
    """Guards the oracle itself: its records are the API's, field by field."""
    data = await served_oracle(client)
    items, total = await fetch_all(client, resource, {})
    assert total == {"value": len(items), "kind": "exact"}
    served = {item["id"]: item for item in items}
    assert set(served) == data.ids(resource)
    for record in data.resources[resource]:
        item = served[record.id]
        for name, value in record.fields.items():
            if name in item and not (resource == "metrics" and name == "position"):
                assert wire_value(item[name]) == value, (resource, record.id, name)


@pytest.mark.parametrize("resource", RESOURCES)
async def test_every_filter_matches_the_oracle(client: Client, resource: str) -> None:
    data = await served_oracle(client)
    params = (await list_parameters(client))[resource]
    failures: list[str] = []
    checked = 0
    for param in filters(params):
        for case in cases(data, resource, param)[0]:
            items, total = await fetch_all(client, resource, {param.name: case.raw})
            got = [item["id"] for item in items]
            checked += 1
            if set(got) != case.expected or len(got) != len(case.expected):
                extra = sorted(set(got) - case.expected)[:5]
                missing = sorted(case.expected - set(got))[:5]
                failures.append(
                    f"{param.name}={case.raw}: {len(got)} rows, expected "
                    f"{len(case.expected)}; extra {extra}, missing {missing}"
                )
            elif total["value"] != len(case.expected):
                failures.append(f"{param.name}={case.raw}: total {total}")
    assert checked >= len(filters(params))
    assert not failures, "\n".join(failures)


async def test_every_filter_has_a_telling_sample(client: Client) -> None:
    """Each parameter gets a value selecting a non-empty strict subset, or a stated reason."""
    data = await served_oracle(client)
    lists = await list_parameters(client)
    assert sorted(lists) == RESOURCES
    lacking = {
        (resource, param.name)
        for resource, params in lists.items()
        for param in filters(params)
        if not cases(data, resource, param)[1]
    }
    assert lacking == set(NO_STRICT_SUBSET)
