"""The list contract shared by every resource: keyset cursors, links, totals, sorting."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import Client, all_pages, assert_problem, get_json

LISTS = {
    "articles": ["document,position", "-headline", "kind,-position"],
    "documents": ["date_estimate", "-date_estimate"],
    "initiatives": ["name", "-kind,name"],
    "metrics": ["document,position", "-value", "kind,-value"],
    "organisations": ["name", "kind,-name"],
    "regions": ["level,name", "-name"],
}
SORTS = [(resource, sort) for resource, sorts in LISTS.items() for sort in sorts]


class TestPagination:
    @pytest.mark.parametrize(("resource", "sort"), SORTS)
    async def test_small_pages_equal_one_big_page(
        self, client: Client, resource: str, sort: str
    ) -> None:
        first = await get_json(client, f"/v1/{resource}?limit=1&sort={sort}&count=exact")
        total = first["total"]
        big = await all_pages(client, f"/v1/{resource}?limit=100&sort={sort}")
        small = await all_pages(client, f"/v1/{resource}?limit=3&sort={sort}")
        assert [i["id"] for i in small] == [i["id"] for i in big]
        assert len({i["id"] for i in big}) == len(big)
        assert total == {"value": len(big), "kind": "exact"}

    @pytest.mark.parametrize("resource", list(LISTS))
    async def test_prev_cursor_walks_back(self, client: Client, resource: str) -> None:
        # limit=1: every resource, documents too (two rows), has a second page.
        first = await get_json(client, f"/v1/{resource}?limit=1")
        assert first["page"]["next_cursor"], resource
        assert first["page"]["prev_cursor"] is None
        second = await get_json(
            client, f"/v1/{resource}?limit=1&cursor={first['page']['next_cursor']}"
        )
        assert second["data"][0]["id"] != first["data"][0]["id"]
        back = await get_json(
            client, f"/v1/{resource}?limit=1&cursor={second['page']['prev_cursor']}"
        )
        assert [i["id"] for i in back["data"]] == [i["id"] for i in first["data"]]
        assert back["page"]["prev_cursor"] is None

    async def test_link_header(self, client: Client) -> None:
        response = await client.get("/v1/metrics?limit=5")
        body = response.json()
        assert f'<{body["links"]["next"]}>; rel="next"' in response.headers["link"]

    async def test_count_none(self, client: Client) -> None:
        body = await get_json(client, "/v1/metrics?limit=5&count=none")
        assert body["total"] == {"value": None, "kind": "none"}

    async def test_tampered_cursor_is_400(self, client: Client) -> None:
        cursor = (await get_json(client, "/v1/metrics?limit=2"))["page"]["next_cursor"]
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        raw[-3] ^= 1
        forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        await assert_problem(client, f"/v1/metrics?limit=2&cursor={forged}", 400, "cursor")
        await assert_problem(client, "/v1/metrics?cursor=%%%", 400, "cursor")
        await assert_problem(client, "/v1/metrics?cursor=bm90LWEtY3Vyc29y", 400, "cursor")

    async def test_cursor_bound_to_its_filters(self, client: Client) -> None:
        cursor = (await get_json(client, "/v1/metrics?limit=2&unit=元"))["page"]["next_cursor"]
        await assert_problem(client, f"/v1/metrics?limit=2&unit=个&cursor={cursor}", 400, "cursor")
        await assert_problem(
            client, f"/v1/metrics?limit=2&unit=元&sort=-value&cursor={cursor}", 400
        )
        # The page size may change between pages.
        await get_json(client, f"/v1/metrics?limit=7&unit=元&cursor={cursor}")

    async def test_repeated_parameter_is_400(self, client: Client) -> None:
        await assert_problem(client, "/v1/metrics?limit=2&limit=3", 400, "limit")
