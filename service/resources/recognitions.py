"""Recognitions: awards, listings and statuses the text says a record received (national typical
cases, provincial best applications, heritage status …), read-only, curated in
seed/pending/recognitions.yaml."""

from __future__ import annotations

import typing
from collections import defaultdict
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.declare import detail_loader, list_spec
from service.listing.spec import (
    KEY_OPS,
    REQUIRED_TEXT_OPS,
    FilterField,
    SortKey,
    link_filter,
    linked_field,
    vocabulary_field,
)
from service.models import Recognition, RecognitionMention, RecognitionRecipient, table_of
from service.resources.common import (
    QuotedMentions,
    RecordOut,
    doc,
    mentions_of,
    with_mentions,
)
from service.resources.links import RecordRef, live_records
from service.resources.resource import Resource, Rows, SearchText, SeedSource

RecognitionKind = Literal[
    "typical_case",
    "best_application",
    "excellent_case",
    "excellent_application",
    "annual_case",
    "listing",
    "shortlist",
    "recommendation",
    "publication",
    "grade",
    "heritage_status",
]
Level = Literal["international", "national", "provincial", "municipal"]
RECOGNITION_KINDS: tuple[str, ...] = typing.get_args(RecognitionKind)
LEVELS: tuple[str, ...] = typing.get_args(Level)
RecipientResource = Literal["initiatives", "organisations", "places", "regions", "people"]


class RecognitionOut(RecordOut):
    """A recognition as the text states it: what, how high, who received it, who gave it, when."""

    what: Annotated[str, doc("The recognition as written (全国县域流通六大典型案例 …).")]
    kind: Annotated[str, doc("Kind of recognition; see `enumerations.recognition_kinds`.")]
    level: Annotated[str, doc("Level: international, national, provincial or municipal.")]
    awarder: Annotated[
        str | None, doc("Organisation that gave it (`/v1/organisations/{id}`), where named.")
    ]
    awarded: Annotated[str | None, doc("When it was given, as far as the text says (a year).")]
    recipients: Annotated[list[RecordRef], doc("The records that received it.")]


RecognitionDetail = with_mentions(
    RecognitionOut, "A recognition with every mention (quote + span)."
)


t = table_of(Recognition)
c = t.c
recipients = table_of(RecognitionRecipient)
mentions = table_of(RecognitionMention)


async def load_recipients(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    stmt = sa.select(recipients).where(recipients.c.recognition_id.in_(ids))
    rows = list(await conn.execute(stmt.order_by(*recipients.primary_key.columns)))
    live = await live_records(conn, ((r.resource, r.record_id) for r in rows))
    grouped: dict[str, list[RecordRef]] = defaultdict(list)
    for r in rows:
        if (r.resource, r.record_id) in live:
            grouped[r.recognition_id].append(RecordRef(r.resource, r.record_id))
    return {key: {"recipients": value} for key, value in grouped.items()}


RECOGNITIONS = list_spec(
    "recognitions",
    RecognitionOut,
    t,
    load_extras=load_recipients,
    filters=[
        vocabulary_field("kind", c.kind, RECOGNITION_KINDS, "Kind of recognition", "typical_case"),
        vocabulary_field("level", c.level, LEVELS, "Level", "national"),
        FilterField(
            "awarder",
            str,
            KEY_OPS,
            "Organisation id of the awarder",
            column=c.awarder_id,
            facet=True,
        ),
        FilterField(
            "recipient",
            str,
            ("eq", "in", "not"),
            "Id of a record that received it (any resource)",
            build=link_filter(recipients, "recognition_id", "record_id", c.id),
            example="liu-dong-gong-xiao-gong-fu-che",
        ),
        FilterField("what", str, REQUIRED_TEXT_OPS, "The recognition as written", column=c.what),
        linked_field("article", "Named in this article", mentions, "recognition_id", c.id),
    ],
    sort_keys=[
        SortKey("what", c.what, str),
        SortKey("level", c.level, str),
        SortKey("kind", c.kind, str),
    ],
    searchable=True,
    default_sort="what",
)

load_detail = detail_loader(
    RECOGNITIONS, RecognitionDetail, mentions=mentions_of(mentions, "recognition_id", "what")
)


# ---------------------------------------------------------------- curated in seed/pending


class Recipient(msgspec.Struct, forbid_unknown_fields=True):
    resource: RecipientResource
    id: str


class Awarder(msgspec.Struct, forbid_unknown_fields=True):
    resource: Literal["organisations"]
    id: str


class RecognitionRecord(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    what: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    kind: RecognitionKind
    level: Level
    recipients: Annotated[list[Recipient], msgspec.Meta(min_length=1)]
    mentions: QuotedMentions
    awarder: Awarder | None = None
    awarder_null_reason: str | None = None
    when: str | None = None
    when_null_reason: str | None = None
    notes: list[str] = []


def recognition_rows(record: RecognitionRecord) -> Rows:
    reasons = {
        field: reason
        for field, value, reason in (
            ("awarder", record.awarder, record.awarder_null_reason),
            ("awarded", record.when, record.when_null_reason),
        )
        if value is None and reason
    }
    row = {
        "id": record.id,
        "what": record.what,
        "kind": record.kind,
        "level": record.level,
        "awarder_id": record.awarder.id if record.awarder else None,
        "awarded": record.when,
        "notes": record.notes,
        "null_reasons": reasons,
    }
    return {
        "recognition": [row],
        "recognition_recipient": [
            {"recognition_id": record.id, "resource": r.resource, "record_id": r.id}
            for r in record.recipients
        ],
        "recognition_mention": [m.row("recognition_id", record.id) for m in record.mentions],
    }


RESOURCE = Resource(
    RECOGNITIONS,
    RecognitionDetail,
    load_detail,
    description="Awards, listings and statuses the articles say records received.",
    detail_summary="Get a recognition with every mention",
    example_id="quan-guo-nong-ye-she-hui-hua-fu-wu-dian-xing-an-li",
    search=SearchText("what", ()),
    seed=(
        SeedSource(
            "pending/recognitions.yaml", "recognitions", RecognitionRecord, recognition_rows
        ),
    ),
)
