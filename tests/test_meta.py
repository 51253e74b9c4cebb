"""`GET /v1/meta`: the data dictionary agrees with the specs, the Structs and the data."""

from __future__ import annotations

from typing import Any

import msgspec

from service.resources.meta import RESOURCES
from tests.helpers import Client, all_pages, assert_problem, get_json


async def meta(client: Client) -> Any:
    return await get_json(client, "/v1/meta")


async def test_resources_mirror_list_specs(client: Client) -> None:
    body = await meta(client)
    by_name = {r["name"]: r for r in body["resources"]}
    assert set(by_name) == {
        "articles",
        "documents",
        "initiatives",
        "metrics",
        "organisations",
        "regions",
    }
    for spec, _detail, _description in RESOURCES:
        doc = by_name[spec.resource]
        assert doc["path"] == f"/v1/{spec.resource}"
        assert [f["name"] for f in doc["filters"]] == [f.name for f in spec.filters]
        assert [s["name"] for s in doc["sort_keys"]] == [s.name for s in spec.sort_keys]
        assert doc["default_sort"] == spec.default_sort
        assert set(doc["query_parameters"]) == set(spec.accepted_params)
        for flt in doc["filters"]:
            assert set(flt["parameters"]) <= set(doc["query_parameters"])


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


async def test_enumerations_count_the_data(client: Client) -> None:
    body = await meta(client)
    enums = body["enumerations"]
    metrics = await all_pages(client, "/v1/metrics?limit=100")
    units = {e["value"]: e["count"] for e in enums["metric_units"]}
    assert sum(units.values()) == len(metrics)
    assert units["元"] == sum(1 for m in metrics if m["unit"] == "元")
    kinds = {e["value"]: e["count"] for e in enums["metric_kinds"]}
    assert sum(kinds.values()) == len(metrics)
    organisations = await all_pages(client, "/v1/organisations?limit=100")
    assert sum(e["count"] for e in enums["organisation_kinds"]) == len(organisations)
    roles = {e["value"] for e in enums["contributor_roles"]}
    assert {"reporter", "correspondent", "photographer"} <= roles
    assert all(e["count"] >= 0 for values in enums.values() for e in values)


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


def test_meta_struct_decodes_its_own_output() -> None:
    # The static part is built at import time; it must round-trip through the wire type.
    from service.resources.meta import RESOURCE_DOCS, ResourceDoc

    raw = msgspec.json.encode(RESOURCE_DOCS)
    assert msgspec.json.decode(raw, type=list[ResourceDoc]) == RESOURCE_DOCS
