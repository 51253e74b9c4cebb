"""The figure rules of seed/FORMAT.md (section Rules, Figures), as pure functions over metric
records: cumulative-cutoff, cumulative-marker, list-period, rate-not-period, rate-per,
unit-counts, normalised-unit and note-agrees (quote-at-span is the metric's own write rule).

A metric record is either the write API's wire record (`span` `{start, end}`, `article`) or a
loader/database row (`span_start`/`span_end`, `article_id`); `Figure.of` reads both. A rule
needs the figure's sentence: the text between sentence-final punctuation or paragraph breaks
that are not the article's layout splits (its `repairs`). list-period needs the other figures
of the sentence, which the `Context` supplies (`article_figures`): the whole curated set for
the loader, the article's other live metrics for a write. Each problem names its rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.curation.rules import Context, Problems, squash
from service.vocabulary import normalised_unit

SENTENCE_END = "。；;！!？?"
RATE_MARKERS = ("每", "人均", "亩均", "月均", "年均", "日均")
BARE_PERIODS = ("月", "年", "日")
PLACE_UNITS = frozenset({"县", "市", "区", "乡", "镇", "村"})
_VALUE = r"(null|[0-9\u4e00-\u9fff%./]+)"
# `raw is X`, `unit is X`, `qualifier is X`, or `; unit X` / `: unit X` inside a note.
NOTE_FIELD = re.compile(
    rf"\b(raw|unit|qualifier) is {_VALUE}|(?:^|[;:] )(raw|unit|qualifier) {_VALUE}"
)
# The figure rules by name, and the record field each one is about.
RULE_FIELDS = {
    "cumulative-cutoff": "cumulative",
    "cumulative-marker": "cumulative",
    "list-period": "period",
    "rate-not-period": "period",
    "rate-per": "per",
    "unit-counts": "unit",
    "normalised-unit": "unit_normalised",
    "note-agrees": "notes",
}
RULES = tuple(RULE_FIELDS)


@dataclass(frozen=True)
class Problem:
    """One broken rule: the field it is about, the rule's name and what is wrong."""

    field: str
    rule: str
    message: str

    def reason(self) -> str:
        return f"[{self.rule}] {self.message}"


def problem(rule: str, message: str) -> Problem:
    return Problem(RULE_FIELDS[rule], rule, message)


@dataclass(frozen=True)
class Figure:
    """What the rules read of a metric record."""

    id: str | None
    article: str | None
    raw: str
    start: int
    end: int
    period: str | None
    cumulative: bool
    unit: str | None
    qualifier: str | None
    notes: tuple[str, ...]
    null_reasons: Mapping[str, str]
    quote: str = ""
    unit_normalised: str | None = None
    counted: str | None = None
    per: str | None = None
    per_basis: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Figure:
        """A wire record (`span` mapping, `article`) or a row (`span_start`, `article_id`)."""
        span = record.get("span")
        if isinstance(span, Mapping):
            start, end = span["start"], span["end"]
        else:
            start, end = record["span_start"], record["span_end"]
        return cls(
            id=record.get("id"),
            article=record["article"] if "article" in record else record.get("article_id"),
            raw=record["raw"],
            start=start,
            end=end,
            period=record.get("period"),
            cumulative=bool(record.get("cumulative")),
            unit=record.get("unit"),
            qualifier=record.get("qualifier"),
            notes=tuple(record.get("notes") or ()),
            null_reasons=record.get("null_reasons") or {},
            quote=record.get("quote") or "",
            unit_normalised=record.get("unit_normalised"),
            counted=record.get("counted"),
            per=record.get("per"),
            per_basis=tuple(record.get("per_basis") or ()),
        )

    def field(self, name: str) -> Any:
        return getattr(self, name)


# ---------------------------------------------------------------- sentences


def joined_spans(repairs: Iterable[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """The layout splits of an article's `repairs`, stored (`[s, e]`) or wire (`{start, end}`)."""
    out = []
    for repair in repairs:
        span = repair["span"]
        out.append((span["start"], span["end"]) if isinstance(span, Mapping) else tuple(span))
    return [(int(s), int(e)) for s, e in out]


def raw_position(text: str, raw: str, start: int, end: int) -> int:
    """Where the raw figure starts inside [start, end) (layout whitespace allowed inside it)."""
    pattern = r"\s*".join(re.escape(ch) for ch in squash(raw))
    hit = re.compile(pattern).search(text, start, end)
    return hit.start() if hit else start


def sentence_bounds(text: str, pos: int, joined: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The sentence around pos: between sentence-final punctuation or paragraph breaks that are
    not layout splits (the article's `repairs` spans)."""

    def is_end(i: int) -> bool:
        if text[i] in SENTENCE_END:
            return True
        return text[i] == "\n" and not any(s <= i < e for s, e in joined)

    start = pos
    while start > 0 and not is_end(start - 1):
        start -= 1
    end = pos
    while end < len(text) and not is_end(end):
        end += 1
    return start, end


def sentence_of(text: str, figure: Figure, joined: Sequence[tuple[int, int]]) -> tuple[int, int]:
    return sentence_bounds(text, raw_position(text, figure.raw, figure.start, figure.end), joined)


# ---------------------------------------------------------------- rules of one figure


def cumulative_problems(figure: Figure, sentence: str) -> list[Problem]:
    """cumulative-cutoff and cumulative-marker."""
    period, notes = figure.period or "", " ".join(figure.notes)
    sentence = squash(sentence)
    out = []
    if period.startswith("截至") and not figure.cumulative:
        out.append(
            problem("cumulative-cutoff", f"period {period!r} is a running total: cumulative true")
        )
    if figure.cumulative and not period.startswith("截至") and "累计" not in sentence + notes:
        out.append(problem("cumulative-marker", "cumulative true without 累计 or 截至 (or a note)"))
    if "累计" in sentence and not figure.cumulative and "累计" not in notes:
        out.append(
            problem("cumulative-marker", "累计 in the sentence: cumulative true, or a note why not")
        )
    return out


def period_problems(figure: Figure) -> list[Problem]:
    """rate-not-period."""
    period = figure.period or ""
    if period.startswith(RATE_MARKERS) or period in BARE_PERIODS:
        return [problem("rate-not-period", f"period {period!r} is a rate: `per`, not period")]
    if figure.per and period and squash(figure.per) in squash(period):
        return [problem("rate-not-period", f"period {period!r} holds the rate {figure.per!r}")]
    return []


def rate_problems(figure: Figure) -> list[Problem]:
    """rate-per: a rate's marker is written in its quote and says what it is per."""
    if figure.per is None:
        if figure.per_basis:
            return [problem("rate-per", "per_basis without `per` (the rate marker as written)")]
        return []
    if squash(figure.per) not in squash(figure.quote):
        return [problem("rate-per", f"per {figure.per!r} does not occur in the quote")]
    if not figure.per_basis:
        return [problem("rate-per", f"per {figure.per!r} needs per_basis (what it is per)")]
    return []


def unit_problems(figure: Figure) -> list[Problem]:
    """unit-counts and normalised-unit."""
    if figure.unit in PLACE_UNITS:
        return [
            problem("unit-counts", f"unit {figure.unit!r} is a place noun, not what is counted")
        ]
    if figure.counted is None:
        derived = normalised_unit(figure.unit)
        if figure.unit_normalised not in (None, derived):
            return [
                problem(
                    "normalised-unit",
                    f"unit_normalised {figure.unit_normalised!r} does not follow from unit "
                    f"{figure.unit!r} ({derived!r}; 名 and 人 -> 人, 个月 -> 月): omit it, or "
                    "name the counted noun in `counted`",
                )
            ]
        return []
    if squash(figure.counted) not in squash(figure.quote):
        return [problem("normalised-unit", f"counted {figure.counted!r} is not in the quote")]
    if not figure.notes:
        return [problem("normalised-unit", "a counted noun needs a note saying why")]
    return []


def note_problems(figure: Figure) -> list[Problem]:
    """note-agrees: a note saying `raw is X`, `unit is X`, `qualifier X` agrees with the field."""
    out = []
    for note in figure.notes:
        for hit in NOTE_FIELD.finditer(note):
            name, value = (hit[1], hit[2]) if hit[1] else (hit[3], hit[4])
            actual = figure.field(name)
            shown = "null" if actual is None else squash(str(actual))
            if value != shown:
                out.append(
                    problem(
                        "note-agrees", f"note says {name} {value!r} but the record has {shown!r}"
                    )
                )
    return out


def figure_problems(figure: Figure, sentence: str) -> list[Problem]:
    """Every rule of one figure that needs only the figure and its sentence."""
    return (
        cumulative_problems(figure, sentence)
        + period_problems(figure)
        + rate_problems(figure)
        + unit_problems(figure)
        + note_problems(figure)
    )


def list_period_problems(sentence: str, figure: Figure, others: Iterable[Figure]) -> list[Problem]:
    """list-period: a period written once in a sentence applies to each of its figures, or the
    figure's `period_null_reason` names it and says why not."""
    written = {
        f.period for f in (figure, *others) if f.period and squash(f.period) in squash(sentence)
    }
    if figure.period is not None and written and figure.period not in written:
        return [
            problem(
                "list-period",
                f"period {figure.period!r} is not the one its sentence states ({sorted(written)})",
            )
        ]
    if figure.period is None:
        reason = figure.null_reasons.get("period", "")
        missing = sorted(p for p in written if p not in reason)
        if missing:
            return [
                problem(
                    "list-period",
                    f"period null but the sentence states {missing}: set it or say why not",
                )
            ]
    return []


# ---------------------------------------------------------------- with a context


def metric_problems(record: Mapping[str, Any], ctx: Context, record_id: str) -> list[Problem]:
    """Every figure rule on one metric record. The sentence comes from the article's document
    and repairs; list-period compares it with the article's other figures the context knows
    (none known: the rule has nothing to compare)."""
    figure = Figure.of(record)
    if figure.article is None:
        return []
    article = ctx.article_span(figure.article)
    text = ctx.document_text(article[0]) if article is not None else None
    if text is None or not 0 <= figure.start < figure.end <= len(text):
        return []  # the quote rules report the unknown article or the bad span
    joined = joined_spans(ctx.article_repairs(figure.article))
    start, end = sentence_of(text, figure, joined)
    sentence = text[start:end]
    others = []
    for row in ctx.article_figures(figure.article):
        other = Figure.of(row)
        if other.id != record_id and sentence_of(text, other, joined) == (start, end):
            others.append(other)
    return figure_problems(figure, sentence) + list_period_problems(sentence, figure, others)


def figure_rules(record: Mapping[str, Any], ctx: Context, record_id: str) -> Problems:
    """The figure rules as (field, "[rule] message") pairs, for a resource's `write_rules`."""
    return [(p.field, p.reason()) for p in metric_problems(record, ctx, record_id)]


RULE_REASON = re.compile(r"^\[([a-z-]+)\] ")


def problem_line(where: str, name: str, reason: str) -> str:
    """A loader line: `<where>: [<rule>] <message>` for a named rule, else `<where>: <field>:
    <reason>`."""
    if RULE_REASON.match(reason):
        return f"{where}: {reason}"
    return f"{where}: {name}: {reason}"
