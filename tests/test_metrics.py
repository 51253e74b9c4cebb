"""GET /v1/metrics and /v1/metrics/{id}."""

from __future__ import annotations

from decimal import Decimal

from tests.helpers import Client, all_pages, assert_problem, get_json


class TestListMetrics:
    async def test_every_metric_is_traceable_to_its_source(self, client: Client) -> None:
        documents = {d["id"]: d for d in (await get_json(client, "/v1/documents"))["data"]}
        texts = {i: (await get_json(client, f"/v1/documents/{i}"))["text"] for i in documents}
        metrics = await all_pages(client, "/v1/metrics?limit=100")
        assert len(metrics) >= 100
        for metric in metrics:
            text = texts[metric["document"]]
            assert text[metric["span"]["start"] : metric["span"]["end"]] == metric["quote"]
            assert "".join(metric["raw"].split()) in "".join(metric["quote"].split())

    async def test_known_figure_is_normalised(self, client: Client) -> None:
        body = await get_json(client, "/v1/metrics?unit=元&value=134000000")
        assert [m["raw"] for m in body["data"]] == ["1.34亿元"]
        metric = body["data"][0]
        assert metric["value"] == 134000000
        assert metric["cumulative"] is True
        growth = await get_json(client, f"/v1/metrics?growth_of={metric['id']}")
        assert [g["raw"] for g in growth["data"]] == ["288.51%"]

    async def test_value_range_filter(self, client: Client) -> None:
        items = await all_pages(client, "/v1/metrics?unit=元&value__gte=100000000&limit=100")
        assert items
        assert all(m["unit"] == "元" and Decimal(str(m["value"])) >= 100000000 for m in items)

    async def test_sort_by_value_descending(self, client: Client) -> None:
        items = await all_pages(client, "/v1/metrics?unit=元&sort=-value&limit=7")
        values = [Decimal(str(m["value"])) for m in items]
        assert values == sorted(values, reverse=True)
        assert len({m["id"] for m in items}) == len(items)

    async def test_region_filter_includes_sub_regions(self, client: Client) -> None:
        city = await all_pages(client, "/v1/metrics?region=li-shui-shi&limit=100")
        county = await all_pages(client, "/v1/metrics?region=sui-chang-xian&limit=100")
        assert county
        assert {m["id"] for m in county} <= {m["id"] for m in city}

    async def test_initiative_filter(self, client: Client) -> None:
        items = await all_pages(client, "/v1/metrics?initiative=gong-fu-gong-fang&limit=100")
        assert "546家" in [m["raw"] for m in items]

    async def test_bad_values_are_400_problems(self, client: Client) -> None:
        await assert_problem(client, "/v1/metrics?value__gte=abc", 400, "value__gte")
        await assert_problem(client, "/v1/metrics?limit=0", 400, "limit")
        await assert_problem(client, "/v1/metrics?limit=101", 400, "limit")
        await assert_problem(client, "/v1/metrics?sort=nope", 400, "sort")
        await assert_problem(client, "/v1/metrics?unti=元", 400, "unti")
        await assert_problem(client, "/v1/metrics?kind=weird", 400, "kind")
        await assert_problem(client, "/v1/metrics?cumulative=maybe", 400, "cumulative")
        await assert_problem(client, "/v1/metrics?value=NaN", 400, "value")


class TestGetMetric:
    async def test_detail_matches_list_item(self, client: Client) -> None:
        first = (await get_json(client, "/v1/metrics?limit=1"))["data"][0]
        assert await get_json(client, f"/v1/metrics/{first['id']}") == first

    async def test_unknown_id_is_404_problem(self, client: Client) -> None:
        await assert_problem(client, "/v1/metrics/no-such-metric", 404)

    async def test_malformed_id_is_400(self, client: Client) -> None:
        await assert_problem(client, "/v1/metrics/NOT%20A%20SLUG", 400)
