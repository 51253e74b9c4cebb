"""Metrics: every figure stated in the sources, normalised, with its verbatim quote and span."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.bodies import Notes, NullReasons, Slug, SpanIn, fits, patch_type
from service.curation.rules import (
    Context,
    Problems,
    Reason,
    Wire,
    quantity_problems,
    span_problem,
    squash,
)
from service.listing.controller import page_struct
from service.listing.spec import (
    KEY_OPS,
    NUMBER_OPS,
    TEXT_OPS,
    FilterField,
    ListSpec,
    Relation,
    Row,
    SortKey,
    region_field,
)
from service.listing.sql import fetch_item
from service.models import Metric, table_of
from service.resources.common import Span, doc
from service.resources.resource import Resource, SearchText, WriteSpec

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


class MetricOut(msgspec.Struct):
    """A figure from the text. `value` is in base units (亿 = 1e8 and 万 = 1e4 applied)."""

    id: Annotated[str, doc("Stable readable slug (pinyin); never reused.")]
    subject: Annotated[str, doc("What is counted, as phrased in the source (Chinese).")]
    subject_en: Annotated[str | None, doc("English gloss of the subject.")]
    kind: Annotated[str, doc("Kind of figure; see `enumerations.metric_kinds`.")]
    value: Annotated[
        float,
        doc(
            "The figure in base units (亿 = 1e8 and 万 = 1e4 applied; a percentage as written).",
            "the record's `unit`",
        ),
    ]
    unit: Annotated[str | None, doc("Base unit (元, 个, %, 亩 …); null for a bare number.")]
    raw: Annotated[str, doc("The figure as written, e.g. `1.34亿元`.")]
    qualifier: Annotated[str | None, doc("Approximation marker (余, 以上, 近, 超, 约 …).")]
    cumulative: Annotated[bool, doc("Stated as cumulative (累计).")]
    period: Annotated[str | None, doc("Period as written (上半年, 今年以来 …).")]
    region: Annotated[str | None, doc("Region id (`/v1/regions/{id}`).")]
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
    notes: Annotated[list[str], doc("Curator notes: ambiguities, source defects, judgement calls.")]
    null_reasons: Annotated[
        dict[str, str], doc("Why each null field is null: field name → reason.")
    ]


MetricPage = page_struct("MetricPage", MetricOut, "A page of metrics.")


t = table_of(Metric)
c = t.c


def to_item(row: Row, _extras: Mapping[str, Any]) -> MetricOut:
    value: Decimal = row["value"]
    return MetricOut(
        id=row["id"],
        subject=row["subject"],
        subject_en=row["subject_en"],
        kind=row["kind"],
        value=float(value),
        unit=row["unit"],
        raw=row["raw"],
        qualifier=row["qualifier"],
        cumulative=row["cumulative"],
        period=row["period"],
        region=row["region_id"],
        article=row["article_id"],
        document=row["document_id"],
        initiative=row["initiative_id"],
        organisation=row["organisation_id"],
        growth_of=row["growth_of_id"],
        quote=row["quote"],
        span=Span(row["span_start"], row["span_end"]),
        notes=row["notes"],
        null_reasons=row["null_reasons"],
    )


METRICS: ListSpec[MetricOut] = ListSpec(
    resource="metrics",
    item_type=MetricOut,
    page_type=MetricPage,
    table=t,
    id_column=c.id,
    columns=list(c),
    to_item=to_item,
    filters=[
        FilterField("id", str, ("in",), "Metric id", column=c.id),
        FilterField("article", str, KEY_OPS, "Article id", column=c.article_id, facet=True),
        FilterField("document", str, KEY_OPS, "Document id", column=c.document_id, facet=True),
        region_field(c.region_id),
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
        FilterField(
            "kind",
            str,
            ("eq", "in", "not"),
            "Kind of figure",
            column=c.kind,
            enum=METRIC_KINDS,
            example="money",
            facet=True,
        ),
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
            "qualifier",
            str,
            KEY_OPS,
            "Approximation marker (余, 以上, 近, 超, 约 …)",
            column=c.qualifier,
            facet=True,
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
    relations={
        "article": Relation("article", "articles"),
        "document": Relation("document", "documents"),
        "region": Relation("region", "regions"),
        "initiative": Relation("initiative", "initiatives"),
        "organisation": Relation("organisation", "organisations"),
        "growth_of": Relation("growth_of", "metrics"),
    },
    searchable=True,
    base_where=c.deleted_at.is_(None),
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
    return problems


def _document(record: Wire, ctx: Context) -> dict[str, Any]:
    article = ctx.article_span(record["article"])
    return {"document_id": article[0] if article is not None else None}


WRITE = WriteSpec(
    in_type=MetricIn,
    patch_type=patch_type(MetricIn, "MetricPatch"),
    kinds=METRIC_KINDS,
    nullable=("subject_en", "unit", "period", "region"),
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
    derived=_document,
)


RESOURCE = Resource(
    singular="metric",
    tag="Metrics",
    description="Every figure stated in the sources, normalised to base units.",
    spec=METRICS,
    detail_type=MetricOut,
    load_detail=load_detail,
    list_summary="List metrics",
    detail_summary="Get a metric",
    list_description="Figures stated in the sources, filterable by value, unit, region, article, "
    "initiative and organisation.",
    example_id="qiang-cun-gong-si-li-run",
    search=SearchText("subject", ("subject_en", "raw", "quote")),
    write=WRITE,
)
