"""The query contract on every list endpoint: filters, fields, expand, facets, search, exports.

Expected results are computed in Python from the curated data, so the same assertions hold on
SQLite and PostgreSQL: that is what "identical results on both databases" means here.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Client, all_pages, assert_problem, get_json
from tests.oracle import RESOURCES
from tests.oracle_cases import oracle

SEARCHABLE = ["articles", "initiatives", "metrics", "organisations"]


# Parametrised from the committed OpenAPI (tests/test_openapi.py checks it equals the served
# one), not from service internals.
SPEC = json.loads((Path(__file__).resolve().parents[1] / "openapi" / "v1.json").read_text())
# expand relation -> resource it embeds (`parent` is the resource itself).
RELATION_TARGETS = {
    "article": "articles",
    "document": "documents",
    "region": "regions",
    "initiative": "initiatives",
    "organisation": "organisations",
    "growth_of": "metrics",
    "awarder": "organisations",
}


def params(resource: str) -> dict[str, Any]:
    found = SPEC["paths"][f"/v1/{resource}"]["get"]["parameters"]
    return {p["name"]: p for p in found if p["in"] == "query"}


def enum_of(resource: str, name: str) -> list[str]:
    param = params(resource).get(name)
    return list(param["schema"]["items"]["enum"]) if param else []


def bad_value(schema: dict[str, Any]) -> str | None:
    one = schema.get("items", schema) if schema.get("type") == "array" else schema
    if one.get("type") == "boolean":
        return "maybe"
    if one.get("type") == "number":
        return "abc"
    if one.get("enum"):
        return "not-in-enum"
    return None


def bad_filter_values() -> list[tuple[str, str, str]]:
    found = []
    for resource in RESOURCES:
        for name, param in params(resource).items():
            bad = bad_value(param["schema"])
            if name not in {"limit", "count", "format", "fields", "expand", "facet"} and bad:
                found.append((resource, name, bad))
    return found


class TestFilters:
    @pytest.mark.parametrize(
        ("resource", "param", "value"),
        bad_filter_values(),
    )
    async def test_bad_filter_values_are_400(
        self, client: Client, resource: str, param: str, value: str
    ) -> None:
        await assert_problem(client, f"/v1/{resource}?{param}={value}", 400, param)

    async def test_relation_filters(self, client: Client) -> None:
        bank = "tai-long-yin-hang-li-shui-fen-hang"
        articles = await all_pages(client, f"/v1/articles?organisation={bank}")
        assert [a["id"] for a in articles] == ["tai-long-yin-hang-zhu-qi-shu-kun"]
        organisations = await all_pages(client, f"/v1/organisations?article={articles[0]['id']}")
        assert bank in [o["id"] for o in organisations]
        metrics = await all_pages(client, f"/v1/metrics?organisation={bank}&limit=100")
        assert "13.85亿元" in [m["raw"] for m in metrics]
        by_initiative = await all_pages(client, "/v1/articles?initiative=gong-fu-gong-fang")
        assert len(by_initiative) >= 2
        photographers = await all_pages(client, "/v1/articles?contributor_role=photographer")
        assert {a["kind"] for a in photographers} == {"photo"}

    async def test_organisations_by_kind_and_region_include_sub_regions(
        self, client: Client
    ) -> None:
        everywhere = await all_pages(client, "/v1/organisations?kind=government&limit=100")
        in_lishui = await all_pages(
            client, "/v1/organisations?kind=government&region=li-shui-shi&limit=100"
        )
        in_province = await all_pages(
            client, "/v1/organisations?kind=government&region=zhe-jiang-sheng&limit=100"
        )
        assert {o["id"] for o in in_lishui} <= {o["id"] for o in in_province}
        assert {o["id"] for o in in_province} <= {o["id"] for o in everywhere}
        assert any(o["region"] != "li-shui-shi" for o in in_lishui)  # a county's body


class TestFieldsAndExpand:
    @pytest.mark.parametrize("resource", RESOURCES)
    async def test_fields_keep_only_those_and_the_id(self, client: Client, resource: str) -> None:
        name = enum_of(resource, "fields")[1]
        body = await get_json(client, f"/v1/{resource}?fields={name}&limit=3")
        assert all(set(item) == {"id", name} for item in body["data"])
        one = body["data"][0]["id"]
        detail = await get_json(client, f"/v1/{resource}/{one}?fields={name}")
        assert set(detail) == {"id", name}
        await assert_problem(client, f"/v1/{resource}?fields=nope", 400, "fields")
        await assert_problem(client, f"/v1/{resource}/{one}?fields=nope", 400, "fields")
        await assert_problem(client, f"/v1/{resource}/{one}?unknown=1", 400, "unknown")

    @pytest.mark.parametrize(
        ("resource", "relation"),
        [(r, name) for r in RESOURCES for name in enum_of(r, "expand") if "." not in name],
    )
    async def test_expand_embeds_the_related_record(
        self, client: Client, resource: str, relation: str
    ) -> None:
        target = resource if relation == "parent" else RELATION_TARGETS[relation]
        items = await all_pages(client, f"/v1/{resource}?expand={relation}&limit=100")
        for item in items:
            related_id = item[relation]
            embedded = item["expanded"][relation]
            if related_id is None:
                assert embedded is None
            else:
                # The related record as its list shows it (details add heavy fields).
                listed = await get_json(client, f"/v1/{target}?id__in={related_id}")
                assert embedded == listed["data"][0]

    async def test_expand_two_levels_and_limits(self, client: Client) -> None:
        body = await get_json(client, "/v1/metrics?expand=article.document,article.region&limit=2")
        article = body["data"][0]["expanded"]["article"]
        assert article["expanded"]["document"]["id"] == article["document"]
        assert "text" not in article["expanded"]["document"]  # list shape, not the full page
        await assert_problem(client, "/v1/metrics?expand=article.document.region", 400, "expand")
        await assert_problem(client, "/v1/metrics?expand=nope", 400, "expand")
        detail = await get_json(client, f"/v1/metrics/{body['data'][0]['id']}?expand=region")
        assert detail["expanded"]["region"]["id"] == detail["region"]


class TestFacets:
    async def test_facet_applies_other_filters_not_its_own(self, client: Client) -> None:
        body = await get_json(client, "/v1/metrics?unit=元&facet=unit,kind&limit=1")
        money_kinds = {c["value"] for c in body["facets"]["kind"]}
        assert "money" in money_kinds
        assert "percentage" not in money_kinds  # the unit filter applies to the kind facet
        units = {c["value"] for c in body["facets"]["unit"]}
        assert {"元", "%"} <= units  # ...but not to its own facet
        await assert_problem(client, "/v1/metrics?facet=value", 400, "facet")
        assert "facets" not in await get_json(client, "/v1/metrics?limit=1")


def expected_hits(resource: str, text: str) -> set[str]:
    """From the naive reference (tests/oracle.py), not the service's tokeniser."""
    return oracle().search(resource, text)


QUERIES = [
    "工坊",
    "丽水",
    "共富工坊",
    "数字 丽水",
    "银行",
    "sikkdao",
    "亿元",
    "侨",
    "2022",
    "党建联盟",
]


class TestSearch:
    @pytest.mark.parametrize(("resource", "text"), [(r, q) for r in SEARCHABLE for q in QUERIES])
    async def test_results_match_phrase_semantics(
        self, client: Client, resource: str, text: str
    ) -> None:
        found = await all_pages(client, f"/v1/{resource}?q={text}&limit=100")
        assert {item["id"] for item in found} == expected_hits(resource, text)

    async def test_two_character_words_are_found(self, client: Client) -> None:
        assert await all_pages(client, "/v1/articles?q=工坊")
        assert await all_pages(client, "/v1/organisations?q=丽水")

    @pytest.mark.parametrize(
        ("text", "status"),
        [
            ('"OR"', 200),
            ("AND (x*", 200),
            ("NEAR(a b)", 200),
            ("丽水*", 200),
            ("col:工坊", 200),
            ("'; --", 400),  # nothing searchable
        ],
    )
    async def test_fts_syntax_is_harmless(self, client: Client, text: str, status: int) -> None:
        response = await client.get("/v1/metrics", params={"q": text})
        assert response.status_code == status, response.text[:300]

    async def test_bad_queries(self, client: Client) -> None:
        await assert_problem(client, "/v1/metrics?q=%20%2B%2B", 400, "q")
        await assert_problem(client, "/v1/metrics?q=" + "字" * 101, 400, "q")
        await assert_problem(client, "/v1/regions?q=丽水", 400, "q")  # not searchable

    async def test_search_across_resources(self, client: Client) -> None:
        hits = await all_pages(client, "/v1/search?q=共富工坊&limit=5")
        expected = {(r, i) for r in SEARCHABLE for i in expected_hits(r, "共富工坊")}
        assert {(h["type"], h["id"]) for h in hits} == expected
        # Most relevant first (tests/test_search_ranking.py), the type and id breaking ties.
        ranked = sorted(hits, key=lambda h: (-h["score"], h["type"], h["id"]))
        assert [(h["type"], h["id"]) for h in hits] == [(h["type"], h["id"]) for h in ranked]
        by_type = await all_pages(client, "/v1/search?q=共富工坊&limit=5&sort=type")
        assert [(h["type"], h["id"]) for h in by_type] == sorted((h["type"], h["id"]) for h in hits)
        for hit in hits:
            for span in hit["highlights"]:
                assert hit["snippet"][span["start"] : span["end"]] == "共富工坊"
        only = await all_pages(client, "/v1/search?q=共富工坊&type=organisations,initiatives")
        assert {h["type"] for h in only} <= {"organisations", "initiatives"}
        await assert_problem(client, "/v1/search", 400, "q")
        await assert_problem(client, "/v1/search?q=x&type=regions", 400, "type")


class TestExport:
    async def test_csv_has_every_matching_row(self, client: Client) -> None:
        total = (await get_json(client, "/v1/metrics?unit=元&limit=1&count=exact"))["total"][
            "value"
        ]
        response = await client.get("/v1/metrics?unit=元&format=csv&fields=id,raw,value,span")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == total
        assert list(rows[0]) == ["id", "value", "raw", "span.start", "span.end"]

    async def test_ndjson_by_accept_header(self, client: Client) -> None:
        response = await client.get("/v1/articles", headers={"Accept": "application/x-ndjson"})
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert [a["id"] for a in lines] == [
            a["id"] for a in await all_pages(client, "/v1/articles")
        ]

    async def test_export_of_nothing_is_a_header(self, client: Client) -> None:
        response = await client.get("/v1/metrics?value__gt=99999999999&format=csv&fields=id")
        assert response.text.strip() == "id"
