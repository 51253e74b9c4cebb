"""Chinese full-text search that gives the same results on SQLite and PostgreSQL.

Text is pre-tokenised by us, so neither database's parser decides anything: every run of Hanzi
becomes overlapping character bigrams ("共富工坊" → "共富 富工 工坊") plus single characters in a
second column; runs of ASCII letters/digits become lowercase words; everything else separates.
SQLite indexes the columns with FTS5 `unicode61`, PostgreSQL with GIN `to_tsvector('simple', …)`;
both see the same space-separated tokens. A query is tokenised the same way and matched as a
phrase of bigrams, so 2-character words (工坊, 丽水) are found and user input never reaches FTS
syntax: only tokens made of Hanzi and [a-z0-9] are ever sent, and as bound parameters.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

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
    # NFKC folds full-width letters and digits (ＡＢ１２ → ab12) before lowercasing.
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> list[str]:
    return _RUN.findall(normalise(text))


def bigram_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for run in _runs(text):
        if run[0].isascii():
            tokens.append(run)
        elif len(run) == 1:
            tokens.append(run)  # a lone character is its own "bigram" so it stays findable
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def unigram_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for run in _runs(text):
        tokens.extend([run] if run[0].isascii() else list(run))
    return tokens


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A user query as phrases of tokens; each phrase must match (AND)."""

    text: str
    phrases: tuple[tuple[str, str], ...]  # (column, space-separated tokens)


def parse_query(text: str) -> SearchQuery | None:
    """Tokenise a query; None when it contains nothing searchable."""
    phrases: list[tuple[str, str]] = []
    for word in text.split():
        for run in _runs(word):
            if not run[0].isascii() and len(run) == 1:
                phrases.append(("unigrams", run))
            else:
                phrases.append(("bigrams", " ".join(bigram_tokens(run))))
    return SearchQuery(text, tuple(phrases)) if phrases else None


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
        "bigrams": " ".join(bigram_tokens(text)),
        "unigrams": " ".join(unigram_tokens(text)),
    }


entries = table_of(SearchEntry)


def match_clause(query: SearchQuery, dialect: str) -> ColumnElement[bool]:
    """Entries whose text contains every phrase of the query."""
    if dialect == "sqlite":
        # FTS5 syntax built only from our own tokens: column filter + quoted phrase.
        expression = " AND ".join(f'{column}:"{tokens}"' for column, tokens in query.phrases)
        matching = sa.text(
            "SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH :fts"
        ).bindparams(fts=expression)
        return entries.c.id.in_(matching.columns(sa.column("rowid", sa.BigInteger)))
    # One tsquery per column (the phrases ANDed) against the stored, GIN-indexed tsvector
    # columns (migration 0005): the index serves any number of words, and no row's tsvector is
    # computed at query time.
    clauses = []
    for column in ("bigrams", "unigrams"):
        phrases: list[ColumnElement[Any]] = [
            sa.func.phraseto_tsquery(sa.literal_column("'simple'::regconfig"), tokens)
            for name, tokens in query.phrases
            if name == column
        ]
        if phrases:
            combined = functools.reduce(lambda a, b: a.op("&&")(b), phrases)
            stored: ColumnElement[Any] = sa.literal_column(f"search_entry.{column}_tsv")
            clauses.append(stored.op("@@")(combined))
    return sa.and_(*clauses)


def matching_ids(resource: str, query: SearchQuery, dialect: str) -> sa.Select[tuple[str]]:
    return sa.select(entries.c.record_id).where(
        entries.c.resource == resource, match_clause(query, dialect)
    )


def highlight(text: str, query: SearchQuery, width: int = 60) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first match, with the match offsets inside the window."""
    folded = _fold_same_length(text)
    needles = [
        tokens.replace(" ", "") if column == "unigrams" or tokens.isascii() else _unbigram(tokens)
        for column, tokens in query.phrases
    ]
    hits = sorted(
        (m.start(), m.start() + len(n))
        for n in needles
        if n
        for m in re.finditer(re.escape(n), folded)
    )
    if not hits:
        return text[:width], []
    first = hits[0][0]
    start = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), start + width)
    spans = [(s - start, e - start) for s, e in hits if s >= start and e <= end]
    return text[start:end], spans


def _fold_same_length(text: str) -> str:
    """`normalise` one character at a time, keeping any character whose folded form is longer
    (… → ...), so offsets into the result are offsets into `text`."""
    return "".join(f if len(f := normalise(ch)) == 1 else ch for ch in text)


def _unbigram(tokens: str) -> str:
    parts = tokens.split(" ")
    return parts[0] + "".join(p[1:] for p in parts[1:])
