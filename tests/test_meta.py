"""`GET /v1/meta`: the data dictionary agrees with the specs, the Structs and the data."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.helpers import Client, all_pages, assert_problem, get_json
from tests.oracle_cases import filters, list_parameters, oracle, sort_keys


async def meta(client: Client) -> Any:
    return await get_json(client, "/v1/meta")


async def test_resources_mirror_the_served_openapi(client: Client) -> None:
    """Every list resource, filter parameter and sort key of /v1/meta is the one OpenAPI
    serves (and the other way round), so the dictionary cannot drift from what is accepted."""
    body = await meta(client)
    by_name = {r["name"]: r for r in body["resources"]}
    lists = await list_parameters(client)
    assert set(by_name) == set(lists)
    for name, params in lists.items():
        doc = by_name[name]
        assert doc["path"] == f"/v1/{name}"
        assert set(doc["query_parameters"]) == set(params)
        declared = {p for f in doc["filters"] for p in f["parameters"]}
        assert declared == {f.name for f in filters(params)}
        for flt in doc["filters"]:
            assert flt["parameters"] == [
                flt["name"] if op == "eq" else f"{flt['name']}__{op}" for op in flt["operators"]
            ]
        assert [s["name"] for s in doc["sort_keys"]] == sort_keys(params)
        assert doc["default_sort"] == params["sort"]["schema"]["default"]


async def test_fields_match_the_wire_structs(client: Client) -> None:
    body = await meta(client)
    metrics = next(r for r in body["resources"] if r["name"] == "metrics")
    fields = {f["name"]: f for f in metrics["fields"]}
    sample = (await get_json(client, "/v1/metrics?limit=1"))["data"][0]
    assert set(fields) == set(sample)
    assert fields["value"]["type"] == "number"
    assert fields["value"]["unit"]
    assert fields["unit"]["nullable"] is True
    assert fields["span"]["type"] == "Span"
    assert fields["span"]["unit"].startswith("Unicode code points")
    assert all(not f["detail_only"] for f in metrics["fields"])

    articles = next(r for r in body["resources"] if r["name"] == "articles")
    detail_only = {f["name"] for f in articles["fields"] if f["detail_only"]}
    assert detail_only == {"organisations", "initiatives"}
    documents = next(r for r in body["resources"] if r["name"] == "documents")
    assert {f["name"] for f in documents["fields"] if f["detail_only"]} == {"text"}
    # The core fields every consumer reads are described.
    for resource in body["resources"]:
        for field in resource["fields"]:
            if field["name"] in {"id", "document", "span", "quote", "notes", "null_reasons"}:
                assert field["description"], (resource["name"], field["name"])


async def test_metric_filter_operators(client: Client) -> None:
    body = await meta(client)
    metrics = next(r for r in body["resources"] if r["name"] == "metrics")
    value = next(f for f in metrics["filters"] if f["name"] == "value")
    assert value["type"] == "number"
    assert {"gte", "lte"} <= set(value["operators"])
    assert "value__gte" in value["parameters"]
    kind = next(f for f in metrics["filters"] if f["name"] == "kind")
    assert "money" in (kind["enum"] or [])


# /v1/meta enumeration -> (resource, field) of the oracle it counts.
ENUMERATIONS = {
    "metric_kinds": ("metrics", "kind"),
    "metric_units": ("metrics", "unit"),
    "metric_qualifiers": ("metrics", "qualifier"),
    "article_kinds": ("articles", "kind"),
    "organisation_kinds": ("organisations", "kind"),
    "initiative_kinds": ("initiatives", "kind"),
    "region_levels": ("regions", "level"),
    "place_kinds": ("places", "kind"),
    "recognition_kinds": ("recognitions", "kind"),
    "recognition_levels": ("recognitions", "level"),
}


async def test_enumerations_count_the_data(client: Client) -> None:
    """Counts from the curated data (tests/oracle.py), zero for a vocabulary word unused."""
    enums = (await meta(client))["enumerations"]
    data = oracle()
    expected: dict[str, Counter[Any]] = {
        name: Counter(r.fields[column] for r in data.resources[resource])
        for name, (resource, column) in ENUMERATIONS.items()
    }
    for name, rows in data.role_rows.items():
        expected[name] = Counter(role for *_, role in rows)
    assert set(enums) == set(expected)
    for name, values in enums.items():
        served = {e["value"]: e["count"] for e in values}
        assert len(served) == len(values), name  # no value twice
        assert {v: c for v, c in served.items() if c} == dict(expected[name]), name


async def test_dataset_and_documents(client: Client) -> None:
    body = await meta(client)
    assert body["dataset"]["version"] >= 1
    assert len(body["dataset"]["content_sha256"]) == 64
    assert body["dataset"]["loaded_at"].endswith(("Z", "+00:00"))
    listed = await all_pages(client, "/v1/documents")
    assert {d["id"] for d in body["documents"]} == {d["id"] for d in listed}
    for document in body["documents"]:
        full = await get_json(client, document["path"])
        assert full["sha256"] == document["sha256"]
        assert len(full["text"]) == document["char_count"]
    assert body["licence"]["code"] == "MIT"
    assert "quote" in body["licence"]["provenance"]
    assert body["openapi"] == "/schema/openapi.json"


async def test_meta_rejects_unknown_parameters(client: Client) -> None:
    await assert_problem(client, "/v1/meta?verbose=1", 400, "verbose")
