"""Pure parts of conditional writes: the strong ETag of a record and the RFC 7386 merge patch.

Both sit in the mutation gate's fast subset. The ETag tests pin what a client may rely on
(a tag moves with the body, ignores key order, keeps one fixed shape); the merge-patch tests
follow the examples of RFC 7386 appendix A.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from service.curation.ops import merge_patch
from service.listing.handlers import make_etag

TAG = re.compile(
    r'^"(?P<resource>[a-z_]+):(?P<id>[^:]+):r(?P<revision>\d+)-(?P<digest>[0-9a-f]{16})"$'
)


class Body(msgspec.Struct):
    id: str
    name: str


def test_a_tag_names_resource_record_revision_and_a_16_hex_digest() -> None:
    match = TAG.fullmatch(make_etag("organisations", "org-1", 3, Body("org-1", "市委")))
    assert match is not None
    assert match["resource"] == "organisations"
    assert match["id"] == "org-1"
    assert match["revision"] == "3"


def test_a_deleted_record_is_tagged_by_its_revision_alone() -> None:
    assert make_etag("metrics", "m-1", 7) == '"metrics:m-1:r7"'


def test_the_tag_moves_with_the_body_at_the_same_revision() -> None:
    # An embedded record renamed elsewhere changes the body but not this record's revision.
    before = make_etag("articles", "a-1", 2, Body("a-1", "市委"))
    after = make_etag("articles", "a-1", 2, Body("a-1", "中共丽水市委"))
    assert before != after


def test_the_tag_moves_with_the_revision_at_the_same_body() -> None:
    body = Body("a-1", "市委")
    assert make_etag("articles", "a-1", 1, body) != make_etag("articles", "a-1", 2, body)


def test_the_tag_ignores_the_order_of_mapping_keys() -> None:
    # Two replicas may build the same JSON object in a different key order.
    one = make_etag("metrics", "m-1", 1, {"value": "1.34", "unit": "亿元"})
    other = make_etag("metrics", "m-1", 1, {"unit": "亿元", "value": "1.34"})
    assert one == other


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        (["a", "b"], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        # A null or scalar field patched with an object (a fuller name set for the first time).
        (None, {"name": "中共丽水市委"}, {"name": "中共丽水市委"}),
        ({"fuller_name": None}, {"fuller_name": {"name": "x"}}, {"fuller_name": {"name": "x"}}),
        ("text", {"a": 1}, {"a": 1}),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


def test_merge_patch_leaves_its_target_unchanged() -> None:
    target = {"a": {"b": "c"}}
    merge_patch(target, {"a": {"b": None}})
    assert target == {"a": {"b": "c"}}
