"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]


async def get_json(client: Client, url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    return response.json()


async def all_pages(client: Client, url: str) -> list[dict[str, Any]]:
    """Follow `links.next` to the end and return every item."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = await get_json(client, next_url)
        items.extend(body["data"])
        next_url = body["links"]["next"]
    return items


async def assert_problem(client: Client, url: str, status: int, param: str | None = None) -> Any:
    response = await client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert "Traceback" not in response.text
    if param is not None:
        assert param in [p["name"] for p in body["invalid_params"]], body
    return body
