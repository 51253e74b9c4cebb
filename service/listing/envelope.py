"""The list envelope: `page`, `links`, `total`, `facets`, and the `Link` header (RFC 8288)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request

from service.listing.params import ListQuery
from service.listing.spec import ListSpec
from service.web.urls import public_url

if TYPE_CHECKING:
    from service.listing.sql import PageResult


class PageInfo(msgspec.Struct):
    limit: int
    next_cursor: str | None
    prev_cursor: str | None


class PageLinks(msgspec.Struct):
    self: str
    next: str | None
    prev: str | None


class Total(msgspec.Struct):
    """How many items the query selects: `exact`, `estimated` (the planner's or a sample's
    figure, for large results) or `none` (not counted; `value` is null)."""

    value: int | None
    kind: Literal["exact", "estimated", "none"]


class FacetValue(msgspec.Struct):
    """How many rows have this value, with every other filter applied."""

    value: str | bool | None
    count: int


Facets: TypeAlias = dict[str, list[FacetValue]]


def page_url(request: Request[Any, Any, Any], cursor: str | None) -> str:
    """This request's URL with another cursor: a relative reference, or absolute from
    `PUBLIC_BASE_URL` (never from `Host` or `X-Forwarded-*`: pages are cached for everyone)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    if cursor is not None:
        params.append(("cursor", cursor))
    query = urlencode(params)
    path = quote(request.scope["path"])
    return public_url(request.app.state.settings, f"{path}?{query}" if query else path)


def build_page(
    request: Request[Any, Any, Any],
    spec: ListSpec[Any],
    query: ListQuery,
    result: PageResult[Any],
    items: list[Any],
    facets: Facets | None,
) -> tuple[Any, dict[str, str]]:
    next_url = page_url(request, result.next_cursor) if result.next_cursor else None
    prev_url = page_url(request, result.prev_cursor) if result.prev_cursor else None
    page = spec.page_type(
        data=items,
        page=PageInfo(query.limit, result.next_cursor, result.prev_cursor),
        links=PageLinks(
            self=page_url(request, request.query_params.get("cursor")),
            next=next_url,
            prev=prev_url,
        ),
        total=result.total or Total(None, "none"),
        facets=facets,
    )
    link_parts = [
        f'<{url}>; rel="{rel}"' for rel, url in (("next", next_url), ("prev", prev_url)) if url
    ]
    headers = {"Link": ", ".join(link_parts)} if link_parts else {}
    return page, headers
