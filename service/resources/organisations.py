"""Organisations: government and party bodies, companies, banks, universities, alliances …"""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.curation.bodies import Aliases, Notes, NullReasons, Slug, fits
from service.listing.declare import detail_loader, list_spec
from service.listing.spec import (
    TEXT_OPS,
    FilterField,
    SortKey,
    linked_field,
    parent_field,
    region_field,
    vocabulary_field,
)
from service.models import ArticleOrganisation, Organisation, table_of
from service.resources.common import (
    AliasesOut,
    DisplayName,
    MentionsOut,
    NameAsWritten,
    NameEn,
    RecordOut,
    RegionRef,
    display_name,
    doc,
    mentions_of,
)
from service.resources.relations import SEEDS, TypedRelation, load_relations
from service.resources.resource import Resource, SearchText, named_write
from service.resources.roles import RoleLink, initiatives_of, roles

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


class OrganisationOut(RecordOut):
    name: NameAsWritten
    display_name: DisplayName
    name_en: NameEn
    kind: Annotated[str, doc("Kind of organisation; see `enumerations.organisation_kinds`.")]
    region: RegionRef
    parent: Annotated[str | None, doc("Id of the parent organisation.")]
    aliases: AliasesOut


class OrganisationDetail(OrganisationOut, kw_only=True):
    """An organisation with its initiatives and every article mention (quote + span)."""

    initiatives: Annotated[list[RoleLink], doc("Initiatives it takes part in, with its role.")]
    relations: Annotated[
        list[TypedRelation],
        doc("What it is to initiatives and figures (builder, endorser, source …), each quoted."),
    ]
    mentions: MentionsOut


t = table_of(Organisation)
c = t.c
mentions = table_of(ArticleOrganisation)


ORGANISATIONS = list_spec(
    "organisations",
    OrganisationOut,
    t,
    convert={"display_name": display_name},
    filters=[
        vocabulary_field("kind", c.kind, ORGANISATION_KINDS, "Kind of organisation", "bank"),
        region_field(c.region_id),
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


load_detail = detail_loader(
    ORGANISATIONS,
    OrganisationDetail,
    initiatives=lambda conn, organisation_id, _item: initiatives_of(conn, organisation_id),
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
    region: Slug | None = None
    parent: Slug | None = None
    aliases: Aliases = []
    notes: Notes = []
    null_reasons: NullReasons = {}


WRITE = named_write(
    "organisation", OrganisationIn, ORGANISATION_KINDS, ("name_en", "region", "parent")
)


RESOURCE = Resource(
    ORGANISATIONS,
    OrganisationDetail,
    load_detail,
    description="Bodies, companies, banks and alliances named.",
    detail_summary="Get an organisation with its initiatives and mentions",
    example_id="tai-long-yin-hang-li-shui-fen-hang",
    search=SearchText("name", ("name_en", "aliases"), derived=(display_name,)),
    write=WRITE,
    seed=SEEDS,
)
