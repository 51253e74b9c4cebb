"""`Accept` q-value negotiation (service/web/negotiation.py), no HTTP."""

from __future__ import annotations

import pytest

from service.web.negotiation import accepts_json, negotiate, parse_accept, quality_of

OFFERS = ("application/json", "text/csv")


def test_parse_accept_lowercases_and_drops_invalid_q_values() -> None:
    ranges = parse_accept("Text/CSV;q=0.5, application/json;q=2, */*;Q=0.100, junk, x/y;q=1.0")
    assert ranges == [("text/csv", 0.5), ("*/*", 0.1), ("x/y", 1.0)]


@pytest.mark.parametrize(
    ("q", "valid"),
    [
        ("0", True),
        ("1", True),
        ("0.123", True),
        ("1.000", True),
        ("0.1234", False),
        ("1.5", False),
        ("-0", False),
        ("", False),
        (".5", False),
    ],
)
def test_q_value_grammar(q: str, valid: bool) -> None:
    assert bool(parse_accept(f"a/b;q={q}")) is valid


def test_quality_prefers_the_most_specific_range() -> None:
    ranges = parse_accept("*/*;q=0.1, text/*;q=0.5, text/csv;q=0.9")
    assert quality_of(ranges, "text/csv") == 0.9
    assert quality_of(ranges, "text/plain") == 0.5
    assert quality_of(ranges, "application/json") == 0.1
    assert quality_of(parse_accept("text/csv"), "application/json") == 0.0


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("  ", "application/json"),
        ("text/csv", "text/csv"),
        ("text/csv, application/json", "application/json"),  # tie: the server's order
        ("text/csv, application/json;q=0.9", "text/csv"),
        ("*/*", "application/json"),
        ("application/json;q=0, */*", "text/csv"),
        ("image/png", None),
        ("application/json;q=0, text/csv;q=0", None),
    ],
)
def test_negotiate(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept, OFFERS) == chosen


def test_accepts_json_covers_every_served_type() -> None:
    assert accepts_json("application/problem+json")
    assert accepts_json("application/x-ndjson")
    assert accepts_json("text/*")
    assert not accepts_json("application/json;q=0")
    assert not accepts_json("text/html")
