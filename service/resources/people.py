"""People the text names (reporters and correspondents are the articles' contributors), read-only,
curated in seed/pending/people.yaml."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.declare import detail_loader, list_spec
from service.listing.spec import REQUIRED_TEXT_OPS, FilterField, SortKey, linked_field
from service.models import Organisation, Person, PersonMention, PersonOrganisation, table_of
from service.resources.common import (
    AliasesOut,
    NameAsWritten,
    QuotedMentions,
    RecordOut,
    doc,
    mentions_of,
    with_mentions,
)
from service.resources.resource import Resource, Rows, SearchText, SeedSource


class PersonRole(msgspec.Struct):
    """An organisation the person belongs to, with the title the text gives them there."""

    id: Annotated[str, doc("Organisation id (`/v1/organisations/{id}`).")]
    name: Annotated[str, doc("The organisation's name as written.")]
    title: Annotated[str | None, doc("Title as written (教授, 负责人 …); null when none.")]


class PersonOut(RecordOut):
    """A person named in the articles."""

    name: NameAsWritten
    aliases: AliasesOut
    titles: Annotated[list[str], doc("Titles and offices as written (县委常委, 教授 …).")]
    organisations: Annotated[list[PersonRole], doc("Organisations, each with the title there.")]


PersonDetail = with_mentions(PersonOut, "A person with every mention (quote + span).")


t = table_of(Person)
c = t.c
affiliations = table_of(PersonOrganisation)
mentions = table_of(PersonMention)


async def load_organisations(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    organisation = table_of(Organisation)
    rows = await conn.execute(
        sa.select(affiliations, organisation.c.name)
        .join(organisation, organisation.c.id == affiliations.c.organisation_id)
        .where(affiliations.c.person_id.in_(ids), organisation.c.deleted_at.is_(None))
        .order_by(affiliations.c.person_id, affiliations.c.organisation_id)
    )
    grouped: dict[str, list[PersonRole]] = defaultdict(list)
    for r in rows.mappings():
        grouped[r["person_id"]].append(PersonRole(r["organisation_id"], r["name"], r["title"]))
    return {key: {"organisations": value} for key, value in grouped.items()}


PEOPLE = list_spec(
    "people",
    PersonOut,
    t,
    load_extras=load_organisations,
    filters=[
        FilterField(
            "name", str, REQUIRED_TEXT_OPS, "Name as written", column=c.name, example="胡显平"
        ),
        linked_field(
            "organisation",
            "Belongs to this organisation",
            affiliations,
            "person_id",
            c.id,
            example="fu-dan-da-xue",
        ),
        linked_field("article", "Named in this article", mentions, "person_id", c.id),
    ],
    sort_keys=[SortKey("name", c.name, str)],
    searchable=True,
    default_sort="name",
)


load_detail = detail_loader(PEOPLE, PersonDetail, mentions=mentions_of(mentions, "person_id"))


# ---------------------------------------------------------------- curated in seed/pending


class Affiliation(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    title: str | None = None


class PersonRecord(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    mentions: QuotedMentions
    aliases: list[str] = []
    titles: list[str] = []
    organisations: list[Affiliation] = []
    notes: list[str] = []


def person_rows(person: PersonRecord) -> Rows:
    return {
        "person": [
            {
                "id": person.id,
                "name": person.name,
                "aliases": person.aliases,
                "titles": person.titles,
                "notes": person.notes,
                "null_reasons": {},
            }
        ],
        "person_organisation": [
            {"person_id": person.id, "organisation_id": a.id, "title": a.title}
            for a in person.organisations
        ],
        "person_mention": [m.row("person_id", person.id) for m in person.mentions],
    }


RESOURCE = Resource(
    PEOPLE,
    PersonDetail,
    load_detail,
    description="People the articles name, with their titles, organisations and mentions.",
    detail_summary="Get a person with every mention",
    example_id="hu-xian-ping",
    search=SearchText("name", ("aliases", "titles")),
    seed=(SeedSource("pending/people.yaml", "people", PersonRecord, person_rows),),
)
