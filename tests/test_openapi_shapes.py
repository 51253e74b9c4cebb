"""The spec tells generated clients what `expand=` and `fields=` return, and which values the
vocabulary fields take (issue #18): checked against the committed spec and the live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import Client, get_json
from tests.oracle import RESOURCES

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "openapi" / "v1.json").read_text()
)
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]


def body_forms(path: str) -> list[str]:
    schema = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return [form["$ref"].rsplit("/", 1)[1] for form in schema["anyOf"]]


def test_every_list_and_detail_offers_the_sparse_form() -> None:
    for resource in RESOURCES:
        full, sparse = body_forms(f"/v1/{resource}")
        assert sparse == full.removesuffix("Page") + "SparsePage"
        detail = next(p for p in SPEC["paths"] if p.startswith(f"/v1/{resource}/{{"))
        detail_full, detail_sparse = body_forms(detail)
        assert detail_sparse == f"{detail_full}Sparse"
        item = SCHEMAS[sparse]["properties"]["data"]["items"]["$ref"].rsplit("/", 1)[1]
        assert SCHEMAS[item]["required"] == ["id"]
        assert set(SCHEMAS[item]["properties"]) == set(
            SCHEMAS[item.removesuffix("Sparse")]["properties"]
        )


def test_expanded_is_declared_with_each_relation() -> None:
    expanded = SCHEMAS["MetricOut"]["properties"]["expanded"]["properties"]
    assert expanded["region"]["oneOf"][0]["$ref"].endswith("/RegionOut")
    assert expanded["growth_of"]["oneOf"][0]["$ref"].endswith("/MetricOut")
    assert "expanded" not in SCHEMAS["MetricOut"]["required"]
    assert "expanded" not in SCHEMAS["PersonOut"]["properties"]  # no relation to expand


async def test_output_vocabularies_are_enums_the_data_keeps(client: Client) -> None:
    kinds = SCHEMAS["OrganisationOut"]["properties"]["kind"]["enum"]
    codes = SCHEMAS["MetricOut"]["properties"]["unit_code"]["enum"]
    assert None in codes
    assert None not in kinds
    body = await get_json(client, "/v1/metrics?limit=100&expand=region&fields=unit_code,region")
    for metric in body["data"]:
        assert metric["unit_code"] in codes
        assert set(metric) <= {"id", "unit_code", "region", "expanded"}
    for organisation in (await get_json(client, "/v1/organisations?limit=100"))["data"]:
        assert organisation["kind"] in kinds
