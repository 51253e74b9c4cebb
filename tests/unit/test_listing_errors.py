"""The 400s of the listing machinery name the parameter, say why and give the machine code
(pure: no HTTP). Part of the mutation gate's test selection (pyproject.toml, [tool.mutmut])."""

from __future__ import annotations

import pytest

from service.listing.columns import column_type
from service.listing.cursor import Cursor, decode_cursor, encode_cursor, query_binding
from service.listing.limits import MAX_SORT_KEYS
from service.listing.params import parse_sort
from service.resources.organisations import ORGANISATIONS
from service.web.errors import BadRequest, InvalidParam

SECRET = b"unit-test-secret"


def only_problem(error: pytest.ExceptionInfo[BadRequest]) -> InvalidParam:
    (param,) = error.value.invalid_params
    return param


def test_an_unknown_sort_key_names_the_allowed_ones() -> None:
    with pytest.raises(BadRequest) as error:
        parse_sort(ORGANISATIONS, "name,nope")
    allowed = ", ".join(ORGANISATIONS.sort_by_name)
    assert only_problem(error) == InvalidParam(
        "sort", f"unknown sort key 'nope'; allowed: {allowed}", "not_allowed", "query"
    )


def test_too_many_sort_keys() -> None:
    keys = ",".join(["name"] * (MAX_SORT_KEYS + 1))
    with pytest.raises(BadRequest) as error:
        parse_sort(ORGANISATIONS, keys)
    assert only_problem(error) == InvalidParam(
        "sort", f"at most {MAX_SORT_KEYS} sort keys", "too_many", "query"
    )


def test_exactly_the_most_sort_keys_parse_and_a_repeat_counts_once() -> None:
    """The limit is inclusive; a repeated key keeps the first one's direction."""
    keys = ",".join(["name", "-name", "kind", "name"][:MAX_SORT_KEYS])
    assert len(keys.split(",")) == MAX_SORT_KEYS
    parsed = parse_sort(ORGANISATIONS, keys)
    assert [(key.name, descending) for key, descending in parsed] == [
        ("name", False),
        ("kind", False),
    ]


def test_a_known_sort_parses() -> None:
    ((key, descending),) = parse_sort(ORGANISATIONS, "-name")
    assert (key.name, descending) == ("name", True)


KEYS = [column_type(ORGANISATIONS.id_column)]


def test_a_tampered_cursor() -> None:
    binding = query_binding(SECRET, "/v1/organisations", {}, ["id"])
    with pytest.raises(BadRequest) as error:
        decode_cursor("bm90LWEtY3Vyc29y", SECRET, binding, KEYS)
    assert only_problem(error) == InvalidParam(
        "cursor",
        "malformed or tampered cursor; restart from the first page",
        "invalid_cursor",
        "query",
    )


def test_a_cursor_of_another_query() -> None:
    issued = query_binding(SECRET, "/v1/organisations", {"kind": "bank"}, ["id"])
    other = query_binding(SECRET, "/v1/organisations", {"kind": "party"}, ["id"])
    raw = encode_cursor(Cursor("next", ["some-id"], issued), SECRET)
    assert decode_cursor(raw, SECRET, issued, KEYS).values == ["some-id"]
    with pytest.raises(BadRequest) as error:
        decode_cursor(raw, SECRET, other, KEYS)
    assert only_problem(error) == InvalidParam(
        "cursor", "cursor belongs to a different query; restart paging", "invalid_cursor", "query"
    )
