"""The data rules of curated records, shared by the write API (service/curation/ops.py) and the
seed loader (service/seed/): pure functions of a record and a `Context`.

A record is the builtins view of its In Struct (`Wire`: `span` is `{"start", "end"}`, `value`
exact decimal text). A rule returns `Problems`, (field, reason) pairs: the API answers them as
a 422 naming each field, the loader as one line each. Rules that need other data (document
text, article spans, which ids exist, who holds a name) ask the `Context`, implemented once for
the curated files in memory (`Facts.of_tables`) and once for the database
(service/curation/context.py, which fetches the facts a record needs into a `Facts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from service.chinese import pinyin_words
from service.quantity import QuantityError, parse_quantity

Wire = dict[str, Any]
Problems = list[tuple[str, str]]


class Reason(str):
    """A problem's reason text that also carries its machine code (the API's
    `invalid_params[].code`, service/web/problems.py); a plain `str` reason is `rule_violation`."""

    code: str

    def __new__(cls, code: str, text: str) -> Reason:
        reason = super().__new__(cls, text)
        reason.code = code
        return reason


def code_of(reason: str) -> str:
    return getattr(reason, "code", "rule_violation")


SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    words = pinyin_words(text)
    slug = "-".join("".join(ch for ch in w.lower() if ch.isascii() and ch.isalnum()) for w in words)
    return "-".join(part for part in slug.split("-") if part)


def squash(text: str) -> str:
    """Text without layout whitespace, for comparing figures across line breaks."""
    return "".join(text.split())


# ---------------------------------------------------------------- text

# Characters no text field may hold: NUL (PostgreSQL cannot store it in text, so both databases
# refuse it alike) and the other C0/C1 controls except tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_problems(record: Mapping[str, Any], required: Iterable[str] = ()) -> Problems:
    """(field, reason) for every string of a record that cannot be stored or shown: a control
    character anywhere (in nested lists and mappings, keys included), any string that is blank
    (whitespace only: use null or leave it out instead), and a `required` field that is empty.
    The same rule for the curated files and the write API."""
    problems: Problems = []

    def visit(value: Any, path: str) -> None:
        if isinstance(value, str):
            if _CONTROL.search(value):
                problems.append(
                    (
                        path,
                        Reason(
                            "control_character", "contains a control character (NUL or another)"
                        ),
                    )
                )
            elif value and not value.strip():
                problems.append((path, Reason("blank", "is blank (only whitespace)")))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                visit(key, path)
                visit(item, f"{path}.{key}")
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                visit(item, f"{path}[{i}]")

    for name, value in record.items():
        visit(value, name)
    for name in required:
        if record.get(name) == "":
            problems.append((name, Reason("required", "is required and may not be empty")))
    return problems


# ---------------------------------------------------------------- spans and quantities


def span_problem(text: str, quote: Any, span: Any) -> str | None:
    """Why `quote` is not exactly `text[start:end]`, or None when it is."""
    if not isinstance(quote, str) or not quote:
        return "quote must be a non-empty string"
    if not (
        isinstance(span, list | tuple)
        and len(span) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in span)
    ):
        return "span must be [start, end]"
    start, end = span
    if not 0 <= start < end <= len(text):
        return f"span {list(span)} outside the document (length {len(text)})"
    if text[start:end] != quote:
        found = text.find(quote)
        hint = f" (quote found at [{found}, {found + len(quote)}])" if found >= 0 else ""
        return f"text at {list(span)} is {text[start:end]!r}, not the quote{hint}"
    return None


def quantity_problems(
    raw: str, value: Decimal, unit: str | None, qualifier: str | None
) -> Problems:
    """(field, reason) for each of value/unit/qualifier that differs from `parse_quantity(raw)`."""
    try:
        parsed = parse_quantity(raw)
    except QuantityError as exc:
        return [("raw", f"raw {raw!r} does not parse: {exc}")]
    problems: Problems = []
    if parsed.value != value:
        problems.append(
            (
                "value",
                Reason("mismatch", f"value {value} but the parser reads {raw!r} as {parsed.value}"),
            )
        )
    if parsed.unit != unit:
        problems.append(
            ("unit", Reason("mismatch", f"unit {unit!r} but the parser reads {parsed.unit!r}"))
        )
    if parsed.qualifier != qualifier:
        problems.append(
            (
                "qualifier",
                Reason(
                    "mismatch", f"qualifier {qualifier!r} but the parser reads {parsed.qualifier!r}"
                ),
            )
        )
    return problems


# ---------------------------------------------------------------- context


class Context(Protocol):
    """What the rules may know beyond the record itself."""

    # Appended to "unknown <table> <id>": the database also hides soft-deleted records.
    missing_note: str

    def exists(self, table: str, record_id: str) -> bool: ...

    def name_owner(self, table: str, name: str, record_id: str) -> str | None:
        """Another record of `table` holding `name` (not `record_id`), if any."""
        ...

    def document_text(self, document_id: str) -> str | None: ...

    def article_span(self, article_id: str) -> tuple[str, int, int] | None:
        """(document id, start, end) of a live article."""
        ...

    def article_repairs(self, article_id: str) -> list[dict[str, Any]]:
        """The layout repairs of a live article (where a paragraph break is no sentence end)."""
        ...

    def article_figures(self, article_id: str) -> list[dict[str, Any]]:
        """The live metrics of an article that are known (rows), for rules across figures."""
        ...


@dataclass
class Facts:
    """A `Context` in memory: the whole curated set, or what one write needs from the database."""

    missing_note: str = ""
    ids: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    articles: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    repairs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    figures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def exists(self, table: str, record_id: str) -> bool:
        return record_id in self.ids.get(table, set())

    def name_owner(self, table: str, name: str, record_id: str) -> str | None:
        others = [i for i in self.names.get(table, {}).get(name, []) if i != record_id]
        return others[0] if others else None

    def document_text(self, document_id: str) -> str | None:
        return self.texts.get(document_id)

    def article_span(self, article_id: str) -> tuple[str, int, int] | None:
        return self.articles.get(article_id)

    def article_repairs(self, article_id: str) -> list[dict[str, Any]]:
        return self.repairs.get(article_id, [])

    def article_figures(self, article_id: str) -> list[dict[str, Any]]:
        return self.figures.get(article_id, [])

    @classmethod
    def of_tables(cls, tables: Mapping[str, list[dict[str, Any]]], texts: dict[str, str]) -> Facts:
        """The context of the curated files: rows by table name (columns, as the loader makes)."""
        facts = cls(texts=dict(texts))
        for table, rows in tables.items():
            facts.ids[table] = {r["id"] for r in rows if "id" in r}
            for row in rows:
                if isinstance(row.get("name"), str):
                    facts.names.setdefault(table, {}).setdefault(row["name"], []).append(row["id"])
        for row in tables.get("article", []):
            facts.articles[row["id"]] = (row["document_id"], row["span_start"], row["span_end"])
            facts.repairs[row["id"]] = list(row.get("repairs") or [])
        for row in tables.get("metric", []):
            facts.figures.setdefault(row["article_id"], []).append(row)
        return facts


# ---------------------------------------------------------------- rules every resource has


def common_problems(
    wire: Wire,
    ctx: Context,
    *,
    kinds: tuple[str, ...],
    nullable: tuple[str, ...],
    references: Mapping[str, str],
) -> Problems:
    """The kind vocabulary, reasons only for nullable fields that are null, and references to
    existing (live) records."""
    problems: Problems = []
    if wire.get("kind") not in kinds:
        problems.append(("kind", Reason("not_allowed", "expected one of: " + ", ".join(kinds))))
    for name in wire.get("null_reasons") or {}:
        if name not in nullable:
            problems.append(("null_reasons", f"{name!r} is not a nullable field"))
        elif wire.get(name) is not None:
            problems.append(("null_reasons", f"reason for {name!r} given but it is set"))
    for name, table in references.items():
        value = wire.get(name)
        if value is not None and not ctx.exists(table, value):
            problems.append(
                (name, Reason("unknown_reference", f"unknown {table} {value!r}{ctx.missing_note}"))
            )
    return problems


def unique_name_problems(table: str, wire: Wire, ctx: Context, record_id: str) -> Problems:
    """Names are unique within the table, and a record is not its own parent."""
    problems: Problems = []
    clash = ctx.name_owner(table, wire["name"], record_id)
    if clash is not None:
        problems.append(("name", Reason("duplicate", f"the name is already used by {clash!r}")))
    if wire.get("parent") == record_id:
        problems.append(("parent", "a record cannot be its own parent"))
    return problems
