"""Documents: the source newspaper pages, with their full text and date estimate."""

from __future__ import annotations

from typing import Annotated

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.declare import list_spec
from service.listing.rows import Row, row_mapper
from service.listing.spec import FilterField, SortKey
from service.models import Document, table_of
from service.resources.common import RecordOut, Span, doc
from service.resources.resource import Resource


class DateBasis(msgspec.Struct):
    """Quoted evidence for the date estimate, and the reasoning from it."""

    quote: str
    span: Span
    reasoning: str


class DocumentOut(RecordOut):
    """A source page. Spans elsewhere in the API index into its `text` (detail only)."""

    source: Annotated[str, doc("File name of the source page as received.")]
    title: Annotated[str | None, doc("Title of the page, where known.")]
    publisher: Annotated[str | None, doc("Publisher, where known.")]
    date_estimate: Annotated[
        str, doc("Estimated publication date (ISO 8601, to `date_precision`).")
    ]
    date_precision: Annotated[str, doc("Precision of `date_estimate` (day, month, year).")]
    date_basis: Annotated[
        list[DateBasis], doc("Quoted evidence for the date estimate and the reasoning.")
    ]
    sha256: Annotated[str, doc("SHA-256 of the source file, to verify a copy.")]
    char_count: Annotated[int, doc("Length of `text`.", "Unicode code points")]


class DocumentDetail(DocumentOut, kw_only=True):
    text: Annotated[str, doc("Full text of the page; every `span` indexes into it.")]


t = table_of(Document)
c = t.c
SUMMARY_COLUMNS = [col for col in c if col.name != "text"]


def _date_basis(row: Row) -> list[DateBasis]:
    return [
        DateBasis(b["quote"], Span(b["span"][0], b["span"][1]), b["reasoning"])
        for b in row["date_basis"]
    ]


CONVERT = {"date_basis": _date_basis}


DOCUMENTS = list_spec(
    "documents",
    DocumentOut,
    t,
    columns=SUMMARY_COLUMNS,
    convert=CONVERT,
    filters=[
        FilterField(
            "date_estimate",
            str,
            ("eq", "gte", "lte", "startswith"),
            "Estimated publication date (ISO prefix, e.g. 2022-08)",
            column=c.date_estimate,
            example="2022-08",
            facet=True,
        ),
    ],
    sort_keys=[SortKey("date_estimate", c.date_estimate, str)],
    searchable=False,
    default_sort="date_estimate",
)


detail_of = row_mapper(DocumentDetail, t, CONVERT)


async def load_detail(conn: AsyncConnection, document_id: str) -> DocumentDetail | None:
    """A document with its full text."""
    row = (await conn.execute(sa.select(t).where(c.id == document_id))).mappings().first()
    return None if row is None else detail_of(row, {})


RESOURCE = Resource(
    DOCUMENTS,
    DocumentDetail,
    load_detail,
    description="The source newspaper pages, with their full text.",
    detail_summary="Get a source document with its full text",
    example_id="lishui-2022-08-page",
    list_summary="List source documents",
)
