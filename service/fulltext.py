"""Chinese full-text search that gives the same results on SQLite and PostgreSQL.

Text is pre-tokenised by us, so neither database's parser decides anything. Text and queries
are first folded alike (service/chinese.py: full-width → half-width, lowercase, traditional →
simplified). Every run of Hanzi becomes overlapping character bigrams ("共富工坊" → "共富 富工
工坊") plus single characters in a second column; runs of ASCII letters/digits become lowercase
words; everything else separates. A third column holds the toneless pinyin syllables of the
title ("丽水市" → "li shui shi"), so a Latin query word that splits into syllables (lishui → li
shui) finds the record by its name. SQLite indexes the columns with FTS5 `unicode61`,
PostgreSQL with GIN `to_tsvector('simple', …)`; both see the same space-separated tokens. A
query is tokenised the same way and matched as phrases, so 2-character words (工坊, 丽水) are
found and user input never reaches FTS syntax: only tokens made of Hanzi and [a-z0-9] are ever
sent, and as bound parameters. Ranking: service/ranking.py.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from service.chinese import fold, fold_char, segmentations, syllables
from service.models import SearchEntry, table_of
from service.web.errors import invalid

MAX_QUERY_LENGTH = 100
# Every word is one more phrase to match: a cap keeps the cost of a query bounded (a 50-word
# `q` took 2 s on PostgreSQL when each phrase recomputed the tsvector of every row).
MAX_QUERY_WORDS = 10
# CJK unified ideographs incl. extension A and the supplementary planes, and compatibility forms.
_HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(rf"[{_HANZI}]+|[a-z0-9]+")
# A query must contain one of these (the OpenAPI `q` pattern, and the server's check): BMP
# Hanzi, ASCII or full-width letters and digits. Each yields at least one token.
SEARCHABLE = re.compile(
    r"[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)


def normalise(text: str) -> str:
    """NFKC (full-width ＡＢ１２ → ab12), lowercase, traditional → simplified (service/chinese)."""
    return fold(text)


def _runs(text: str) -> list[str]:
    return _RUN.findall(normalise(text))


def _bigrams(runs: list[str]) -> list[str]:
    tokens: list[str] = []
    for run in runs:
        if run[0].isascii():
            tokens.append(run)
        elif len(run) == 1:
            tokens.append(run)  # a lone character is its own "bigram" so it stays findable
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def _unigrams(runs: list[str]) -> list[str]:
    tokens: list[str] = []
    for run in runs:
        tokens.extend([run] if run[0].isascii() else list(run))
    return tokens


def bigram_tokens(text: str) -> list[str]:
    return _bigrams(_runs(text))


def unigram_tokens(text: str) -> list[str]:
    return _unigrams(_runs(text))


def _pinyin(runs: list[str]) -> list[tuple[str, ...]]:
    """The pinyin syllables of each Hanzi run (丽水市 → (li, shui, shi))."""
    return [syllables(run) for run in runs if not run[0].isascii()]


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One run of a query word: it matches when any of its alternatives does."""

    needle: str  # the folded run, counted in an entry's `folded` text for ranking
    alternatives: tuple[tuple[str, str], ...]  # (column, space-separated tokens) phrases


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A user query as terms; every term must match (AND)."""

    text: str
    terms: tuple[SearchTerm, ...]

    @property
    def canonical(self) -> list[Any]:
        """What the query selects, for cursor bindings and shared-count keys."""
        return [[t.needle, [list(a) for a in t.alternatives]] for t in self.terms]


def _term(run: str) -> SearchTerm:
    if run[0].isascii():
        # A Latin word or number; a word that reads as pinyin also matches a title's syllables.
        spelled = [("pinyin", " ".join(s)) for s in segmentations(run)]
        return SearchTerm(run, (("bigrams", run), *spelled))
    if len(run) == 1:
        return SearchTerm(run, (("unigrams", run),))
    return SearchTerm(run, (("bigrams", " ".join(bigram_tokens(run))),))


def parse_query(text: str) -> SearchQuery | None:
    """Tokenise a query; None when it contains nothing searchable."""
    terms = [_term(run) for word in text.split() for run in _runs(word)]
    return SearchQuery(text, tuple(terms)) if terms else None


def search_param(text: str) -> SearchQuery:
    """`q` as the API takes it: at most `MAX_QUERY_LENGTH` characters and `MAX_QUERY_WORDS`
    words, with something searchable; anything else is a 400 naming `q`."""
    if len(text) > MAX_QUERY_LENGTH:
        raise invalid("q", f"at most {MAX_QUERY_LENGTH} characters", "too_long")
    if len(text.split()) > MAX_QUERY_WORDS:
        raise invalid("q", f"at most {MAX_QUERY_WORDS} space-separated words", "too_many")
    query = parse_query(text) if SEARCHABLE.search(text) else None
    if query is None:
        raise invalid(
            "q", "nothing searchable: use Chinese characters, letters or digits", "invalid_value"
        )
    return query


def entry_id(resource: str, record_id: str) -> int:
    """Stable integer id (the FTS5 rowid), so re-seeding never renumbers entries."""
    digest = hashlib.blake2b(f"{resource}:{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2  # fits a signed 64-bit integer


def make_entry(
    resource: str, record_id: str, title: str, parts: list[str | None]
) -> dict[str, object]:
    text = "\n".join(p for p in [title, *parts] if p)
    return {
        "id": entry_id(resource, record_id),
        "resource": resource,
        "record_id": record_id,
        "title": title,
        "text": text,
        **entry_tokens(title, text),
    }


def entry_tokens(title: str, text: str) -> dict[str, object]:
    """The derived columns of an entry: what `match_clause` matches and `ranking` counts."""
    folded_title, folded_text = fold(title), fold(text)
    title_runs, text_runs = _RUN.findall(folded_title), _RUN.findall(folded_text)
    spelled = ["".join(run) for run in _pinyin(title_runs)]
    unigrams = _unigrams(text_runs)
    return {
        "bigrams": " ".join(_bigrams(text_runs)),
        "unigrams": " ".join(unigrams),
        "pinyin": " ".join(" ".join(run) for run in _pinyin(title_runs) if run),
        # The title counts twice in `folded` (it is in `text` too): a name outranks a mention.
        "folded": "\n".join([folded_title, " ".join(spelled), folded_text]),
        # Its length in tokens: the title's, its pinyin words', the text's.
        "size": len(_unigrams(title_runs)) + sum(1 for s in spelled if s) + len(unigrams),
    }


entries = table_of(SearchEntry)


def _fts_term(term: SearchTerm) -> str:
    # FTS5 syntax built only from our own tokens: column filter + quoted phrase, alternatives ORed.
    return "(" + " OR ".join(f'{column}:"{tokens}"' for column, tokens in term.alternatives) + ")"


def _tsquery(tokens: str) -> ColumnElement[Any]:
    return sa.func.phraseto_tsquery(sa.literal_column("'simple'::regconfig"), tokens)


def _stored(column: str) -> ColumnElement[Any]:
    return sa.literal_column(f"search_entry.{column}_tsv")


def match_clause(query: SearchQuery, dialect: str) -> ColumnElement[bool]:
    """Entries whose text contains every term of the query."""
    if dialect == "sqlite":
        expression = " AND ".join(_fts_term(term) for term in query.terms)
        matching = sa.text(
            "SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH :fts"
        ).bindparams(fts=expression)
        return entries.c.id.in_(matching.columns(sa.column("rowid", sa.BigInteger)))
    # Terms with one phrase: one tsquery per column (the phrases ANDed) against the stored,
    # GIN-indexed tsvector columns (migrations 0005, 0006), so the index serves any number of
    # words and no row's tsvector is computed at query time. A term with alternatives (a Latin
    # word that also reads as pinyin) is an OR of such matches, each served by its index.
    clauses: list[ColumnElement[bool]] = []
    for column in ("bigrams", "unigrams"):
        phrases = [
            _tsquery(t.alternatives[0][1])
            for t in query.terms
            if len(t.alternatives) == 1 and t.alternatives[0][0] == column
        ]
        if phrases:
            combined = functools.reduce(lambda a, b: a.op("&&")(b), phrases)
            clauses.append(_stored(column).op("@@")(combined))
    for term in query.terms:
        if len(term.alternatives) > 1:
            clauses.append(
                sa.or_(*(_stored(c).op("@@")(_tsquery(tokens)) for c, tokens in term.alternatives))
            )
    return sa.and_(*clauses)


def matching_ids(resource: str, query: SearchQuery, dialect: str) -> sa.Select[tuple[str]]:
    kind: ColumnElement[str] = entries.c.resource
    if dialect == "sqlite":
        # Unary `+` keeps SQLite from reading every entry of the resource through the
        # (resource, record_id) index to test each against the FTS hits (1M entries per query on
        # the bench): the hits' rowids are looked up by primary key instead.
        kind = sa.literal_column(f"+{entries.name}.resource", sa.String)
    return sa.select(entries.c.record_id).where(kind == resource, match_clause(query, dialect))


def highlight(text: str, query: SearchQuery, width: int = 60) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first match, with the match offsets inside the window
    (a match by pinyin alone has no offsets: the text holds Hanzi, not the Latin word)."""
    folded = "".join(fold_char(ch) for ch in text)
    hits = sorted(
        (m.start(), m.start() + len(t.needle))
        for t in query.terms
        for m in re.finditer(re.escape(t.needle), folded)
    )
    if not hits:
        return text[:width], []
    first = hits[0][0]
    start = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), start + width)
    spans = [(s - start, e - start) for s, e in hits if s >= start and e <= end]
    return text[start:end], spans
