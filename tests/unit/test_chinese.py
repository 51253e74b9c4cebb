"""Folding and pinyin (service/chinese.py) and the index rows built from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service import chinese
from service.chinese import fold, segmentations
from service.fulltext import make_entry, parse_query

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_written_out_syllables_are_the_dictionary_s() -> None:
    """Queries split pinyin with a written-out list so that reading never imports pypinyin; it
    must be every toneless syllable of pypinyin's character dictionary, minus `VOWELLESS`."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for readings in set(pinyin_dict.values()):
        for reading in readings.split(","):
            plain = to_normal(reading, v_to_u=False)
            if plain.isascii() and plain.isalpha():
                found.add(plain)
    assert chinese.syllable_set() == frozenset(found - chinese.VOWELLESS)


def test_the_read_path_does_not_import_pypinyin() -> None:
    code = (
        "import sys, service.app, service.fulltext as f; f.parse_query('lishui 丽水'); "
        "assert not [m for m in sys.modules if m.startswith('pypinyin')], 'pypinyin imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
