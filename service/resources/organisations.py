"""Organisations: government and party bodies, companies, banks, universities, alliances …"""

from __future__ import annotations

from typing import Annotated

from service.curation.bodies import Slug, fits
from service.listing.declare import detail_loader
from service.listing.spec import FilterField, linked_field
from service.models import ArticleOrganisation, Organisation, table_of
from service.resources.common import AliasesOut, MentionsOut, RegionRef, doc, mentions_of
from service.resources.named import NamedIn, NamedOut, named_list_spec, named_search
from service.resources.relations import SEEDS, TypedRelation, load_relations
from service.resources.resource import Resource, named_write
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


class OrganisationOut(NamedOut):
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


ORGANISATIONS = named_list_spec(
    "organisations",
    OrganisationOut,
    t,
    kinds=ORGANISATION_KINDS,
    kind_example="bank",
    parent="Parent organisation id",
    filters=[
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
)


load_detail = detail_loader(
    ORGANISATIONS,
    OrganisationDetail,
    initiatives=lambda conn, organisation_id, _item: initiatives_of(conn, organisation_id),
    relations=load_relations,
    mentions=mentions_of(mentions, "organisation_id"),
)


# ---------------------------------------------------------------- writes


class OrganisationIn(NamedIn):
    """A new organisation. Omit `id` to derive it from the name (pinyin slug)."""

    name: Annotated[str, fits(Organisation, "name", 1)]
    kind: Annotated[str, fits(Organisation, "kind")]
    id: Slug | None = None
    name_en: Annotated[str, fits(Organisation, "name_en")] | None = None


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
    search=named_search(),
    write=WRITE,
    seed=SEEDS,
)
