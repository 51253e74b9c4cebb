r"""Chinese quantity parser and number finder (stdlib only, ``Decimal`` based).

Two public entry points share one grammar:

* :func:`parse_quantity` reads one figure as a curator writes it in a metric's ``raw``
  (``"1.34亿元"``, ``"4.6万余名"``, ``"近600家"``, ``"99%以上"``, ``"2/3"``, ``"十万余株"``).
* :func:`find_numbers` finds every number mentioned in a source text, each mention spanning
  exactly the text a curator would write as ``raw``. The coverage report
  (``python -m service.seed report``) is defined by its rules.

Grammar
=======
A quantity is one of the following token sequences. Whitespace (layout line breaks such as
``"1.39亿\n\n元"``) may occur between tokens and is ignored; :func:`parse_quantity` also
ignores whitespace inside tokens. A quantity carries at most one approximation qualifier.

====  ==============================================  ================================
 A    PREFIX  NUMBER  [MAGNITUDE]  [UNIT]              ``近600家`` ``超739.6万``
 B    NUMBER  MID  [MAGNITUDE]  [UNIT]                 ``500余万元`` ``2000多元``
 C    NUMBER  MAGNITUDE  MID  [UNIT]                   ``4.6万余名`` ``2万余元``
 D    NUMBER  [MAGNITUDE]  [UNIT]  [POST]              ``1.34亿元`` ``99%以上`` ``三名``
 E    PREFIX  FRACTION                                 ``近2/3``
 F    FRACTION  [POST]                                 ``2/3``
 G    PREFIX  CN-FRACTION                              ``近三分之二``
 H    CN-FRACTION  [POST]                              ``三分之二`` ``百分之五十以上``
====  ==============================================  ================================

* NUMBER is an Arabic number ``[0-9]+(\.[0-9]+)?`` (full-width digits and ``．`` are
  accepted too) or a Chinese numeral: a run of ``〇零一二两三四五六七八九十百千万亿``
  not starting with ``万``/``亿``; :func:`parse_chinese_integer` says which runs are well
  formed (``十二`` 12, ``一百零五`` 105, ``十万`` 100000, ``二〇二二`` 2022; not ``三四``).
* FRACTION is ``a/b`` (``/`` or ``／``), ``a`` and ``b`` Arabic digit runs, ``b`` non-zero,
  not part of a longer ``a/b/c`` chain (``2022/11/30`` is three plain numbers). Its value
  is ``a/b`` rounded to 6 decimals (``ROUND_HALF_UP``: ``2/3`` -> 0.666667), unit
  ``"fraction"``. CN-FRACTION is ``b分之a`` with ``b``, ``a`` Arabic or Chinese numbers:
  ``三分之二`` is the fraction 0.666667; ``百分之a`` is the percentage ``a`` (unit ``"%"``).
* MAGNITUDE is one of :data:`MAGNITUDES` (longest first): 万亿 1e12, 千亿 1e11, 百亿 1e10,
  亿 1e8, 千万 1e7, 百万 1e6, 万 1e4, 千 1e3. Values are given in base units.
* UNIT is one of the fixed :data:`UNITS` (longest match first, e.g. 人次 before 人), or
  ``%`` / ``％`` (unit ``"%"``, value as written: ``288.51%`` -> 288.51). When no unit is
  written the unit is ``None`` (``超739.6万``).
* PREFIX is one of :data:`PREFIX_QUALIFIERS` (超过 将近 不到 突破 近 超 约 逾); MID is 余 or 多,
  written after the number (``500余万元``) or after its magnitude (``4.6万余名``); POST is
  以上 左右 以下, always last (``99%以上``). The qualifier is reported as written, else
  ``None``.

Values are exact ``Decimal`` s: integral values have exponent 0, other values carry no
trailing zeros, so ``Decimal`` equality works and ``str(value)`` is plain (``150800``,
``288.51``, ``0.666667``) for every value of at least 0.000001. :func:`format_decimal`
gives a plain string for any value (``str`` of ``Decimal("1E-7")`` keeps its exponent).

find_numbers rules
==================
The text is scanned left to right. At each position the longest *admissible* match of the
forms above that starts there is taken and the scan resumes after it; a position where no
form matches is skipped. Mentions are therefore sorted, never overlap, and each
``text[start:end]`` is one whole grammar match: it includes an adjacent magnitude, 余/多,
unit, 以上/左右/以下 and prefix qualifier, and may span layout whitespace
(``"1.39亿\n\n元"``). Admissibility:

1. **Arabic numbers are always reported.** Every Arabic digit of the text lies in exactly
   one mention, whatever surrounds it: decimals, percentages, fractions (``2/3``), years
   (``1992年``), months (``7月末`` -> ``7月``), ordinals (``第6`` -> ``6``) and digits inside
   names or labels (``10+N`` -> ``10``; ``20+10`` -> ``20`` and ``10``; ``4A级`` -> ``4``;
   ``3D`` -> ``3``; ``浙薯13`` -> ``13``; ``“141”体系`` -> ``141``). The finder does not
   judge what is a metric; curators record the rest as exclusions. ``1/0`` is not a
   fraction: it gives the mentions ``1`` and ``0``.
2. **Chinese numerals are reported only as quantities with a unit.** A Chinese numeral is
   considered only where a numeral run starts (the preceding character is not one of
   ``〇零一二两三四五六七八九十百千万亿``, so ``万一个`` yields nothing). It is reported
   only when a unit from :data:`UNITS` follows it, optionally after a magnitude and/or
   余/多 (``十万余株``, ``三名``, ``两个``, ``近三年``, ``五项``, ``十二届``, ``千年``,
   ``百年``); ``%`` does not count. Numerals in idioms and names with no unit after them are
   not reported (``四城一体``, ``三乡并进``, ``二十大``, ``十大县域``, ``一二三产``,
   ``第一时间``). The ``分之`` forms G and H are numeric by construction and always
   reported (``三分之二``, ``百分之五十``).
3. **Bare 一 is an article, not a quantity**: a Chinese numeral that is exactly ``一``,
   without a magnitude, is not reported (``一个月``, ``一条警报``, ``一家物流公司``,
   ``近一年``) unless it directly follows ``第`` (an ordinal: ``第一届`` -> ``一届``).
   ``第`` itself is never part of a mention (``第十二届`` -> ``十二届``).
4. **One qualifier per mention.** If the match starting at the number reaches further than
   the match starting at a prefix qualifier, the prefix is left out (``超过2000多元`` ->
   ``2000多元``, since ``超过`` and ``多`` cannot both be kept).
5. **Every mention parses** with :func:`parse_quantity` (to the value, unit and qualifier
   the grammar gives), with one exception: a Chinese numeral run that is followed by a
   unit but is not well formed (a range such as ``三四名`` "three or four"). It is still
   reported, with ``parseable=False``, so that the coverage report shows it.

Not supported (not found at all): ``万分之一`` (no numeral may start with 万), Chinese
decimals (``三点五``), ranges written with 至/到/-, thousands separators (``1,000`` gives
``1`` and ``000``).

Units deliberately absent from :data:`UNITS` because after a numeral they mostly start
another word: 乡 城 (``三乡并进``, ``四城一体``), 级 (``两级党组织``), 组 (``一心七组``),
分 (``十分``), 度 (``百度``), 里 (``七里乡``, ``千里``), 号 (``西湖一号``), and
部 本 首 处 只 头 成 间 层. 千克/千米 are absent too: ``5千克`` reads as 5000 克.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, localcontext
from typing import Final

__all__ = [
    "FRACTION_UNIT",
    "MAGNITUDES",
    "MID_QUALIFIERS",
    "PERCENT_UNIT",
    "POST_QUALIFIERS",
    "PREFIX_QUALIFIERS",
    "SUFFIX_QUALIFIERS",
    "UNITS",
    "NumberMention",
    "Quantity",
    "QuantityError",
    "find_numbers",
    "format_decimal",
    "parse_chinese_integer",
    "parse_quantity",
]

#: Base units recognised after a number, longest first (so 人次 wins over 人).
UNITS: Final[tuple[str, ...]] = (
    "个百分点",
    "平方公里",
    "平方米",
    "立方米",
    "个小时",
    "个月",
    "人次",
    "件次",
    "户次",
    "分钟",
    "小时",
    "周岁",
    "周年",
    "公里",
    "公斤",
    "公顷",
    "美元",
    "欧元",
    "港元",
    "元",
    "人",
    "名",
    "位",
    "个",
    "家",
    "户",
    "所",
    "村",
    "县",
    "亩",
    "株",
    "棵",
    "次",
    "项",
    "件",
    "份",
    "条",
    "种",
    "类",
    "批",
    "倍",
    "届",
    "期",
    "场",
    "轮",
    "款",
    "套",
    "台",
    "辆",
    "座",
    "栋",
    "张",
    "把",
    "篇",
    "岁",
    "秒",
    "天",
    "日",
    "周",
    "月",
    "年",
    "吨",
    "斤",
    "克",
    "米",
)

PERCENT_UNIT: Final = "%"
FRACTION_UNIT: Final = "fraction"

#: Magnitude words after a number and their multipliers, longest first.
MAGNITUDES: Final[Mapping[str, Decimal]] = {
    "万亿": Decimal(10) ** 12,
    "千亿": Decimal(10) ** 11,
    "百亿": Decimal(10) ** 10,
    "千万": Decimal(10) ** 7,
    "百万": Decimal(10) ** 6,
    "亿": Decimal(10) ** 8,
    "万": Decimal(10) ** 4,
    "千": Decimal(10) ** 3,
}

PREFIX_QUALIFIERS: Final[tuple[str, ...]] = ("超过", "将近", "不到", "突破", "近", "超", "约", "逾")
MID_QUALIFIERS: Final[tuple[str, ...]] = ("余", "多")
POST_QUALIFIERS: Final[tuple[str, ...]] = ("以上", "左右", "以下")
SUFFIX_QUALIFIERS: Final[tuple[str, ...]] = MID_QUALIFIERS + POST_QUALIFIERS

_FULLWIDTH: Final = str.maketrans("０１２３４５６７８９．／％", "0123456789./%")

_CN_DIGITS: Final[Mapping[str, int]] = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL: Final[Mapping[str, int]] = {"十": 10, "百": 100, "千": 1000}
_CN_BIG: Final[Mapping[str, int]] = {"万": 10**4, "亿": 10**8}
_CN_ZEROS: Final = "〇零"
_CN_CHARS: Final = "".join(_CN_DIGITS) + "".join(_CN_SMALL) + "".join(_CN_BIG)


class QuantityError(ValueError):
    """Raised when a string is not a quantity in the grammar of this module."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """A parsed figure."""

    value: Decimal
    """Value in base units (亿 = 1e8, 万 = 1e4, 千 = 1e3), normalised (see module doc)."""
    unit: str | None
    """A member of :data:`UNITS`, ``"%"``, ``"fraction"``, or ``None`` if none is written."""
    qualifier: str | None
    """The approximation marker as written (近 超 约 逾 超过 不到 将近 余 多 以上 左右 以下)."""
    raw: str
    """The input, unchanged."""


@dataclass(frozen=True, slots=True)
class NumberMention:
    """A number found in a text by :func:`find_numbers`."""

    start: int
    """``str`` index of the first character in the text."""
    end: int
    """``str`` index just after the last character (exclusive)."""
    text: str
    """``text[start:end]``, layout whitespace included."""
    parseable: bool = True
    """False only for an ill-formed Chinese numeral followed by a unit (e.g. ``三四名``)."""


# --------------------------------------------------------------------------- grammar


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_DIGIT_CLASS: Final = "0-9０-９"
_ARABIC: Final = rf"[{_DIGIT_CLASS}]+(?:[.．][{_DIGIT_CLASS}]+)?"
_CHINESE: Final = rf"[{_CN_CHARS.replace('万', '').replace('亿', '')}][{_CN_CHARS}]*"
_NUM: Final = rf"(?P<num>{_ARABIC}|{_CHINESE})"
_S: Final = r"\s*"
_FRAC: Final = (
    rf"(?<![{_DIGIT_CLASS}])(?<![{_DIGIT_CLASS}][/／])"
    rf"(?P<frac>[{_DIGIT_CLASS}]+[/／][{_DIGIT_CLASS}]+)"
    rf"(?![{_DIGIT_CLASS}]|[/／][{_DIGIT_CLASS}])"
)
_CN_FRAC: Final = (
    rf"(?P<den>[{_DIGIT_CLASS}]+|{_CHINESE}){_S}分之{_S}(?P<numr>{_ARABIC}|{_CHINESE})"
)
_PRE: Final = rf"(?P<pre>{_alternation(PREFIX_QUALIFIERS)})"
_MID: Final = rf"(?P<mid>{_alternation(MID_QUALIFIERS)})"
_MAG: Final = rf"(?P<mag>{_alternation(MAGNITUDES)})"
_UNIT: Final = rf"(?P<unit>{_alternation((*UNITS, '%', '％'))})"
_POST: Final = rf"(?P<post>{_alternation(POST_QUALIFIERS)})"

_PREFIX_FORMS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(rf"{_PRE}{_S}{_NUM}(?:{_S}{_MAG})?(?:{_S}{_UNIT})?"),  # A
    re.compile(rf"{_PRE}{_S}{_FRAC}"),  # E
    re.compile(rf"{_PRE}{_S}{_CN_FRAC}"),  # G
)
_NUMBER_FORMS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(rf"{_NUM}{_S}{_MID}(?:{_S}{_MAG})?(?:{_S}{_UNIT})?"),  # B
    re.compile(rf"{_NUM}{_S}{_MAG}{_S}{_MID}(?:{_S}{_UNIT})?"),  # C
    re.compile(rf"{_NUM}(?:{_S}{_MAG})?(?:{_S}{_UNIT})?(?:{_S}{_POST})?"),  # D
    re.compile(rf"{_FRAC}(?:{_S}{_POST})?"),  # F
    re.compile(rf"{_CN_FRAC}(?:{_S}{_POST})?"),  # H
)
_ALL_FORMS: Final = _PREFIX_FORMS + _NUMBER_FORMS
_WHITESPACE: Final = re.compile(r"\s+")
_GRAMMAR_HELP: Final = (
    "expected [近|超|约|逾|超过|不到|将近] number [余|多] [万|亿|千|...] [余|多] [unit] "
    "[以上|左右|以下], or a fraction like 2/3"
)


# --------------------------------------------------------------------------- decimals


def _context(value: Decimal, *, exact: bool = True) -> Context:
    # Enough precision for the value times any magnitude, so nothing is ever rounded;
    # Inexact is trapped anyway as a guard (not for a fraction's division, which is
    # rounded to 6 decimals right after).
    _, digits, exponent = value.as_tuple()
    size = len(digits) + (abs(exponent) if isinstance(exponent, int) else 0)
    return Context(prec=size + 40, traps=[Inexact] if exact else [])


def _normalise(value: Decimal) -> Decimal:
    with localcontext(_context(value)):
        if value == value.to_integral_value():
            return value.quantize(Decimal(1))
        return value.normalize()


def format_decimal(value: Decimal) -> str:
    """Plain decimal string, never an exponent, no trailing zeros after the point."""
    text = format(_normalise(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --------------------------------------------------------------------------- numerals


def parse_chinese_integer(text: str) -> int:
    """Read a Chinese numeral (〇零一二两三四五六七八九十百千万亿) as an integer.

    * Structured numerals: ``十二`` 12, ``二十`` 20, ``一百零五`` 105, ``十万`` 100000,
      ``三万五千亿`` 3.5e12, ``一亿五千万`` 150000000. A leading 十/百/千 may omit its
      一 (``十五``, ``百年``, ``千年``); a final digit right after a unit counts one
      place lower (``一百五`` 150, ``三万五`` 35000) unless 零 precedes it (``一万零五``).
    * Digit strings are read positionally when they have 3+ digits or contain 〇/零
      (``二〇二二`` 2022, ``一九九二`` 1992); a single digit is itself (``两`` 2).
    * Rejected (:class:`QuantityError`): empty text, other characters, two-digit ranges
      (``三四`` "three or four"), digits or units out of order (``二十三百``), a bare
      ``万``/``亿``, a dangling ``零``.
    """
    if not text:
        raise QuantityError("empty Chinese numeral")
    bad = sorted({ch for ch in text if ch not in _CN_CHARS})
    if bad:
        raise QuantityError(f"{text!r} is not a Chinese numeral (unexpected {''.join(bad)!r})")
    if all(ch in _CN_DIGITS for ch in text):
        return _positional(text)

    total = 0  # value fixed by a 亿
    acc = 0  # value fixed by a 万 since the last 亿
    section = 0  # value below 10000 since the last 万/亿
    digit: int | None = None
    zero = False
    last_small: int | None = None  # last 十/百/千 in the current section
    last_unit: int | None = None  # last unit of any size
    wan_used = yi_used = False

    def fail(reason: str) -> QuantityError:
        return QuantityError(f"ill-formed Chinese numeral {text!r}: {reason}")

    for index, ch in enumerate(text):
        if ch in _CN_ZEROS:
            if digit is not None or zero or last_unit is None:
                raise fail("misplaced 零")
            zero = True
        elif ch in _CN_DIGITS:
            if digit is not None:
                raise fail("two digits in a row")
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            unit = _CN_SMALL[ch]
            if digit is None:
                if index != 0 and not (zero and unit == 10):
                    raise fail(f"missing digit before {ch}")
                digit = 1
            if last_small is not None and unit >= last_small:
                raise fail(f"{ch} out of order")
            section += digit * unit
            digit, zero, last_small, last_unit = None, False, unit, unit
        else:
            unit = _CN_BIG[ch]
            if zero and digit is None:
                raise fail(f"零 before {ch}")
            if digit is not None:
                section += digit
                digit = None
            zero = False
            if unit == 10**4:
                if section == 0 or wan_used:
                    raise fail("misplaced 万")
                acc += section * unit
                wan_used = True
            else:
                if acc + section == 0 or yi_used:
                    raise fail("misplaced 亿")
                total = (acc + section) * unit
                acc = 0
                wan_used, yi_used = False, True
            section, last_small, last_unit = 0, None, unit
    if zero and digit is None:
        raise fail("dangling 零")
    if digit is not None:
        if zero or last_unit is None:
            section += digit
        else:
            section += digit * last_unit // 10
    return total + acc + section


def _positional(text: str) -> int:
    if len(text) == 1:
        return _CN_DIGITS[text]
    if "两" in text:
        raise QuantityError(f"ill-formed Chinese numeral {text!r}: 两 in a digit string")
    if len(text) == 2 and not any(ch in _CN_ZEROS for ch in text):
        raise QuantityError(
            f"{text!r} is a range of two numbers (like 三四 'three or four'), not a number"
        )
    return int("".join(str(_CN_DIGITS[ch]) for ch in text))


def _read_number(text: str) -> Decimal:
    if text[0] in _CN_CHARS:
        return Decimal(parse_chinese_integer(text))
    return Decimal(text.translate(_FULLWIDTH))


def _ratio(numerator: Decimal, denominator: Decimal, written: str) -> Decimal:
    if denominator == 0:
        raise QuantityError(f"fraction {written!r} has a zero denominator")
    with localcontext(_context(numerator + denominator, exact=False)):
        ratio = numerator / denominator
        return ratio.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _number_value(groups: dict[str, str | None]) -> tuple[Decimal, str | None]:
    """Value (before magnitude) and implied unit of a grammar match."""
    frac = groups.get("frac")
    if frac is not None:
        numerator, denominator = frac.translate(_FULLWIDTH).split("/")
        return _ratio(Decimal(numerator), Decimal(denominator), frac), FRACTION_UNIT
    den, numr = groups.get("den"), groups.get("numr")
    if den is not None and numr is not None:
        if den == "百":  # 百分之五十 = 50%
            return _read_number(numr), PERCENT_UNIT
        return _ratio(_read_number(numr), _read_number(den), f"{den}分之{numr}"), FRACTION_UNIT
    num = groups.get("num")
    if num is None:  # pragma: no cover - every form has a number group
        raise QuantityError("no number")
    return _read_number(num), None


def _build(match: re.Match[str], raw: str) -> Quantity:
    groups = match.groupdict()
    value, unit = _number_value(groups)
    magnitude = groups.get("mag")
    if magnitude is not None:
        with localcontext(_context(value)):
            value = value * MAGNITUDES[magnitude]
    written_unit = groups.get("unit")
    if written_unit is not None:
        unit = written_unit.translate(_FULLWIDTH)
    qualifiers = [q for q in (groups.get(k) for k in ("pre", "mid", "post")) if q is not None]
    return Quantity(
        value=_normalise(value),
        unit=unit,
        qualifier=qualifiers[0] if qualifiers else None,
        raw=raw,
    )


def parse_quantity(raw: str) -> Quantity:
    """Parse one figure as written, e.g. ``"1.34亿元"`` -> 134000000 元.

    Whitespace anywhere in ``raw`` is ignored. Raises :class:`QuantityError` when ``raw``
    is not exactly one quantity of the module grammar.
    """
    compact = _WHITESPACE.sub("", raw)
    if not compact:
        raise QuantityError(f"empty quantity {raw!r}")
    first_error: QuantityError | None = None
    for form in _ALL_FORMS:
        match = form.fullmatch(compact)
        if match is None:
            continue
        try:
            return _build(match, raw)
        except QuantityError as error:
            first_error = first_error or error
    if first_error is not None:
        raise QuantityError(f"cannot parse quantity {raw!r}: {first_error}") from first_error
    raise QuantityError(f"cannot parse quantity {raw!r}: {_GRAMMAR_HELP}")


# --------------------------------------------------------------------------- finder


def _admissible(text: str, match: re.Match[str]) -> bool:
    """Rules 2 and 3 of the module doc for Chinese numerals; Arabic ones always pass."""
    groups = match.groupdict()
    name = "num" if groups.get("num") is not None else "den" if "den" in groups else None
    if name is None:  # an Arabic fraction
        return True
    number = match.group(name)
    if number[0] not in _CN_CHARS:
        return True
    start = match.start(name)
    before = text[start - 1] if start > 0 else ""
    if before and before in _CN_CHARS:
        return False
    if name == "den":  # 三分之二, 百分之五十: numeric by construction
        return True
    unit = groups.get("unit")
    if unit is None or unit in ("%", "％"):
        return False
    return not (number == "一" and groups.get("mag") is None and before != "第")


def _best_match(
    text: str, pos: int, forms: tuple[re.Pattern[str], ...]
) -> tuple[re.Match[str], bool] | None:
    """Longest admissible match at ``pos`` and whether it parses (earlier form wins ties)."""
    best: tuple[re.Match[str], bool] | None = None
    for form in forms:
        match = form.match(text, pos)
        if match is None or not _admissible(text, match):
            continue
        try:
            parse_quantity(match.group())
            parseable = True
        except QuantityError:
            groups = match.groupdict()
            number = groups.get("num") or groups.get("den")
            if number is None or number[0] not in _CN_CHARS:
                continue  # e.g. 1/0: fall back to the plain number
            parseable = False
        if best is None or match.end() > best[0].end():
            best = (match, parseable)
    return best


def find_numbers(text: str) -> list[NumberMention]:
    """Every number mentioned in ``text``, in order, non-overlapping (see module doc)."""
    mentions: list[NumberMention] = []
    pos = 0
    length = len(text)
    while pos < length:
        found = _best_match(text, pos, _PREFIX_FORMS)
        if found is not None:
            number_start = found[0].end("pre")
            while text[number_start].isspace():
                number_start += 1
            plain = _best_match(text, number_start, _NUMBER_FORMS)
            if plain is not None and plain[0].end() > found[0].end():
                found = plain
        else:
            found = _best_match(text, pos, _NUMBER_FORMS)
        if found is None:
            pos += 1
            continue
        match, parseable = found
        mentions.append(NumberMention(match.start(), match.end(), match.group(), parseable))
        pos = match.end()
    return mentions
