"""Wire types shared by several resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import Article, table_of


class Span(msgspec.Struct):
    """Character offsets (Unicode code points, end exclusive) into the document text."""

    start: int
    end: int


class Mention(msgspec.Struct):
    """Where a record is named in an article: the verbatim quote and its span."""

    id: str
    name: str
    article: str
    quote: str
    span: Span


def doc(text: str, unit: str | None = None) -> msgspec.Meta:
    """A field's documentation, declared on the field itself: OpenAPI shows it (with the unit),
    `/v1/meta` reads it back (`service/resources/meta.py`)."""
    if unit is None:
        return msgspec.Meta(description=text)
    return msgspec.Meta(description=f"{text} Unit: {unit}.", extra={"unit": unit})


def span_of(row: Mapping[str, Any]) -> Span:
    """A row's `span_start`/`span_end` columns as the wire's `span`."""
    return Span(row["span_start"], row["span_end"])


def mentions_of(
    link: sa.Table, owner_fk: str, name_field: str = "name"
) -> Callable[[AsyncConnection, str, Any], Awaitable[list[Mention]]]:
    """A detail part: every mention of the record (`load_mentions`), named by `name_field`."""

    async def part(conn: AsyncConnection, record_id: str, item: Any) -> list[Mention]:
        return await load_mentions(conn, link, owner_fk, record_id, getattr(item, name_field))

    return part


async def load_mentions(
    conn: AsyncConnection, link: sa.Table, owner_fk: str, owner_id: str, name: str
) -> list[Mention]:
    """Every mention of one record in a live article, in reading order: `link` holds
    (`owner_fk`, article_id, quote, span_start, span_end)."""
    article = table_of(Article)
    rows = await conn.execute(
        sa.select(link.c.article_id, link.c.quote, link.c.span_start, link.c.span_end)
        .join(article, article.c.id == link.c.article_id)
        .where(link.c[owner_fk] == owner_id, article.c.deleted_at.is_(None))
        .order_by(article.c.document_id, link.c.span_start)
    )
    return [
        Mention(owner_id, name, r.article_id, r.quote, Span(r.span_start, r.span_end)) for r in rows
    ]


QUOTATION_MARKS = str.maketrans("", "", "“”‘’")


def display_name(row: Mapping[str, Any]) -> str:
    """The written name without its quotation marks (rule display-name of seed/FORMAT.md): “”
    and ‘’ removed (龙泉“守护红色根脉”党建联盟 → 龙泉守护红色根脉党建联盟), title marks 《》 only
    when they enclose the whole name (a title inside a name stays one)."""
    name: str = row["name"].translate(QUOTATION_MARKS)
    if name.startswith("《") and name.endswith("》") and name.count("《") == 1:
        return name[1:-1]
    return name


# The fields several resources share, each documented once.
RecordId = Annotated[str, doc("Stable readable slug (pinyin); never reused.")]
NameAsWritten = Annotated[str, doc("Name as written in the sources (Chinese).")]
DisplayName = Annotated[
    str,
    doc(
        "The name without its quotation marks (“” ‘’, and 《》 enclosing the whole name), for "
        "display; `q` finds a record by either form."
    ),
]
NameEn = Annotated[str | None, doc("English name (curator's translation).")]
RegionRef = Annotated[str | None, doc("Region id (`/v1/regions/{id}`).")]
AliasesOut = Annotated[list[str], doc("Other names used for it in the sources.")]
NotesOut = Annotated[list[str], doc("Curator notes: ambiguities, source defects, judgement calls.")]
NullReasonsOut = Annotated[dict[str, str], doc("Why each null field is null: field name → reason.")]
MentionsOut = Annotated[list[Mention], doc("Every article mention, each with its quote and span.")]


class Identified(msgspec.Struct):
    """A wire record's first field, its id."""

    id: RecordId


class RecordOut(Identified, kw_only=True):
    """A curated record's wire form: `id` first, the curator's `notes` and `null_reasons` last
    (keyword-only fields follow every field a subclass declares). A subclass that adds fields
    to a record already built, as a detail does, declares them `kw_only=True` too. (A Struct's
    description in the OpenAPI document is its own `__doc__`, never a base's.)"""

    notes: NotesOut
    null_reasons: NullReasonsOut


Item = TypeVar("Item", bound=msgspec.Struct)


def with_mentions(item_type: type[Item], doc: str) -> type[Item]:
    """`<Item>Detail`, for a resource whose detail is its list item and every article mention:
    `mentions` comes last (keyword-only, after `notes` and `null_reasons`)."""
    name = item_type.__name__.removesuffix("Out") + "Detail"
    detail = msgspec.defstruct(
        name,
        [("mentions", MentionsOut)],
        bases=(item_type,),
        kw_only=True,
        module=item_type.__module__,
        namespace={"__doc__": doc},
    )
    return cast(type[Item], detail)


class QuotedMention(msgspec.Struct, forbid_unknown_fields=True):
    """A mention as curated in the seed files: the article, the quote and its `[start, end]`
    span in the document (checked by the loader against the document text)."""

    document: str
    article: str
    quote: str
    span: tuple[int, int]

    def row(self, owner_fk: str, owner_id: str) -> dict[str, Any]:
        return {
            owner_fk: owner_id,
            "article_id": self.article,
            "quote": self.quote,
            "span_start": self.span[0],
            "span_end": self.span[1],
        }


# A seeded record's mentions: at least one, or the text never names it.
QuotedMentions = Annotated[list[QuotedMention], msgspec.Meta(min_length=1)]
