"""Relevance of a search entry to a query: BM25 over our own tokens, in integer arithmetic, so
SQLite and PostgreSQL compute the very same score and order (and a keyset cursor can carry it).

score = Σ over the query's terms of  idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · size / avg))
- tf: how often the term's folded text occurs in the entry's `folded` text (the title counts
  twice, and the title's pinyin is there too), counted in SQL as
  (length(folded) − length(replace(folded, term, ''))) / length(term);
- size: the entry's length in tokens (Hanzi and Latin words); avg: the average over all entries;
- idf = ln(1 + (N − df + 0.5) / (df + 0.5)), N entries of which df match the term (the same
  match as the search itself, on the full-text indexes), computed in Python and bound as an
  integer;
- k1 = 1.2, b = 0.75; every factor is an integer in thousandths or millionths and every
  division an integer division of non-negative numbers, which truncates alike on both
  databases (floating point would depend on each database's evaluation). `score` is in
  millionths; the API shows it divided by a million.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from service.fulltext import SearchQuery, SearchTerm, entries, match_clause

K1 = 1200  # k1 = 1.2, in thousandths
B = 750  # b = 0.75, in thousandths
SCALE = 1_000_000  # idf and scores in millionths

# Memoises a computation under a key (the search handler's shared, per-dataset-version cache).
Memo = Callable[[Hashable, Callable[[], Awaitable[Any]]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Corpus:
    entries: int
    average_size: int  # at least 1


async def corpus(conn: AsyncConnection) -> Corpus:
    """How many entries there are and their average size (rounded half up)."""
    stmt = sa.select(sa.func.count(), sa.func.sum(entries.c.size)).select_from(entries)
    row = (await conn.execute(stmt)).one()
    count, total = int(row[0]), int(row[1] or 0)
    average = (total + count // 2) // count if count else 1
    return Corpus(count, max(average, 1))


async def document_frequency(conn: AsyncConnection, term: SearchTerm) -> int:
    """How many entries the term alone matches (on the full-text indexes)."""
    clause = match_clause(SearchQuery(term.needle, (term,)), conn.dialect.name)
    stmt = sa.select(sa.func.count()).select_from(entries).where(clause)
    return int(await conn.scalar(stmt) or 0)


def idf(entries_count: int, frequency: int) -> int:
    """BM25's inverse document frequency (never negative), in millionths."""
    ratio = (entries_count - frequency + 0.5) / (frequency + 0.5)
    return round(math.log(1 + max(ratio, 0.0)) * SCALE)


@dataclass(frozen=True, slots=True)
class Weights:
    """What the score of a query needs besides each row: the corpus and each term's idf."""

    corpus: Corpus
    terms: tuple[tuple[str, int], ...]  # (needle, idf), one per distinct needle


async def weights(conn: AsyncConnection, query: SearchQuery, memo: Memo) -> Weights:
    """The corpus and the idf of each distinct term (memoised: they change with the data)."""
    stats: Corpus = await memo(("corpus",), lambda: corpus(conn))
    terms: dict[str, int] = {}
    for term in query.terms:
        if term.needle in terms:
            continue
        key = ("df", term.needle, term.alternatives)
        frequency: int = await memo(key, functools.partial(document_frequency, conn, term))
        terms[term.needle] = idf(stats.entries, frequency)
    return Weights(stats, tuple(terms.items()))


def _int(value: int) -> ColumnElement[int]:
    return sa.literal(value, sa.BigInteger)


def _occurrences(needle: str) -> ColumnElement[int]:
    """How often `needle` occurs in an entry's folded text (non-overlapping, as str.count)."""
    length = sa.cast(sa.func.length(entries.c.folded), sa.BigInteger)
    removed = sa.func.replace(entries.c.folded, needle, "")
    return (length - sa.cast(sa.func.length(removed), sa.BigInteger)) // _int(len(needle))


def ranked_candidates(
    weights: Weights, where: list[ColumnElement[bool]]
) -> tuple[CTE, ColumnElement[int]]:
    """The matching entries (id, resource, record_id, title) with their term counts, as a
    materialised CTE, and the BM25 score of its rows in millionths. Materialised so each
    count is computed once per row (the score uses it twice; inlined, sorting the ~20,000 hits
    of a common word took 2-3 times as long)."""
    counts = [_occurrences(needle).label(f"tf{i}") for i, (needle, _) in enumerate(weights.terms)]
    candidates = (
        sa.select(
            entries.c.id,
            entries.c.resource,
            entries.c.record_id,
            entries.c.title,
            sa.cast(entries.c.size, sa.BigInteger).label("size"),
            *counts,
        )
        .where(*where)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    average = weights.corpus.average_size
    # k1 · (1 − b + b · size / avg), in thousandths.
    norm = (_int(K1 * (1000 - B) * average) + _int(K1 * B) * candidates.c.size) // _int(
        1000 * average
    )
    parts: list[ColumnElement[int]] = []
    for i, (_, weight) in enumerate(weights.terms):
        tf = candidates.c[f"tf{i}"]
        parts.append((_int(weight) * tf * _int(K1 + 1000)) // (tf * _int(1000) + norm))
    return candidates, functools.reduce(lambda a, b: a + b, parts)
