"""Script- and input-tolerant folding of Chinese text, and pinyin, for search.

- `fold`: NFKC (full-width ＡＢ１２ → AB12), lowercase, and traditional → simplified characters
  with OpenCC's maintained `TSCharacters` table (PyPI `opencc-purepy`). The conversion is one
  character to one character, without OpenCC's phrase tables: a phrase conversion depends on
  the surrounding text, so a query word could fold differently from the same word inside a
  document; character by character, `fold(a + b) == fold(a) + fold(b)` and offsets are kept.
- `syllables`: toneless pinyin of a Hanzi run (pypinyin, ü written `v`: 绿 → lv).
- `segmentations`: the ways an ASCII word splits into pinyin syllables (lishui → li shui;
  xian → xian or xi an), so a pinyin query can be matched as a phrase of syllables.
"""

from __future__ import annotations

import functools
import unicodedata

from opencc_purepy import OpenCC
from pypinyin import lazy_pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

# Every Hanzi range the tokeniser knows (service/fulltext.py `_HANZI`).
_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
# Interjection syllables without a vowel (嗯 n, 呣 m, 哼 hng): never part of a segmentation,
# so they cannot multiply the ways a word splits.
_VOWELLESS = frozenset({"m", "n", "ng", "hm", "hng"})
# A word of many short syllables could split in very many ways; the fewest-syllable ones first.
MAX_SEGMENTATIONS = 16
MAX_SYLLABLE = 6  # "zhuang", "shuang"


@functools.cache
def _t2s_table() -> dict[int, str]:
    """Traditional → simplified, one code point to one code point (built once, ~30 ms)."""
    converter = OpenCC("t2s")
    table: dict[int, str] = {}
    for first, last in _RANGES:
        chars = "".join(chr(i) for i in range(first, last + 1))
        converted = converter.ts(chars)  # TSCharacters only: no phrases
        if len(converted) != len(chars):  # not one to one: convert one by one
            pairs = [(ch, converter.ts(ch)) for ch in chars]
        else:
            pairs = list(zip(chars, converted, strict=True))
        table.update({ord(a): b for a, b in pairs if a != b and len(b) == 1})
    return table


def fold(text: str) -> str:
    """NFKC, lowercase, traditional → simplified (one character for one)."""
    return unicodedata.normalize("NFKC", text).lower().translate(_t2s_table())


def fold_char(char: str) -> str:
    """`fold` of one character, or the character itself when folding would change the length
    (… → ...), so offsets into the folded text are offsets into the original."""
    folded = fold(char)
    return folded if len(folded) == 1 else char


# pypinyin costs ~50 µs a character; names repeat (the bench's 1M metrics come from templates).
@functools.lru_cache(maxsize=65536)
def syllables(run: str) -> tuple[str, ...]:
    """Toneless pinyin of a run of (simplified) Hanzi, one syllable per character."""
    return tuple(s for s in lazy_pinyin(run, v_to_u=False) if s.isascii() and s.isalpha())


@functools.cache
def _syllable_set() -> frozenset[str]:
    """Every toneless syllable pypinyin's dictionary knows (about 420)."""
    found: set[str] = set()
    for readings in set(pinyin_dict.values()):
        for reading in readings.split(","):
            plain = to_normal(reading, v_to_u=False)
            if plain.isascii() and plain.isalpha():
                found.add(plain)
    return frozenset(found - _VOWELLESS)


def segmentations(word: str) -> list[tuple[str, ...]]:
    """The splits of a lowercase ASCII word into pinyin syllables, fewest syllables first
    (at most `MAX_SEGMENTATIONS`); empty when the word is not pinyin."""
    if not (word.isascii() and word.isalpha()):
        return []
    valid = _syllable_set()

    @functools.cache
    def splits(start: int) -> list[tuple[str, ...]]:
        if start == len(word):
            return [()]
        found: list[tuple[str, ...]] = []
        for end in range(start + 1, min(len(word), start + MAX_SYLLABLE) + 1):
            if word[start:end] in valid:
                found.extend((word[start:end], *rest) for rest in splits(end))
        # Bounded per suffix, so a long ambiguous word cannot explode.
        return sorted(found, key=len)[: MAX_SEGMENTATIONS * 4]

    return sorted(splits(0), key=lambda s: (len(s), s))[:MAX_SEGMENTATIONS]
