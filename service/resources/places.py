"""Places below county level (townships, villages, scenic areas, an industrial park …), read-only,
curated in seed/pending/places.yaml; the metrics, initiatives and organisations the text places
in them in seed/pending/place-links.yaml."""

from __future__ import annotations

import typing
from typing import Annotated, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.declare import detail_loader, list_spec
from service.listing.spec import (
    REQUIRED_TEXT_OPS,
    FilterField,
    SortKey,
    kind_region_parent,
    linked_field,
)
from service.models import Place, PlaceLink, PlaceMention, table_of
from service.resources.common import (
    AliasesOut,
    MentionsOut,
    NameAsWritten,
    QuotedMention,
    QuotedMentions,
    RecordOut,
    RegionRef,
    Span,
    doc,
    mentions_of,
)
from service.resources.links import live_records
from service.resources.resource import Resource, Rows, SearchText, SeedSource

PlaceKind = Literal[
    "township",
    "town",
    "village",
    "scenic_area",
    "heritage_site",
    "lake",
    "river",
    "area",
    "urban_area",
    "industrial_park",
    "venue",
]
PLACE_KINDS: tuple[str, ...] = typing.get_args(PlaceKind)
LinkedResource = Literal["metrics", "initiatives", "organisations"]
NO_PARENT = "The text names no enclosing place below county level."


class PlaceOut(RecordOut):
    """A place below county level; `region` is the county-level region it lies in."""

    name: NameAsWritten
    kind: Annotated[str, doc("Kind of place; see `enumerations.place_kinds`.")]
    region: RegionRef
    parent: Annotated[str | None, doc("Id of the enclosing place, where the text names one.")]
    aliases: AliasesOut


class PlacedRecord(msgspec.Struct):
    """A metric, initiative or organisation the text places here, with the quote that says so."""

    resource: Annotated[str, doc("`metrics`, `initiatives` or `organisations`.")]
    id: Annotated[str, doc("The record's id (`/v1/{resource}/{id}`).")]
    article: Annotated[str, doc("Article id of the quote.")]
    quote: Annotated[str, doc("Verbatim text naming the record and the place.")]
    span: Span


class PlaceDetail(PlaceOut, kw_only=True):
    """A place with every mention and the records the text places in it."""

    mentions: MentionsOut
    records: Annotated[list[PlacedRecord], doc("Metrics, initiatives and organisations here.")]


t = table_of(Place)
c = t.c
mentions = table_of(PlaceMention)
links = table_of(PlaceLink)

PLACES = list_spec(
    "places",
    PlaceOut,
    t,
    filters=[
        *kind_region_parent(
            c, "place", PLACE_KINDS, "village", "Enclosing place id", "zhang-xi-xiang"
        ),
        FilterField(
            "name", str, REQUIRED_TEXT_OPS, "Name as written", column=c.name, example="力溪村"
        ),
        linked_field("article", "Named in this article", mentions, "place_id", c.id),
    ],
    sort_keys=[SortKey("name", c.name, str), SortKey("kind", c.kind, str)],
    searchable=True,
    default_sort="name",
)


async def load_placed(conn: AsyncConnection, place_id: str) -> list[PlacedRecord]:
    """The records placed here that are live (a soft-deleted one is not shown)."""
    stmt = sa.select(links).where(links.c.place_id == place_id)
    rows = list(await conn.execute(stmt.order_by(links.c.resource, links.c.record_id)))
    live = await live_records(conn, ((r.resource, r.record_id) for r in rows))
    return [
        PlacedRecord(r.resource, r.record_id, r.article_id, r.quote, Span(r.span_start, r.span_end))
        for r in rows
        if (r.resource, r.record_id) in live
    ]


load_detail = detail_loader(
    PLACES,
    PlaceDetail,
    mentions=mentions_of(mentions, "place_id"),
    records=lambda conn, place_id, _item: load_placed(conn, place_id),
)


# ---------------------------------------------------------------- curated in seed/pending


class NotAMention(msgspec.Struct, forbid_unknown_fields=True):
    """An occurrence of the name that does not mean the place (kept for the coverage report)."""

    document: str
    quote: str
    span: tuple[int, int]
    reason: Annotated[str, msgspec.Meta(min_length=1)]


class PlaceRecord(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    kind: PlaceKind
    region: str
    mentions: QuotedMentions
    parent: str | None = None
    aliases: list[str] = []
    not_mentions: list[NotAMention] = []
    notes: list[str] = []


def place_rows(place: PlaceRecord) -> Rows:
    row = {
        "id": place.id,
        "name": place.name,
        "kind": place.kind,
        "region_id": place.region,
        "parent_id": place.parent,
        "aliases": place.aliases,
        "notes": place.notes,
        "null_reasons": {"parent": NO_PARENT} if place.parent is None else {},
    }
    return {"place": [row], "place_mention": [m.row("place_id", place.id) for m in place.mentions]}


class Subject(msgspec.Struct, forbid_unknown_fields=True):
    resource: LinkedResource
    id: str


class PlaceLinkRecord(QuotedMention, forbid_unknown_fields=True):
    subject: Subject
    place: str


def link_rows(link: PlaceLinkRecord) -> Rows:
    row = link.row("place_id", link.place) | {
        "resource": link.subject.resource,
        "record_id": link.subject.id,
    }
    return {"place_link": [row]}


RESOURCE = Resource(
    PLACES,
    PlaceDetail,
    load_detail,
    description="Townships, villages, scenic areas and other places below county level.",
    detail_summary="Get a place with its mentions and the records placed in it",
    example_id="li-xi-cun",
    search=SearchText("name", ("aliases",)),
    seed=(
        SeedSource("pending/places.yaml", "places", PlaceRecord, place_rows),
        SeedSource("pending/place-links.yaml", "place_links", PlaceLinkRecord, link_rows),
    ),
)
