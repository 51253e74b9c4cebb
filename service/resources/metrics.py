"""Metrics: every figure stated in the sources, normalised, with its verbatim quote and span."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.bodies import Notes, NullReasons, Slug, SpanIn, fits, patch_type
from service.curation.figures import figure_rules
from service.curation.rules import (
    Context,
    Problems,
    Reason,
    Wire,
    quantity_problems,
    span_problem,
    squash,
)
from service.listing.declare import list_spec
from service.listing.spec import (
    KEY_OPS,
    NUMBER_OPS,
    TEXT_OPS,
    FilterField,
    Row,
    SortKey,
    coded_field,
    region_field,
    vocabulary_field,
)
from service.listing.sql import fetch_item
from service.models import Metric, table_of
from service.resources.common import (
    NotesOut,
    NullReasonsOut,
    RecordId,
    RegionRef,
    Span,
    doc,
    span_of,
)
from service.resources.links import place_field
from service.resources.resource import Resource, SearchText, WriteSpec
from service.vocabulary import (
    QUALIFIERS,
    UNITS,
    PerBasis,
    UnitTerm,
    normalised_unit,
    period_kind,
    qualifier_term,
    unit_term,
)

METRIC_KINDS = (
    "count",
    "money",
    "percentage",
    "growth",
    "area",
    "duration",
    "age",
    "fraction",
    "other",
)

NO_CURRENCY = "An amount of money, but the source names no currency unit."


class MetricOut(msgspec.Struct):
    """A figure from the text. `value` is in base units (亿 = 1e8 and 万 = 1e4 applied)."""

    id: RecordId
    subject: Annotated[str, doc("What is counted, as phrased in the source (Chinese).")]
    subject_en: Annotated[str | None, doc("English gloss of the subject.")]
    kind: Annotated[str, doc("Kind of figure; see `enumerations.metric_kinds`.")]
    value: Annotated[
        Decimal,
        doc(
            "The figure in base units (亿 = 1e8 and 万 = 1e4 applied; a percentage as written), "
            "an exact JSON number printed from the stored decimal (`682`, `7380.44`): parse it "
            "as a decimal to keep every digit.",
            "the record's `unit`",
        ),
    ]
    unit: Annotated[str | None, doc("Base unit (元, 个, %, 亩 …); null for a bare number.")]
    unit_code: Annotated[
        str | None,
        doc(
            "`unit` as a code (`yuan`, `item`, `percent`, `mu` …; `vocabularies.units` in "
            "`/v1/meta`); null when `unit` is."
        ),
    ]
    unit_label_en: Annotated[
        str | None, doc("English name of the unit (`yuan (renminbi)` …); null when `unit` is.")
    ]
    unit_normalised: Annotated[
        str | None,
        doc(
            "The unit the text counts in: `unit` with 名 and 人 -> 人 and 个月 -> 月; where no "
            "classifier is written (or a place noun such as 县), the unit of the `counted` noun "
            "(`9县(市、区)`: 个). Null when neither gives one."
        ),
    ]
    counted: Annotated[
        str | None,
        doc(
            "The counted noun as written, when the unit is not a classifier the text writes "
            "(`县(市、区)`); the notes say why. Null when `unit` names what is counted."
        ),
    ]
    currency: Annotated[
        str | None,
        doc(
            "ISO 4217 currency of an amount of money (`CNY` for 元); null when the unit is not "
            "a currency."
        ),
    ]
    raw: Annotated[str, doc("The figure as written, e.g. `1.34亿元`.")]
    qualifier: Annotated[str | None, doc("Approximation marker (余, 以上, 近, 超, 约 …).")]
    qualifier_code: Annotated[
        str | None,
        doc(
            "`qualifier` as a code (`more_than`, `at_least`, `nearly`, `about`, `exceeds` …; "
            "`vocabularies.qualifiers` in `/v1/meta`); null when `qualifier` is (an exact figure)."
        ),
    ]
    cumulative: Annotated[bool, doc("Stated as cumulative (累计).")]
    period: Annotated[str | None, doc("Period as written (上半年, 今年以来 …).")]
    per: Annotated[
        str | None,
        doc(
            "For a rate, its marker as written in the quote (每亩, 人均年, 亩均, 每个月, 年均, "
            "单价 …); never part of `period`. Null when the figure is not a rate."
        ),
    ]
    per_basis: Annotated[
        list[PerBasis],
        doc(
            "What a rate is per (`person`, `household`, `mu`, `item`, `day`, `month`, `year`; "
            "`vocabularies.per_bases` in `/v1/meta`): `[person, year]` for 人均年. Empty when "
            "`per` is null."
        ),
    ]
    period_kind: Annotated[
        str | None,
        doc(
            "Kind of `period` (`current`, `year_to_date`, `half_year`, `as_of_date` …; "
            "`vocabularies.period_kinds` in `/v1/meta`); null when `period` is."
        ),
    ]
    region: RegionRef
    article: Annotated[str, doc("Article id the record comes from (`/v1/articles/{id}`).")]
    document: Annotated[str, doc("Source document id (`/v1/documents/{id}` has the full text).")]
    initiative: Annotated[
        str | None, doc("Initiative the figure is about (`/v1/initiatives/{id}`).")
    ]
    organisation: Annotated[
        str | None, doc("Organisation the figure is about (`/v1/organisations/{id}`).")
    ]
    growth_of: Annotated[str | None, doc("For a change rate: id of the metric it qualifies.")]
    quote: Annotated[str, doc("Verbatim text in the source document.")]
    span: Annotated[
        Span,
        doc(
            "Where `quote` (or the record) sits in the document text: {start, end}.",
            "Unicode code points, end exclusive",
        ),
    ]
    notes: NotesOut
    null_reasons: NullReasonsOut


t = table_of(Metric)
c = t.c


def _null_reasons(row: Row, unit: UnitTerm | None) -> dict[str, str]:
    """The curator's reasons, plus why a money figure has no currency (lack of data). A null
    code for a null text, or no currency for what is not money, needs no reason."""
    reasons: dict[str, str] = row["null_reasons"]
    if row["kind"] == "money" and (unit is None or unit.currency is None):
        return {**reasons, "currency": NO_CURRENCY}
    return reasons


def _unit(attribute: str) -> Callable[[Row], str | None]:
    def get(row: Row) -> str | None:
        unit = unit_term(row["unit"])
        return None if unit is None else getattr(unit, attribute)

    return get


def _qualifier_code(row: Row) -> str | None:
    qualifier = qualifier_term(row["qualifier"])
    return None if qualifier is None else qualifier.code


CONVERT: dict[str, Callable[[Row], Any]] = {
    # `value` is the stored decimal itself: service/web/wire.py prints it as an exact number.
    "unit_code": _unit("code"),
    "unit_label_en": _unit("label_en"),
    "currency": _unit("currency"),
    "qualifier_code": _qualifier_code,
    "period_kind": lambda row: period_kind(row["period"]),
    "span": span_of,
    "null_reasons": lambda row: _null_reasons(row, unit_term(row["unit"])),
}


METRICS = list_spec(
    "metrics",
    MetricOut,
    t,
    convert=CONVERT,
    filters=[
        FilterField("article", str, KEY_OPS, "Article id", column=c.article_id, facet=True),
        FilterField("document", str, KEY_OPS, "Document id", column=c.document_id, facet=True),
        region_field(c.region_id),
        place_field("metrics", c.id),
        FilterField(
            "initiative",
            str,
            KEY_OPS,
            "Initiative id",
            column=c.initiative_id,
            example="gong-fu-gong-fang",
            facet=True,
        ),
        FilterField(
            "organisation", str, KEY_OPS, "Organisation id", column=c.organisation_id, facet=True
        ),
        FilterField(
            "growth_of",
            str,
            KEY_OPS,
            "Id of the metric this change rate qualifies",
            column=c.growth_of_id,
        ),
        vocabulary_field("kind", c.kind, METRIC_KINDS, "Kind of figure", "money"),
        FilterField(
            "unit",
            str,
            KEY_OPS,
            "Base unit (元, 个, %, 亩 …)",
            column=c.unit,
            example="元",
            facet=True,
        ),
        FilterField(
            "unit_normalised",
            str,
            KEY_OPS,
            "The unit the text counts in (名 and 人 -> 人, 个月 -> 月 …)",
            column=c.unit_normalised,
            example="人",
            facet=True,
        ),
        coded_field(
            "unit_code",
            c.unit,
            {text: term.code for text, term in UNITS.items()},
            "Unit code (`yuan`, `item`, `percent` …; `vocabularies.units` in `/v1/meta`)",
            example="yuan",
        ),
        FilterField(
            "qualifier",
            str,
            KEY_OPS,
            "Approximation marker (余, 以上, 近, 超, 约 …)",
            column=c.qualifier,
            facet=True,
        ),
        coded_field(
            "qualifier_code",
            c.qualifier,
            {text: term.code for text, term in QUALIFIERS.items()},
            "Qualifier code (`more_than`, `at_least`, `about` …; `vocabularies.qualifiers` in "
            "`/v1/meta`)",
            example="more_than",
        ),
        FilterField(
            "cumulative",
            bool,
            ("eq",),
            "Stated as cumulative (累计)",
            column=c.cumulative,
            facet=True,
        ),
        FilterField(
            "period",
            str,
            TEXT_OPS,
            "Period as written (上半年, 今年以来 …)",
            column=c.period,
            facet=True,
        ),
        FilterField("subject", str, ("contains", "startswith"), "Subject text", column=c.subject),
        FilterField(
            "value", Decimal, NUMBER_OPS, "Value in base units", column=c.value, example=1000000
        ),
    ],
    sort_keys=[
        SortKey("value", c.value, Decimal, "Value in base units"),
        SortKey("document", c.document_id, str),
        SortKey("position", c.span_start, int, "Position in the source document"),
        SortKey("kind", c.kind, str),
        SortKey("subject", c.subject, str),
    ],
    searchable=True,
    default_sort="document,position",
)


async def load_detail(conn: AsyncConnection, metric_id: str) -> MetricOut | None:
    """The detail representation (also what writes return and the audit trail records)."""
    return await fetch_item(conn, METRICS, metric_id)


# ---------------------------------------------------------------- writes


class MetricIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new metric: `quote` must be the document text at `span` (inside the article's span),
    `raw` must occur in the quote, and `value`/`unit`/`qualifier` must be what the quantity
    parser reads from `raw`. Omit `id` to derive it from the subject."""

    article: Slug
    subject: Annotated[str, fits(Metric, "subject", 1)]
    kind: Annotated[str, fits(Metric, "kind")]
    raw: Annotated[str, fits(Metric, "raw", 1)]
    value: msgspec.Raw
    quote: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    span: SpanIn
    id: Slug | None = None
    subject_en: Annotated[str, fits(Metric, "subject_en")] | None = None
    unit: Annotated[str, fits(Metric, "unit")] | None = None
    qualifier: Annotated[str, fits(Metric, "qualifier")] | None = None
    cumulative: bool = False
    period: Annotated[str, fits(Metric, "period")] | None = None
    unit_normalised: Annotated[str, fits(Metric, "unit_normalised")] | None = None
    counted: Annotated[str, fits(Metric, "counted", 1)] | None = None
    per: Annotated[str, fits(Metric, "per", 1)] | None = None
    per_basis: Annotated[list[PerBasis], msgspec.Meta(max_length=3)] = []
    region: Slug | None = None
    initiative: Slug | None = None
    organisation: Slug | None = None
    growth_of: Slug | None = None
    notes: Notes = []
    null_reasons: NullReasons = {}


def _quote_problems(record: Wire, ctx: Context) -> Problems:
    """The quote is the text at the span, inside its (live) article."""
    span = [record["span"]["start"], record["span"]["end"]]
    article = ctx.article_span(record["article"])
    if article is None:
        missing = f"unknown article {record['article']!r}{ctx.missing_note}"
        return [("article", Reason("unknown_reference", missing))]
    document, start, end = article
    problem = span_problem(ctx.document_text(document) or "", record["quote"], span)
    if problem is not None:
        return [("span", Reason("mismatch", problem))]
    if not start <= span[0] < span[1] <= end:
        return [("span", f"outside article {record['article']}")]
    return []


def write_rules(record: Wire, ctx: Context, record_id: str) -> Problems:
    problems = _quote_problems(record, ctx)
    if record.get("growth_of") == record_id:
        problems.append(("growth_of", "a metric cannot qualify itself"))
    if squash(record["raw"]) not in squash(record["quote"]):
        problems.append(("raw", Reason("mismatch", "does not occur in the quote")))
    # `value` is exact decimal text (curation.bodies.wire_dict) or None when it was not a number.
    value = Decimal(record["value"]) if record["value"] is not None else None
    # adjusted() is the exponent of the leading digit: no arithmetic, so no Overflow trap.
    if value is None or not value.is_finite() or value.adjusted() >= 14:
        problems.append(
            (
                "value",
                Reason(
                    "out_of_range",
                    "expected a finite decimal below 1e14 (a JSON number or a string)",
                ),
            )
        )
    else:
        problems += quantity_problems(record["raw"], value, record["unit"], record["qualifier"])
    return problems + figure_rules(record, ctx, record_id)  # seed/FORMAT.md Rules, Figures


def _derived(record: Wire, ctx: Context) -> dict[str, Any]:
    """The article's document, and the normalised unit: the curator's only with a counted
    noun, else derived from `unit` (seed/FORMAT.md, normalised-unit)."""
    article = ctx.article_span(record["article"])
    unit_normalised = (
        record["unit_normalised"] if record["counted"] else normalised_unit(record["unit"])
    )
    return {
        "document_id": article[0] if article is not None else None,
        "unit_normalised": unit_normalised,
    }


def _patch_base(stored: Wire) -> Wire:
    """A patch that changes `unit` re-derives `unit_normalised` unless a counted noun fixes it."""
    return {**stored, "unit_normalised": None} if stored["counted"] is None else stored


WRITE = WriteSpec(
    in_type=MetricIn,
    patch_type=patch_type(MetricIn, "MetricPatch"),
    kinds=METRIC_KINDS,
    nullable=("subject_en", "unit", "unit_normalised", "period", "region"),
    required_text=("subject", "raw", "quote"),
    slug_field="subject",
    references={
        "region": "region",
        "initiative": "initiative",
        "organisation": "organisation",
        "growth_of": "metric",
    },
    referrers=(("metric", "growth_of_id"),),
    rules=write_rules,
    derived=_derived,
    patch_base=_patch_base,
)


RESOURCE = Resource(
    METRICS,
    MetricOut,
    load_detail,
    description="Every figure stated in the sources, normalised to base units.",
    detail_summary="Get a metric",
    example_id="qiang-cun-gong-si-li-run",
    list_description="Figures stated in the sources, filterable by value, unit, region, article, "
    "initiative and organisation.",
    search=SearchText("subject", ("subject_en", "raw", "quote")),
    write=WRITE,
)
