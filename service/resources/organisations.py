"""Organisations: government and party bodies, companies, banks, universities, alliances …"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.bodies import Aliases, Notes, NullReasons, Slug, fits
from service.curation.rules import Context, Problems, Wire, unique_name_problems
from service.listing.declare import detail_loader, list_spec
from service.listing.spec import (
    TEXT_OPS,
    FilterField,
    Row,
    SortKey,
    id_field,
    linked_field,
    parent_field,
    region_field,
    vocabulary_field,
)
from service.models import (
    ArticleOrganisation,
    Initiative,
    InitiativeOrganisation,
    Organisation,
    table_of,
)
from service.resources.common import (
    AliasesOut,
    DisplayName,
    MentionsOut,
    NameAsWritten,
    NameEn,
    NotesOut,
    NullReasonsOut,
    RecordId,
    RegionRef,
    display_name,
    doc,
    mentions_of,
)
from service.resources.links import place_field
from service.resources.relations import SEEDS, TypedRelation, load_relations
from service.resources.resource import Resource, SearchText, WriteSpec, named_write

ORGANISATION_KINDS = (
    "government",
    "party",
    "legislature",
    "judiciary",
    "company",
    "bank",
    "university",
    "school",
    "research_institute",
    "media",
    "alliance",
    "social_organisation",
    "other",
)
ROLES = ("lead", "partner", "operator", "funder", "endorser", "participant")


class FullerName(msgspec.Struct):
    """A fuller or official name that the sources do not write (`中共丽水市委` for 市委): the
    curator's knowledge, never the record's `name`, which stays as written."""

    name: Annotated[str, doc("The fuller name.")]
    basis: Annotated[
        Literal["curator_knowledge"], doc("Where it comes from: the curator, not the text.")
    ]
    note: Annotated[str, doc("Why the curator reads it so.")]


class FullerNameIn(msgspec.Struct, forbid_unknown_fields=True):
    """A fuller name the text does not write; `basis` is always `curator_knowledge`."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    basis: Literal["curator_knowledge"]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class OrganisationOut(msgspec.Struct):
    id: RecordId
    name: NameAsWritten
    display_name: DisplayName
    fuller_name: Annotated[
        FullerName | None,
        doc(
            "A fuller name the text does not write, marked as curator knowledge (`q` finds it "
            "too); null when the written name is already the full one."
        ),
    ]
    name_en: NameEn
    kind: Annotated[str, doc("Kind of organisation; see `enumerations.organisation_kinds`.")]
    region: RegionRef
    parent: Annotated[str | None, doc("Id of the parent organisation.")]
    aliases: AliasesOut
    notes: NotesOut
    null_reasons: NullReasonsOut


class RoleLink(msgspec.Struct):
    """A link between an initiative and an organisation, with the organisation's role."""

    id: str
    name: str
    role: str


class OrganisationDetail(OrganisationOut):
    """An organisation with its initiatives and every article mention (quote + span)."""

    initiatives: Annotated[list[RoleLink], doc("Initiatives it takes part in, with its role.")]
    relations: Annotated[
        list[TypedRelation],
        doc("What it is to initiatives and figures (builder, endorser, source …), each quoted."),
    ]
    mentions: MentionsOut


def _fuller_name(row: Row) -> FullerName | None:
    stored = row["fuller_name"]
    return FullerName(**stored) if stored else None


def fuller_name_text(row: Row) -> str:
    """The fuller name, for search."""
    stored: dict[str, Any] | None = row["fuller_name"]
    return stored["name"] if stored else ""


t = table_of(Organisation)
c = t.c
roles = table_of(InitiativeOrganisation)
mentions = table_of(ArticleOrganisation)


ORGANISATIONS = list_spec(
    "organisations",
    OrganisationOut,
    t,
    convert={"display_name": display_name, "fuller_name": lambda row: _fuller_name(row)},
    filters=[
        id_field(c.id, "Organisation"),
        vocabulary_field("kind", c.kind, ORGANISATION_KINDS, "Kind of organisation", "bank"),
        region_field(c.region_id),
        place_field("organisations", c.id),
        parent_field(c.parent_id, "Parent organisation id"),
        FilterField("name", str, TEXT_OPS, "Chinese name", column=c.name),
        FilterField("name_en", str, ("contains", "startswith"), "English name", column=c.name_en),
        linked_field("article", "Named in this article", mentions, "organisation_id", c.id),
        linked_field(
            "initiative",
            "Takes part in this initiative",
            roles,
            "organisation_id",
            c.id,
            example="gong-fu-gong-fang",
        ),
    ],
    sort_keys=[
        SortKey("name", c.name, str),
        SortKey("kind", c.kind, str),
    ],
    searchable=True,
    default_sort="name",
)


async def load_roles(conn: AsyncConnection, organisation_id: str) -> list[RoleLink]:
    initiative = table_of(Initiative)
    rows = await conn.execute(
        sa.select(initiative.c.id, initiative.c.name, roles.c.role)
        .join(initiative, initiative.c.id == roles.c.initiative_id)
        .where(roles.c.organisation_id == organisation_id, initiative.c.deleted_at.is_(None))
        .order_by(initiative.c.id, roles.c.role)
    )
    return [RoleLink(r.id, r.name, r.role) for r in rows]


load_detail = detail_loader(
    ORGANISATIONS,
    OrganisationDetail,
    initiatives=lambda conn, organisation_id, _item: load_roles(conn, organisation_id),
    relations=load_relations,
    mentions=mentions_of(mentions, "organisation_id"),
)


# ---------------------------------------------------------------- writes


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new organisation. Omit `id` to derive it from the name (pinyin slug)."""

    name: Annotated[str, fits(Organisation, "name", 1)]
    kind: Annotated[str, fits(Organisation, "kind")]
    id: Slug | None = None
    name_en: Annotated[str, fits(Organisation, "name_en")] | None = None
    fuller_name: FullerNameIn | None = None
    region: Slug | None = None
    parent: Slug | None = None
    aliases: Aliases = []
    notes: Notes = []
    null_reasons: NullReasons = {}


def _rules(record: Wire, ctx: Context, record_id: str) -> Problems:
    """Unique names, and a fuller name that is not one the record already has (seed/FORMAT.md,
    fuller-name: a name the text writes is the name or an alias)."""
    problems = unique_name_problems("organisation", record, ctx, record_id)
    fuller = record.get("fuller_name")
    if fuller is not None and fuller["name"] in (record["name"], *record["aliases"]):
        problems.append(("fuller_name", "the text writes it: it is the name or an alias"))
    return problems


WRITE: WriteSpec = dataclasses.replace(
    named_write(
        "organisation", OrganisationIn, ORGANISATION_KINDS, ("name_en", "region", "parent")
    ),
    rules=_rules,
)


RESOURCE = Resource(
    ORGANISATIONS,
    OrganisationDetail,
    load_detail,
    description="Bodies, companies, banks and alliances named.",
    detail_summary="Get an organisation with its initiatives and mentions",
    example_id="tai-long-yin-hang-li-shui-fen-hang",
    search=SearchText("name", ("name_en", "aliases"), derived=(display_name, fuller_name_text)),
    write=WRITE,
    seed=SEEDS,
)
