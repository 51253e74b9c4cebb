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
from collections.abc import Callable

from opencc_purepy import OpenCC

# Every Hanzi range the tokeniser knows (service/fulltext.py `_HANZI`).
_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
# Interjection syllables without a vowel (嗯 n, 呣 m, 哼 hng): never part of a segmentation,
# so they cannot multiply the ways a word splits.
VOWELLESS = frozenset({"m", "n", "ng", "hm", "hng"})
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


# Every toneless syllable of pypinyin's character dictionary (420), minus `VOWELLESS`, written
# out so that reading a query never imports pypinyin (tests/unit/test_chinese.py checks the list
# against the dictionary). Importing pypinyin loads its phrase dictionary: measured, 57 MB of
# resident memory and 1 s of start-up, which only writes and seeding need.
_SYLLABLES = """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu
ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou
chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang
dao de dei den deng di dia dian diao die din ding diu dong dou du duan dui dun duo e ei en
eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou
gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai
huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai
kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao
le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang
nao ne nei nen neng ni nia nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve
o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang
qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan
rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi
shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan
tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan
yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha
zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui
zhun zhuo zi zong zou zu zuan zui zun zuo
"""


@functools.cache
def _pinyin_of() -> Callable[..., list[str]]:
    """pypinyin's `lazy_pinyin`, imported on first use (a write or seeding: see `_SYLLABLES`)."""
    from pypinyin import lazy_pinyin

    return lazy_pinyin


# pypinyin costs ~50 µs a character; names repeat (the bench's 1M metrics come from templates).
@functools.lru_cache(maxsize=65536)
def syllables(run: str) -> tuple[str, ...]:
    """Toneless pinyin of a run of (simplified) Hanzi, one syllable per character."""
    return tuple(s for s in _pinyin_of()(run, v_to_u=False) if s.isascii() and s.isalpha())


def pinyin_words(text: str) -> list[str]:
    """pypinyin's `lazy_pinyin` of any text (non-Hanzi runs kept as they are), for slugs."""
    return _pinyin_of()(text)


@functools.cache
def syllable_set() -> frozenset[str]:
    """Every toneless syllable a pinyin query word may split into (about 420)."""
    return frozenset(_SYLLABLES.split())


def segmentations(word: str) -> list[tuple[str, ...]]:
    """The splits of a lowercase ASCII word into pinyin syllables, fewest syllables first
    (at most `MAX_SEGMENTATIONS`); empty when the word is not pinyin."""
    if not (word.isascii() and word.isalpha()):
        return []
    valid = syllable_set()

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
