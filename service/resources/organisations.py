"""Organisations: government and party bodies, companies, banks, universities, alliances …"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from service.curation.bodies import Slug, fits
from service.curation.rules import Context, Problems, Wire
from service.listing.declare import detail_loader
from service.listing.spec import FilterField, Row, linked_field
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


class OrganisationOut(NamedOut):
    fuller_name: Annotated[
        FullerName | None,
        doc(
            "A fuller name the text does not write, marked as curator knowledge (`q` finds it "
            "too); null when the written name is already the full one."
        ),
    ]
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


def _fuller_name(row: Row) -> FullerName | None:
    stored = row["fuller_name"]
    return FullerName(**stored) if stored else None


def fuller_name_text(row: Row) -> str:
    """The fuller name, for search."""
    stored: dict[str, Any] | None = row.get("fuller_name")
    return stored["name"] if stored else ""


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
    convert={"fuller_name": _fuller_name},
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
    fuller_name: FullerNameIn | None = None


def _fuller_name_rules(record: Wire, ctx: Context, record_id: str) -> Problems:
    """A fuller name is not one the record already has (seed/FORMAT.md, fuller-name: a name
    the text writes is the name or an alias)."""
    fuller = record.get("fuller_name")
    if fuller is not None and fuller["name"] in (record["name"], *record["aliases"]):
        return [("fuller_name", "the text writes it: it is the name or an alias")]
    return []


WRITE = named_write(
    "organisation",
    OrganisationIn,
    ORGANISATION_KINDS,
    ("name_en", "region", "parent"),
    own_rules=_fuller_name_rules,
)


RESOURCE = Resource(
    ORGANISATIONS,
    OrganisationDetail,
    load_detail,
    description="Bodies, companies, banks and alliances named.",
    detail_summary="Get an organisation with its initiatives and mentions",
    example_id="tai-long-yin-hang-li-shui-fen-hang",
    search=named_search(derived=(fuller_name_text,)),
    write=WRITE,
    seed=SEEDS,
)
