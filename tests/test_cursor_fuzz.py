"""Fuzzing the read side: forged cursors and hostile query strings never produce a 500.

Cursors are signed with the app's own key (what an attacker who learnt it, or a buggy client
replaying old cursors, could send), so every payload gets past the signature and reaches the
typed decoding and the per-column key checks. Every endpoint that pages is covered, search and
changes included, on every backend. Errors must be problem+json.

`FUZZ_READ_EXAMPLES` sets the budget per test (default 150).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import string
from typing import Any
from urllib.parse import quote

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from service.listing.cursor import query_binding
from tests.helpers import Client

PROBLEM = "application/problem+json"
EXAMPLES = int(os.environ.get("FUZZ_READ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
SEARCH = "/v1/search?q=%E5%B7%A5%E5%9D%8A&limit=2"
# Every endpoint that pages, with sorts that put each key type (text, int, decimal, nullable
# text) in the cursor.
PAGED = [
    "/v1/metrics?limit=2",
    "/v1/metrics?limit=2&sort=-value,kind",
    "/v1/metrics?limit=2&sort=position&unit=%E5%85%83",
    "/v1/articles?limit=2",
    "/v1/articles?limit=2&sort=-position",
    "/v1/initiatives?limit=2",
    "/v1/organisations?limit=2&region=li-shui-shi",
    "/v1/regions?limit=2",
    "/v1/documents?limit=1",
    SEARCH,
    "/v1/changes?limit=2",
]
# Parameters each list understands, and some it does not.
PARAM_NAMES = [
    "limit",
    "cursor",
    "sort",
    "count",
    "fields",
    "expand",
    "facet",
    "q",
    "format",
    "value",
    "value__gt",
    "value__in",
    "value__not",
    "unit",
    "kind__in",
    "region",
    "cumulative",
    "since",
    "type",
    "resource",
    "id__in",
    "name__contains",
    "headline__startswith",
    "isnull",
    "region__isnull",
    "",
]


def forge(secret: bytes, payload: bytes) -> str:
    tag = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")


def check(response: Any, context: object) -> None:
    assert response.status_code < 500, (context, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM), context
        assert response.json()["status"] == response.status_code


@pytest.fixture(scope="session")
async def bindings(app: Litestar, client: Client) -> dict[str, tuple[str, int]]:
    """The real binding and key count of each paged URL (from a cursor it issued, or computed
    for changes)."""
    secret: bytes = app.state.cursor_secret
    found: dict[str, tuple[str, int]] = {}
    for url in PAGED:
        if url.startswith("/v1/changes"):
            found[url] = (query_binding(secret, "/v1/changes", [None, None], ["id"]), 1)
            continue
        cursor = (await client.get(url)).json()["page"]["next_cursor"]
        assert cursor, url
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        _direction, values, binding = msgspec.json.decode(blob[16:])
        found[url] = (binding, len(values))
    return found


# Anything JSON can say, leaning on what sort keys look like (and just past what they can be).
key_like = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**40]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["NaN", "Infinity", "-0", "1e5", "1E-16384", "9" * 30, "0.0000001", "٥"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
    st.sampled_from(["lishui-2022-08-page", "metrics", "articles", "\x00", "a\x00b", ""]),
)
json_value = st.recursive(
    key_like,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def payloads(draw: st.DrawFn, binding: str) -> bytes:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.binary(max_size=200))
    if shape == 1:
        return msgspec.json.encode(draw(json_value))
    direction = draw(st.sampled_from(["next", "prev", "next", "up", "", None, 1]))
    values = draw(st.lists(key_like, max_size=5))
    bound = draw(st.sampled_from([binding, binding, binding, binding[:16], "", None, 0]))
    extra = draw(st.lists(json_value, max_size=2)) if shape == 2 else []
    return msgspec.json.encode([direction, values, bound, *extra])


class TestForgedCursors:
    @FUZZ
    @given(data=st.data())
    async def test_any_signed_payload_is_never_a_500(
        self,
        app: Litestar,
        client: Client,
        bindings: dict[str, tuple[str, int]],
        data: st.DataObject,
    ) -> None:
        secret: bytes = app.state.cursor_secret
        url = data.draw(st.sampled_from(PAGED))
        payload = data.draw(payloads(bindings[url][0]))
        cursor = forge(secret, payload)
        response = await client.get(f"{url}&cursor={cursor}")
        check(response, (url, payload))

    @FUZZ
    @given(data=st.data())
    async def test_well_formed_cursors_with_wrong_keys(
        self,
        app: Litestar,
        client: Client,
        bindings: dict[str, tuple[str, int]],
        data: st.DataObject,
    ) -> None:
        """The right arity and binding: only the key values are wrong (or right)."""
        secret: bytes = app.state.cursor_secret
        url = data.draw(st.sampled_from(PAGED))
        binding, n = bindings[url]
        values = data.draw(st.lists(key_like, min_size=n, max_size=n))
        direction = data.draw(st.sampled_from(["next", "prev"]))
        payload = msgspec.json.encode([direction, values, binding])
        response = await client.get(f"{url}&cursor={forge(secret, payload)}")
        check(response, (url, values))


# ---------------------------------------------------------------- hostile query strings

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９.-+eE_ ", max_size=25),
    st.sampled_from(
        [
            "1E-16384",
            "1e999",
            "-1e999",
            "NaN",
            "Infinity",
            "99999999999999999999999999",
            "0x10",
            "\x00",
            "a\x00b",
            "\x1b[31m",
            "%",
            "%%",
            ",",
            ",,",
            "-",
            "--value",
            "value,value,value,value,value",
            "9999-12-31T23:59:59-23:59",
            "0000-01-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "' OR 1=1 --",
            '"',
            "工坊 OR NEAR(a b)",
            "*",
            "true",
        ]
    ),
)
raw_bytes = st.binary(min_size=1, max_size=12).map(lambda b: "".join(f"%{x:02X}" for x in b))


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.one_of(st.sampled_from(PARAM_NAMES), st.text(string.printable, max_size=8)))
        encoded_name = quote(name, safe="")
        # Arbitrary bytes (invalid UTF-8 included) or hostile text.
        value = draw(raw_bytes) if draw(st.booleans()) else quote(draw(hostile_text), safe="")
        parts.append(f"{encoded_name}={value}")
    return "&".join(parts)


ENDPOINTS = [
    "/v1/metrics",
    "/v1/articles",
    "/v1/initiatives",
    "/v1/organisations",
    "/v1/regions",
    "/v1/documents",
    "/v1/search",
    "/v1/changes",
    "/v1/meta",
    "/v1/metrics/qiang-cun-gong-si-li-run",
    "/v1/regions/li-shui-shi",
]


class TestHostileQueryStrings:
    @FUZZ
    @given(endpoint=st.sampled_from(ENDPOINTS), query=query_strings())
    async def test_never_a_500(self, client: Client, endpoint: str, query: str) -> None:
        if endpoint == "/v1/search" and "q=" not in query:
            query += "&q=%E5%B7%A5%E5%9D%8A"
        response = await client.get(f"{endpoint}?{query}")
        check(response, (endpoint, query))

    @FUZZ
    @given(
        name=st.sampled_from(["value", "value__gt", "value__gte", "value__lt", "value__in"]),
        number=st.one_of(
            st.decimals(allow_nan=True, allow_infinity=True).map(str),
            st.floats().map(repr),
            st.integers().map(str),
            st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,7})?", fullmatch=True),
        ),
    )
    async def test_any_number_in_a_numeric_filter(
        self, client: Client, name: str, number: str
    ) -> None:
        response = await client.get(f"/v1/metrics?count=none&{name}={quote(number, safe='')}")
        check(response, (name, number))
