"""Machine-readable codes beside the Chinese text of a metric: units, qualifiers, period kinds.

The Chinese (`unit`, `qualifier`, `period`) stays what the source and the quantity parser say;
these tables give each an English code and label so a client that reads no Chinese can tell
"at least" (以上) from "about" (约). Units and qualifiers are closed vocabularies (every form
the parser produces has a code: `tests/test_numbers.py` checks); a period is free text, so
its kind is read by ordered rules, `other` when none applies.

Values are in base units (万 and 亿 are applied by the parser), so a unit has no scale: 1.34亿元
is 134000000 元, unit `yuan`, currency CNY. `MAGNITUDE_TERMS` names the magnitude words the parser applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from service.quantity import FRACTION_UNIT, MAGNITUDES, PERCENT_UNIT

__all__ = [
    "MAGNITUDE_TERMS",
    "NORMALISED_UNITS",
    "PERIOD_KINDS",
    "PER_BASES",
    "QUALIFIERS",
    "UNITS",
    "MagnitudeTerm",
    "QualifierTerm",
    "UnitTerm",
    "normalised_unit",
    "period_kind",
    "qualifier_term",
    "unit_term",
]


@dataclass(frozen=True, slots=True)
class UnitTerm:
    code: str
    label_en: str
    # ISO 4217 code when the unit is a currency.
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class QualifierTerm:
    code: str
    label_en: str
    # Where the true figure lies relative to the stated one.
    bound: Literal["above", "at_or_above", "below", "at_or_below", "approximate"]


@dataclass(frozen=True, slots=True)
class MagnitudeTerm:
    written: str
    code: str
    factor: int


_PERSON = UnitTerm("person", "people")
_HOUR = UnitTerm("hour", "hours")
_MONTH = UnitTerm("month", "months")
_DAY = UnitTerm("day", "days")
_AGE = UnitTerm("year_of_age", "years of age")

#: Chinese unit (as `Metric.unit` holds it) → its term. Several forms may share a code.
UNITS: Final[Mapping[str, UnitTerm]] = {
    "元": UnitTerm("yuan", "yuan (renminbi)", "CNY"),
    "美元": UnitTerm("us_dollar", "US dollars", "USD"),
    "欧元": UnitTerm("euro", "euros", "EUR"),
    "港元": UnitTerm("hong_kong_dollar", "Hong Kong dollars", "HKD"),
    PERCENT_UNIT: UnitTerm("percent", "percent"),
    "个百分点": UnitTerm("percentage_point", "percentage points"),
    FRACTION_UNIT: UnitTerm("fraction", "fraction of a whole (0 to 1)"),
    "倍": UnitTerm("multiple", "times as much (multiple)"),
    "人": _PERSON,
    "名": _PERSON,
    "位": _PERSON,
    "人次": UnitTerm("person_time", "person-times (each visit or participation counted)"),
    "件次": UnitTerm("item_time", "item-times (each service or case counted per occasion)"),
    "户次": UnitTerm("household_time", "household-times (each household counted per occasion)"),
    "户": UnitTerm("household", "households"),
    "个": UnitTerm("item", "items (general measure word 个)"),
    "家": UnitTerm("establishment", "establishments (companies, shops, institutions)"),
    "所": UnitTerm("institution", "institutions (schools, hospitals …)"),
    "村": UnitTerm("village", "villages"),
    "县": UnitTerm("county", "counties"),
    "项": UnitTerm("listed_item", "items (projects, measures, awards)"),
    "件": UnitTerm("piece", "pieces (matters, cases, articles)"),
    "份": UnitTerm("copy", "copies or portions"),
    "条": UnitTerm("line", "lines or entries (routes, production lines, records, rules)"),
    "种": UnitTerm("kind", "kinds or varieties"),
    "类": UnitTerm("category", "categories"),
    "批": UnitTerm("batch", "batches"),
    "次": UnitTerm("occurrence", "times (occurrences)"),
    "届": UnitTerm("edition", "editions or sessions (of a recurring event)"),
    "期": UnitTerm("phase", "phases or issues"),
    "场": UnitTerm("event", "events or sessions"),
    "轮": UnitTerm("round", "rounds"),
    "款": UnitTerm("model", "models or product lines"),
    "套": UnitTerm("set", "sets"),
    "台": UnitTerm("machine", "machines or devices"),
    "辆": UnitTerm("vehicle", "vehicles"),
    "座": UnitTerm("structure", "structures (buildings, bridges …)"),
    "栋": UnitTerm("building", "buildings"),
    "张": UnitTerm("sheet", "sheets or flat items (cards, tickets …)"),
    "把": UnitTerm("handled_item", "items with a handle (chairs, keys, tools …)"),
    "篇": UnitTerm("text", "pieces of writing"),
    "株": UnitTerm("plant", "plants"),
    "棵": UnitTerm("tree", "trees"),
    "亩": UnitTerm("mu", "mu (Chinese land unit, 1/15 hectare)"),
    "公顷": UnitTerm("hectare", "hectares"),
    "平方米": UnitTerm("square_metre", "square metres"),
    "平方公里": UnitTerm("square_kilometre", "square kilometres"),
    "立方米": UnitTerm("cubic_metre", "cubic metres"),
    "米": UnitTerm("metre", "metres"),
    "公里": UnitTerm("kilometre", "kilometres"),
    "吨": UnitTerm("tonne", "tonnes"),
    "公斤": UnitTerm("kilogram", "kilograms"),
    "克": UnitTerm("gram", "grams"),
    "斤": UnitTerm("jin", "jin (Chinese weight unit, 500 g)"),
    "秒": UnitTerm("second", "seconds"),
    "分钟": UnitTerm("minute", "minutes"),
    "小时": _HOUR,
    "个小时": _HOUR,
    "天": _DAY,
    "日": _DAY,
    "周": UnitTerm("week", "weeks"),
    "月": _MONTH,
    "个月": _MONTH,
    "年": UnitTerm("year", "years"),
    "周年": UnitTerm("anniversary", "years since an event (anniversary)"),
    "岁": _AGE,
    "周岁": _AGE,
}

#: A written unit → the unit the text counts in, where they differ (seed/FORMAT.md,
#: normalised-unit): 名 and 人 count people, 个月 counts months. Any other unit is its own.
NORMALISED_UNITS: Final[Mapping[str, str]] = {"名": "人", "个月": "月"}

#: What a rate is per (a metric's `per_basis`): code → English label.
PER_BASES: Final[Mapping[str, str]] = {
    "person": "per person (人均)",
    "household": "per household (户均)",
    "mu": "per mu of land (每亩, 亩均)",
    "item": "per item (单价)",
    "day": "per day (每天, 每日)",
    "month": "per month (每月, 月均)",
    "year": "per year (每年, 年均)",
}
PerBasis = Literal["person", "household", "mu", "item", "day", "month", "year"]

_MORE = QualifierTerm("more_than", "more than (the figure is exceeded)", "above")
_NEARLY = QualifierTerm("nearly", "nearly (just under the figure)", "below")
_ABOUT = QualifierTerm("about", "about (approximately the figure)", "approximate")

#: Chinese approximation marker (as `Metric.qualifier` holds it) → its term.
QUALIFIERS: Final[Mapping[str, QualifierTerm]] = {
    "余": _MORE,
    "多": _MORE,
    "超": _MORE,
    "超过": _MORE,
    "逾": _MORE,
    "突破": QualifierTerm("exceeds", "exceeds (has broken through the figure)", "above"),
    "以上": QualifierTerm("at_least", "at least (the figure or more)", "at_or_above"),
    "近": _NEARLY,
    "将近": _NEARLY,
    "约": _ABOUT,
    "左右": _ABOUT,
    "不到": QualifierTerm("less_than", "less than (under the figure)", "below"),
    "以下": QualifierTerm("at_most", "at most (the figure or less)", "at_or_below"),
}

#: Period kind code → English label.
PERIOD_KINDS: Final[Mapping[str, str]] = {
    "current": "as of now (the time of publication)",
    "as_of_date": "cumulative up to a stated date",
    "year_to_date": "this year so far",
    "since_start": "since something began (a launch, an event)",
    "this_year": "this year",
    "last_year": "last year",
    "full_year": "a whole year",
    "half_year": "a half year",
    "quarter": "a quarter",
    "month": "a month",
    "recent_years": "the last few years",
    "span": "within a stated span of time",
    "other": "another period (see the Chinese text)",
}

# Fragments of a period as written → its kind, tried in order (the first match wins, so the
# more specific 今年以来 and 今年上半年 come before 今年); no match is `other`.
_PERIOD_RULES: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("截至目前", "截至今", "至今"), "current"),
    (("截至", "截止"), "as_of_date"),
    (("今年以来", "年初以来", "今年来"), "year_to_date"),
    (("以来",), "since_start"),
    (("半年",), "half_year"),
    (("季度",), "quarter"),
    (("月份", "本月", "当月"), "month"),
    (("去年", "上年", "上一年"), "last_year"),
    (("全年",), "full_year"),
    (("近年", "近两年", "近三年", "近五年", "近十年"), "recent_years"),
    (("今年", "本年", "当年"), "this_year"),
    (("目前", "如今", "现在", "当前"), "current"),
    (("时间", "期间", "内"), "span"),
)

_MAGNITUDE_CODES: Final[Mapping[str, str]] = {
    "千": "thousand",
    "万": "ten_thousand",
    "百万": "million",
    "千万": "ten_million",
    "亿": "hundred_million",
    "百亿": "ten_billion",
    "千亿": "hundred_billion",
    "万亿": "trillion",
}

#: The magnitude words the parser multiplies out (so `value` is already in base units).
MAGNITUDE_TERMS: Final[tuple[MagnitudeTerm, ...]] = tuple(
    MagnitudeTerm(written, code, int(MAGNITUDES[written]))
    for written, code in _MAGNITUDE_CODES.items()
)


def unit_term(unit: str | None) -> UnitTerm | None:
    """The term of a stored unit; None when no unit is written (or, for data that predates a
    vocabulary entry, an unknown one: a test keeps every parser unit covered)."""
    return None if unit is None else UNITS.get(unit)


def normalised_unit(unit: str | None) -> str | None:
    """The unit the text counts in, from the written unit (no counted noun involved)."""
    return None if unit is None else NORMALISED_UNITS.get(unit, unit)


def qualifier_term(qualifier: str | None) -> QualifierTerm | None:
    return None if qualifier is None else QUALIFIERS.get(qualifier)


def period_kind(period: str | None) -> str | None:
    """The kind code of a period as written; None when no period is stated."""
    if period is None:
        return None
    for markers, code in _PERIOD_RULES:
        if any(marker in period for marker in markers):
            return code
    return "other"
