"""Cache key, ETag matching and the stored form of a response (service/web/cache.py), no HTTP."""

from __future__ import annotations

import gzip

import pytest

from service.web.cache import (
    CachedResponse,
    ResponseCache,
    cache_key,
    etag_matches,
    sorted_query,
    stored_response,
)


@pytest.mark.parametrize(
    ("if_none_match", "etag", "expected"),
    [
        ('"a"', '"a"', True),
        ("*", '"a"', True),
        (" * ", '"a"', True),
        ('W/"a"', '"a"', True),  # weak comparison (RFC 9110 §13.1.2)
        ('"a"', 'W/"a"', True),
        ('"b", "a"', '"a"', True),
        ('"b" ,W/"a" ', '"a"', True),
        ('"b"', '"a"', False),
        ('"a', '"a"', False),
        ("", '"a"', False),
        ('"ab"', '"a"', False),
    ],
)
def test_etag_matches(if_none_match: str, etag: str, expected: bool) -> None:
    assert etag_matches(if_none_match, etag) is expected


def test_sorted_query_orders_names_and_keeps_repeats_in_order() -> None:
    assert sorted_query(b"") == b""
    assert sorted_query(b"b=1&a=2") == b"a=2&b=1"
    assert sorted_query(b"sort=b&a=1&sort=a") == b"a=1&sort=b&sort=a"
    assert sorted_query(b"x") == b"x"


def test_cache_key_ignores_parameter_order_but_not_negotiated_headers() -> None:
    json = [(b"accept", b"application/json"), (b"accept-encoding", b"gzip")]
    key = cache_key(3, "/v1/articles", b"b=1&a=2", json)
    assert key == cache_key(3, "/v1/articles", b"a=2&b=1", json)
    assert key == (3, "/v1/articles", b"a=2&b=1", b"application/json", b"gzip")
    assert key != cache_key(4, "/v1/articles", b"a=2&b=1", json)
    assert key != cache_key(3, "/v1/articles", b"a=2&b=1", [(b"accept", b"text/csv")])
    assert cache_key(None, "/docs", b"", []) == (None, "/docs", b"", b"", b"")


def test_stored_response_etag_hashes_body_and_version() -> None:
    headers = [(b"content-type", b"application/json"), (b"date", b"x"), (b"content-length", b"9")]
    entry = stored_response(7, headers, b'{"a": 1}')
    assert entry.status == 200
    assert entry.shareable
    assert entry.etag.startswith('"v7-')
    assert entry.etag.endswith('"')
    assert (b"date", b"x") not in entry.headers
    assert (b"content-length", b"8") in entry.headers
    assert stored_response(8, headers, b'{"a": 1}').etag != entry.etag
    assert stored_response(None, headers, b'{"a": 1}').etag == '"' + entry.etag[4:]


def test_stored_response_keeps_a_handler_etag_and_refuses_to_share_cookies() -> None:
    headers = [(b"etag", b'"articles:x:r2"'), (b"set-cookie", b"a=b")]
    entry = stored_response(1, headers, b"{}")
    assert entry.etag == '"articles:x:r2"'
    assert not entry.shareable
    assert all(k != b"etag" for k, _ in entry.headers)


def test_stored_response_etag_ignores_gzip_mtime() -> None:
    headers = [(b"content-encoding", b"gzip")]
    one = stored_response(1, headers, gzip.compress(b"same", mtime=1))
    two = stored_response(1, headers, gzip.compress(b"same", mtime=2))
    assert one.etag == two.etag
    assert one.body == two.body
    assert gzip.decompress(one.body) == b"same"


def test_response_cache_evicts_least_recently_used_within_its_byte_budget() -> None:
    cache = ResponseCache(max_bytes=80)

    def entry(size: int) -> CachedResponse:
        return CachedResponse(200, [], b"x" * size, '"e"')

    cache.put(("a",), entry(10))
    cache.put(("b",), entry(10))
    cache.put(("too big",), entry(11))  # over an eighth of the budget: not stored
    assert len(cache) == 2
    assert cache.get(("too big",)) is None
    assert cache.get(("a",)) is not None  # "a" is now the most recent
    for name in "cdefghi":  # 90 bytes: one over the budget
        cache.put((name,), entry(10))
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) is not None
    assert len(cache) == 8
    cache.clear()
    assert len(cache) == 0
