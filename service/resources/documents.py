"""Documents: the source newspaper pages, with their full text and date estimate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import Db
from service.listing.envelope import Facets, PageInfo, PageLinks, Total
from service.listing.handlers import detail_response, list_response
from service.listing.openapi import detail_operation_class, operation_class
from service.listing.spec import FilterField, ListSpec, Row, SortKey
from service.models import Document, table_of
from service.resources.common import ResourceId, Span, doc
from service.resources.resource import Resource
from service.web.errors import COMMON_ERRORS, DETAIL_ERRORS


class DateBasis(msgspec.Struct):
    """Quoted evidence for the date estimate, and the reasoning from it."""

    quote: str
    span: Span
    reasoning: str


class DocumentOut(msgspec.Struct):
    """A source page. Spans elsewhere in the API index into its `text` (detail only)."""

    id: Annotated[str, doc("Stable readable slug (pinyin); never reused.")]
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
    notes: Annotated[list[str], doc("Curator notes: ambiguities, source defects, judgement calls.")]
    null_reasons: Annotated[
        dict[str, str], doc("Why each null field is null: field name → reason.")
    ]


class DocumentDetail(DocumentOut):
    text: Annotated[str, doc("Full text of the page; every `span` indexes into it.")]


class DocumentPage(msgspec.Struct, omit_defaults=True):
    """A page of documents."""

    data: list[DocumentOut]
    page: PageInfo
    links: PageLinks
    total: Total
    facets: Facets | None = None


t = table_of(Document)
c = t.c
SUMMARY_COLUMNS = [col for col in c if col.name != "text"]


def _fields(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "source": row["source"],
        "title": row["title"],
        "publisher": row["publisher"],
        "date_estimate": row["date_estimate"],
        "date_precision": row["date_precision"],
        "date_basis": [
            DateBasis(b["quote"], Span(b["span"][0], b["span"][1]), b["reasoning"])
            for b in row["date_basis"]
        ],
        "sha256": row["sha256"],
        "char_count": row["char_count"],
        "notes": row["notes"],
        "null_reasons": row["null_reasons"],
    }


def to_item(row: Row, _extras: Mapping[str, Any]) -> DocumentOut:
    return DocumentOut(**_fields(row))


DOCUMENTS: ListSpec[DocumentOut] = ListSpec(
    resource="documents",
    item_type=DocumentOut,
    page_type=DocumentPage,
    table=t,
    id_column=c.id,
    columns=SUMMARY_COLUMNS,
    to_item=to_item,
    filters=[
        FilterField("id", str, ("in",), "Document id", column=c.id),
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
    relations={},
    searchable=False,
    default_sort="date_estimate",
)


async def load_detail(conn: AsyncConnection, document_id: str) -> DocumentDetail | None:
    """A document with its full text."""
    row = (await conn.execute(sa.select(t).where(c.id == document_id))).mappings().first()
    return None if row is None else DocumentDetail(**_fields(row), text=row["text"])


class DocumentController(Controller):
    path = "/documents"
    tags = ["Documents"]

    @get(
        "/",
        operation_id="listDocuments",
        summary="List source documents",
        operation_class=operation_class(DOCUMENTS),
        responses=COMMON_ERRORS,
    )
    async def list_documents(
        self, request: Request[Any, Any, Any], db: Db
    ) -> Response[DocumentPage]:
        return await list_response(request, db, DOCUMENTS)

    @get(
        "/{document_id:str}",
        operation_id="getDocument",
        summary="Get a source document with its full text",
        responses=DETAIL_ERRORS,
        raises=[NotFoundException],
        operation_class=detail_operation_class(DOCUMENTS, DocumentDetail),
    )
    async def get_document(
        self, request: Request[Any, Any, Any], db: Db, document_id: ResourceId
    ) -> Response[DocumentDetail]:
        body = await load_detail(db, document_id)
        if body is None:
            raise NotFoundException(f"No document with id {document_id!r}")
        return await detail_response(request, db, DOCUMENTS, body)


RESOURCE = Resource(
    name="documents",
    singular="document",
    tag="Documents",
    description="The source newspaper pages, with their full text.",
    spec=DOCUMENTS,
    detail_type=DocumentDetail,
    load_detail=load_detail,
    controller=DocumentController,
    example_id="lishui-2022-08-page",
    search=None,
)
