"""`q=` against a naive reference, independent of the service's tokeniser.

The oracle (tests/oracle.py) says: every space-separated word occurs in one searchable field,
a Chinese word as a plain substring, an ASCII word as a whole word, after NFKC and lowercasing.
Queries are drawn from the curated data (a 1-character word, a 2-character word, a longer
phrase, ASCII words in other cases and full width, mixed words, no-hit words), so they follow
the data, and each kind is checked to find something for every resource.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.helpers import Client
from tests.oracle import SEARCH_FIELDS, Oracle, normalise, search_texts
from tests.oracle_cases import fetch_all, oracle

SEARCHABLE = sorted(SEARCH_FIELDS)
HANZI = re.compile(r"[\u4e00-\u9fff]+")
# A word no record has, ANDed with one many have. (Fixed queries: tests/test_query_features.py.)
NO_HIT = ["丽水 龘qqxqzq"]


def _texts(data: Oracle, resource: str) -> list[str]:
    """Each record's searchable text as one string (fields kept apart by a newline)."""
    return [
        "\n".join(normalise(t) for t in search_texts(r, SEARCH_FIELDS[resource]))
        for r in data.resources[resource]
    ]


def _closest(counts: Counter[str], target: float) -> str:
    return min(counts, key=lambda w: (abs(counts[w] - target), w))


def drawn_queries(data: Oracle, resource: str) -> dict[str, str]:
    """Query words from this resource's own text, by kind, each found in some records."""
    texts = _texts(data, resource)
    n = len(texts)

    def grams(size: int, among: list[str] = texts) -> Counter[str]:
        counts: Counter[str] = Counter()
        for text in among:
            found = {
                run[i : i + size] for run in HANZI.findall(text) for i in range(len(run) - size + 1)
            }
            counts.update(found)
        return counts

    pair = _closest(grams(2), n / 3)
    with_pair = [t for t in texts if pair in t]
    others = grams(1, with_pair)
    for char in pair:
        del others[char]
    queries = {
        "1-char": _closest(grams(1), n / 2),
        "2-char": pair,
        "two-words": f"{pair} {_closest(others, len(with_pair) / 2)}",
    }
    if grams(4):
        queries["4-char"] = _closest(grams(4), 2)
    ascii_words: Counter[str] = Counter()
    for text in texts:
        ascii_words.update(set(re.findall(r"[a-z]{4,}", text)))
    if ascii_words:  # people and places are found by Chinese text only
        word = _closest(ascii_words, n / 4)
        # A second word drawn from the records the first one finds, so the AND finds something.
        with_word = [t for t in texts if re.search(rf"\b{word}\b", t)]
        queries |= {
            "ascii": word,
            "ascii-upper": word.upper(),
            "ascii-fullwidth": "".join(chr(ord(c) - 0x61 + 0xFF41) for c in word),
            "mixed": f"{word} {_closest(grams(2, with_word), len(with_word) / 2)}",
        }
    digits: Counter[str] = Counter()
    for text in texts:
        digits.update(set(re.findall(r"(?<![a-z0-9])[0-9]{2,}(?![a-z0-9])", text)))
    if digits:
        queries["digits"] = _closest(digits, n / 10)
    return queries


def search_cases() -> list[tuple[str, str, str]]:
    data = oracle()
    found = []
    for resource in SEARCHABLE:
        drawn = drawn_queries(data, resource)
        found += [(resource, kind, text) for kind, text in drawn.items()]
        found += [(resource, "no-hit", text) for text in NO_HIT]
    return found


@pytest.mark.parametrize("resource", SEARCHABLE)
async def test_search_matches_the_naive_oracle(client: Client, resource: str) -> None:
    data = oracle()
    failures = []
    for res, kind, text in search_cases():
        if res != resource:
            continue
        expected = data.search(resource, text)
        if kind == "no-hit":
            assert not expected, text
        else:
            assert 0 < len(expected) < len(data.ids(resource)), (kind, text, len(expected))
        items, total = await fetch_all(client, resource, {"q": text})
        got = {item["id"] for item in items}
        if got != expected or total["value"] != len(expected):
            failures.append(
                f"{kind} q={text!r}: got {len(got)}, expected {len(expected)}; "
                f"extra {sorted(got - expected)[:3]}, missing {sorted(expected - got)[:3]}"
            )
    assert not failures, "\n".join(failures)


async def test_search_across_resources(client: Client) -> None:
    data = oracle()
    kinds = {"2-char", "mixed"}
    queries = sorted({text for _, kind, text in search_cases() if kind in kinds})
    for text in queries:
        expected = sorted((r, i) for r in SEARCHABLE for i in data.search(r, text))
        hits, total = await search_all(client, {"q": text, "limit": "17", "sort": "type"})
        assert [(h["type"], h["id"]) for h in hits] == expected, text
        assert total["value"] == len(expected)
        # By relevance (the default): the same hits, best first.
        ranked, _ = await search_all(client, {"q": text, "limit": "17"})
        assert sorted((h["type"], h["id"]) for h in ranked) == expected, text
        scores = [h["score"] for h in ranked]
        assert scores == sorted(scores, reverse=True), text
    only = {"q": "丽水", "type": "organisations,initiatives", "limit": "100", "sort": "type"}
    hits, _ = await search_all(client, only)
    expected = sorted(
        (r, i) for r in ("initiatives", "organisations") for i in data.search(r, "丽水")
    )
    assert [(h["type"], h["id"]) for h in hits] == expected


async def search_all(
    client: Client, params: dict[str, str]
) -> tuple[list[dict[str, str]], dict[str, int]]:
    hits: list[dict[str, str]] = []
    query = {"count": "exact", **params}
    total = None
    while True:
        response = await client.get("/v1/search", params=query)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        total = total or body["total"]
        hits.extend(body["data"])
        if not body["page"]["next_cursor"]:
            return hits, total
        query["cursor"] = body["page"]["next_cursor"]
