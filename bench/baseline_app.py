"""The bare Litestar baseline: one handler returning a constant 50-item list of metric-like Structs.

Served by the same uvicorn settings as the service, it bounds what any Litestar + msgspec endpoint
can do on this machine: no database, no middleware, no cursors, no envelope. When
`BENCH_BASELINE_DB` names the benchmark SQLite file, the 50 items are the rows of the service's
first metrics page, so the payload is the same size as the one the service encodes.
"""

from __future__ import annotations

import json
import os
import sqlite3

import msgspec
from litestar import Litestar, get


class Span(msgspec.Struct):
    start: int
    end: int


class MetricLike(msgspec.Struct):
    """The fields of the service's `MetricOut`, in its order."""

    id: str
    subject: str
    subject_en: str | None
    kind: str
    value: float
    unit: str | None
    raw: str
    qualifier: str | None
    cumulative: bool
    period: str | None
    region: str | None
    article: str
    document: str
    initiative: str | None
    organisation: str | None
    growth_of: str | None
    quote: str
    span: Span
    notes: list[str]
    null_reasons: dict[str, str]


COLUMNS = (
    "id, subject, subject_en, kind, value, unit, raw, qualifier, cumulative, period, region_id, "
    "article_id, document_id, initiative_id, organisation_id, growth_of_id, quote, span_start, "
    "span_end, notes, null_reasons"
)


def _from_db(path: str, n: int) -> list[MetricLike]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM metric ORDER BY document_id, span_start, id LIMIT ?", (n,)
        ).fetchall()
    finally:
        conn.close()
    items = []
    for r in rows:
        fields = [*r[:4], float(r[4]), *r[5:8], bool(r[8]), *r[9:17]]
        span = Span(r[17], r[18])
        items.append(MetricLike(*fields, span, json.loads(r[19]), json.loads(r[20])))
    return items


def _constant(n: int) -> list[MetricLike]:
    return [
        MetricLike(
            id=f"qiang-cun-gong-si-li-run-{i}",
            subject="182家县、乡强村公司累计实现利润",
            subject_en="Cumulative profit of 182 county and township village-enrichment companies",
            kind="money",
            value=134000000.0 + i,
            unit="元",
            raw="1.34亿元",
            qualifier=None,
            cumulative=True,
            period="上半年",
            region="li-shui-shi",
            article="kua-shan-duo-lian-dang-jian-lian-meng",
            document="lishui-2022-08-page",
            initiative="qiang-cun-gong-si-lian-meng",
            organisation=None,
            growth_of=None,
            quote="上半年,182家县、乡强村公司累计实现利润1.34亿元",
            span=Span(600, 628),
            notes=[],
            null_reasons={},
        )
        for i in range(n)
    ]


def load_items(n: int = 50) -> list[MetricLike]:
    path = os.environ.get("BENCH_BASELINE_DB")
    return _from_db(path, n) if path else _constant(n)


ITEMS = load_items()


@get("/baseline")
async def baseline() -> list[MetricLike]:
    return ITEMS


app = Litestar(route_handlers=[baseline], openapi_config=None)
