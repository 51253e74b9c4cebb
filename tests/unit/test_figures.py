"""The figure rules of seed/FORMAT.md (service/curation/figures.py), without HTTP or a database:
for each rule a record that keeps it and one that breaks it."""

from __future__ import annotations

from typing import Any

import pytest

from service.curation.figures import (
    RULES,
    Figure,
    figure_problems,
    figure_rules,
    joined_spans,
    list_period_problems,
    metric_problems,
    problem_line,
    raw_position,
    sentence_bounds,
)
from service.curation.rules import Facts

TEXT = "上半年,强村公司累计实现利润1.34亿元,同比增长28%。\n目前,全市9县和173个乡镇\n组建联盟。"


def figure(**changes: Any) -> Figure:
    record: dict[str, Any] = {
        "id": "m",
        "article": "art",
        "raw": "1.34亿元",
        "span": {"start": 0, "end": 22},
        "period": "上半年",
        "cumulative": True,
        "unit": "元",
        "qualifier": None,
        "notes": [],
        "null_reasons": {},
        "quote": "上半年,强村公司累计实现利润1.34亿元",
    }
    return Figure.of(record | changes)


def rules_of(f: Figure, sentence: str) -> list[str]:
    return [p.rule for p in figure_problems(f, sentence)]


SENTENCE = "上半年,强村公司累计实现利润1.34亿元,同比增长28%"


@pytest.mark.parametrize(
    ("rule", "good", "bad", "sentence"),
    [
        (
            "cumulative-cutoff",
            {"period": "截至11月底", "cumulative": True},
            {"period": "截至11月底", "cumulative": False},
            "截至11月底,总收入达到7380.44万元",
        ),
        (
            "cumulative-marker",
            {"cumulative": True},
            {"cumulative": True},
            "上半年,强村公司实现利润1.34亿元",
        ),
        ("cumulative-marker", {"cumulative": True}, {"cumulative": False}, SENTENCE),
        ("rate-not-period", {"period": "上半年"}, {"period": "每年"}, SENTENCE),
        ("rate-not-period", {"period": "今年"}, {"period": "月"}, SENTENCE),
        ("unit-counts", {"unit": "个"}, {"unit": "县"}, SENTENCE),
        (
            "rate-per",
            {"per": None, "per_basis": []},
            {"per": "每亩", "per_basis": ["mu"]},
            SENTENCE,
        ),
        ("rate-per", {"per": "上半年", "per_basis": ["year"]}, {"per": "上半年"}, SENTENCE),
        ("rate-per", {"per_basis": []}, {"per_basis": ["year"]}, SENTENCE),
        ("rate-not-period", {"per": "利润", "per_basis": ["item"]}, {"per": "上半年"}, SENTENCE),
        ("normalised-unit", {"unit_normalised": "元"}, {"unit_normalised": "个"}, SENTENCE),
        (
            "normalised-unit",
            {"unit": "名", "unit_normalised": "人"},
            {"unit": "名", "unit_normalised": "名"},
            SENTENCE,
        ),
        (
            "normalised-unit",
            {"counted": "强村公司", "unit_normalised": "家", "notes": ["counts companies"]},
            {"counted": "强村公司", "unit_normalised": "家"},
            SENTENCE,
        ),
        (
            "normalised-unit",
            {"counted": "强村公司", "notes": ["counts companies"]},
            {"counted": "合作社", "notes": ["counts companies"]},
            SENTENCE,
        ),
        ("note-agrees", {"notes": ["raw is 1.34亿元"]}, {"notes": ["raw is 2亿元"]}, SENTENCE),
        ("note-agrees", {"notes": ["; unit 元"]}, {"notes": ["; unit 个"]}, SENTENCE),
    ],
)
def test_each_figure_rule_keeps_and_breaks(
    rule: str, good: dict[str, Any], bad: dict[str, Any], sentence: str
) -> None:
    good_sentence = SENTENCE if rule == "cumulative-marker" else sentence
    assert rule not in rules_of(figure(**good), good_sentence)
    assert rule in rules_of(figure(**bad), sentence)


def test_a_note_can_explain_a_cumulative_marker() -> None:
    noted = figure(cumulative=False, notes=["累计 qualifies the profit, not this rate."])
    assert rules_of(noted, SENTENCE) == []
    governed = figure(notes=["累计 of the previous clause governs it."])
    assert rules_of(governed, "销售农产品1.39亿元") == []


def test_list_period_keeps_and_breaks() -> None:
    sentence = "目前,全市9县和173个乡镇组建联盟"
    first = figure(id="a", raw="9", period="目前", cumulative=False)
    assert list_period_problems(sentence, figure(id="b", raw="173个", period="目前"), [first]) == []
    wrong = list_period_problems(sentence, figure(id="b", raw="173个", period="今年"), [first])
    assert [p.rule for p in wrong] == ["list-period"]
    assert "目前" in wrong[0].message
    null = figure(id="b", raw="173个", period=None)
    assert [p.rule for p in list_period_problems(sentence, null, [first])] == ["list-period"]
    reasoned = figure(
        id="b", raw="173个", period=None, null_reasons={"period": "目前 dates the 9 only"}
    )
    assert list_period_problems(sentence, reasoned, [first]) == []


def test_sentences_end_at_punctuation_and_real_paragraph_breaks() -> None:
    pos = raw_position(TEXT, "173个", 0, len(TEXT))
    assert TEXT[pos : pos + 4] == "173个"
    start, end = sentence_bounds(TEXT, pos, [])
    assert TEXT[start:end] == "目前,全市9县和173个乡镇"
    # A layout split (a repair) is no sentence end.
    split = TEXT.index("\n组建")
    start, end = sentence_bounds(TEXT, pos, joined_spans([{"span": [split, split + 1]}]))
    assert TEXT[start:end] == "目前,全市9县和173个乡镇\n组建联盟"
    assert joined_spans([{"span": {"start": 1, "end": 2}}]) == [(1, 2)]
    # Layout whitespace inside a raw figure.
    assert raw_position("利润1.34亿\n元", "1.34亿元", 0, 10) == 2


def context(period: str | None) -> Facts:
    """An article whose second sentence lists two figures; the first is curated `目前`."""
    sibling = {
        "id": "jiu",
        "article_id": "art",
        "raw": "9",
        "span_start": TEXT.index("目前"),
        "span_end": TEXT.index("173"),
        "period": period,
        "cumulative": False,
        "unit": None,
        "qualifier": None,
        "notes": [],
        "null_reasons": {},
    }
    return Facts(
        texts={"doc": TEXT},
        articles={"art": ("doc", 0, len(TEXT))},
        repairs={"art": [{"span": [TEXT.index("\n组建"), TEXT.index("\n组建") + 1]}]},
        figures={"art": [sibling]},
    )


def test_metric_problems_find_the_sentence_and_its_other_figures() -> None:
    start = TEXT.index("173个")
    record = {
        "id": "x",
        "article": "art",
        "raw": "173个",
        "span": {"start": start, "end": start + 4},
        "period": "今年",
        "cumulative": False,
        "unit": "个",
        "qualifier": None,
        "notes": [],
        "null_reasons": {},
    }
    assert [p.rule for p in metric_problems(record, context("目前"), "x")] == ["list-period"]
    assert metric_problems(record | {"period": "目前"}, context("目前"), "x") == []
    # As a write rule: (field, "[rule] message").
    field, reason = figure_rules(record, context("目前"), "x")[0]
    assert field == "period"
    assert reason.startswith("[list-period] ")
    # An unknown article: the quote rule reports it, not the figure rules.
    assert metric_problems(record | {"article": "nope"}, context("目前"), "x") == []


def test_the_rule_names_and_the_loader_line() -> None:
    assert set(RULES) >= {"cumulative-cutoff", "list-period", "note-agrees"}
    assert problem_line("f.yaml:metric m", "cumulative", "[cumulative-cutoff] x") == (
        "f.yaml:metric m: [cumulative-cutoff] x"
    )
    assert problem_line("f.yaml:metric m", "span", "outside") == "f.yaml:metric m: span: outside"
