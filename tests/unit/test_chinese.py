"""Folding and pinyin (service/chinese.py) and the index rows built from them."""

from __future__ import annotations

from service.chinese import fold, segmentations
from service.fulltext import make_entry, parse_query


def test_fold_is_one_character_for_one() -> None:
    assert fold("麗水 ＬＩＳＨＵＩ １２３ 共富工坊") == "丽水 lishui 123 共富工坊"
    text = "縣級機關後勤乾隆"
    assert len(fold(text)) == len(text)
    # Character by character, so a word folds as it does inside a longer text.
    assert fold("後") + fold("勤") == fold("後勤")


def test_segmentations_of_pinyin_words() -> None:
    assert segmentations("lishui") == [("li", "shui")]
    assert segmentations("gongfugongfang") == [("gong", "fu", "gong", "fang")]
    assert segmentations("xian") == [("xian",), ("xi", "an")]
    assert segmentations("bank") == []
    assert segmentations("2022") == []
    assert len(segmentations("a" * 60)) == 1


def test_entries_hold_folded_tokens_and_the_title_pinyin() -> None:
    entry = make_entry("organisations", "x", "麗水學院", ["Lishui University"])
    assert entry["bigrams"] == "丽水 水学 学院 lishui university"
    assert entry["pinyin"] == "li shui xue yuan"
    assert str(entry["folded"]).startswith("丽水学院\nlishuixueyuan\n")
    query = parse_query("麗水 LISHUI")
    assert query is not None
    assert [t.needle for t in query.terms] == ["丽水", "lishui"]
    assert query.terms[1].alternatives == (("bigrams", "lishui"), ("pinyin", "li shui"))
