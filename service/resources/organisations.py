"""Organisations: government and party bodies, companies, banks, universities, alliances …"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.bodies import Aliases, Notes, NullReasons, Slug, fits, patch_type
from service.curation.rules import Context, Problems, Wire, unique_name_problems
from service.listing.controller import page_struct
from service.listing.spec import (
    KEY_OPS,
    RELATION_OPS,
    TEXT_OPS,
    FilterField,
    ListSpec,
    Relation,
    Row,
    SortKey,
    link_filter,
    region_field,
)
from service.listing.sql import fetch_item
from service.models import (
    Article,
    ArticleOrganisation,
    Initiative,
    InitiativeOrganisation,
    Organisation,
    table_of,
)
from service.resources.common import Mention, Span, doc
from service.resources.resource import Resource, SearchText, WriteSpec

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


class OrganisationOut(msgspec.Struct):
    id: Annotated[str, doc("Stable readable slug (pinyin); never reused.")]
    name: Annotated[str, doc("Name as written in the sources (Chinese).")]
    name_en: Annotated[str | None, doc("English name (curator's translation).")]
    kind: Annotated[str, doc("Kind of organisation; see `enumerations.organisation_kinds`.")]
    region: Annotated[str | None, doc("Region id (`/v1/regions/{id}`).")]
    parent: Annotated[str | None, doc("Id of the parent organisation.")]
    aliases: Annotated[list[str], doc("Other names used for it in the sources.")]
    notes: Annotated[list[str], doc("Curator notes: ambiguities, source defects, judgement calls.")]
    null_reasons: Annotated[
        dict[str, str], doc("Why each null field is null: field name → reason.")
    ]


class RoleLink(msgspec.Struct):
    """A link between an initiative and an organisation, with the organisation's role."""

    id: str
    name: str
    role: str


class OrganisationDetail(OrganisationOut):
    """An organisation with its initiatives and every article mention (quote + span)."""

    initiatives: Annotated[list[RoleLink], doc("Initiatives it takes part in, with its role.")]
    mentions: Annotated[list[Mention], doc("Every article mention, each with its quote and span.")]


OrganisationPage = page_struct("OrganisationPage", OrganisationOut, "A page of organisations.")


t = table_of(Organisation)
c = t.c
roles = table_of(InitiativeOrganisation)


def to_item(row: Row, _extras: Mapping[str, Any]) -> OrganisationOut:
    return OrganisationOut(
        id=row["id"],
        name=row["name"],
        name_en=row["name_en"],
        kind=row["kind"],
        region=row["region_id"],
        parent=row["parent_id"],
        aliases=row["aliases"],
        notes=row["notes"],
        null_reasons=row["null_reasons"],
    )


ORGANISATIONS: ListSpec[OrganisationOut] = ListSpec(
    resource="organisations",
    item_type=OrganisationOut,
    page_type=OrganisationPage,
    table=t,
    id_column=c.id,
    columns=list(c),
    to_item=to_item,
    filters=[
        FilterField("id", str, ("in",), "Organisation id", column=c.id),
        FilterField(
            "kind",
            str,
            ("eq", "in", "not"),
            "Kind of organisation",
            column=c.kind,
            enum=ORGANISATION_KINDS,
            example="bank",
            facet=True,
        ),
        region_field(c.region_id),
        FilterField(
            "parent", str, KEY_OPS, "Parent organisation id", column=c.parent_id, facet=True
        ),
        FilterField("name", str, TEXT_OPS, "Chinese name", column=c.name),
        FilterField("name_en", str, ("contains", "startswith"), "English name", column=c.name_en),
        FilterField(
            "article",
            str,
            RELATION_OPS,
            "Named in this article",
            build=link_filter(table_of(ArticleOrganisation), "organisation_id", "article_id", c.id),
        ),
        FilterField(
            "initiative",
            str,
            RELATION_OPS,
            "Takes part in this initiative",
            build=link_filter(roles, "organisation_id", "initiative_id", c.id),
            example="gong-fu-gong-fang",
        ),
    ],
    sort_keys=[
        SortKey("name", c.name, str),
        SortKey("kind", c.kind, str),
    ],
    relations={
        "region": Relation("region", "regions"),
        "parent": Relation("parent", "organisations"),
    },
    searchable=True,
    base_where=c.deleted_at.is_(None),
    default_sort="name",
)


async def load_organisation_links(conn: AsyncConnection, organisation_id: str) -> dict[str, Any]:
    initiative = table_of(Initiative)
    role_rows = await conn.execute(
        sa.select(initiative.c.id, initiative.c.name, roles.c.role)
        .join(initiative, initiative.c.id == roles.c.initiative_id)
        .where(roles.c.organisation_id == organisation_id, initiative.c.deleted_at.is_(None))
        .order_by(initiative.c.id, roles.c.role)
    )
    mention = table_of(ArticleOrganisation)
    article = table_of(Article)
    mention_rows = await conn.execute(
        sa.select(mention.c.article_id, mention.c.quote, mention.c.span_start, mention.c.span_end)
        .join(article, article.c.id == mention.c.article_id)
        .where(mention.c.organisation_id == organisation_id, article.c.deleted_at.is_(None))
        .order_by(article.c.document_id, mention.c.span_start)
    )
    return {
        "initiatives": [RoleLink(r.id, r.name, r.role) for r in role_rows],
        "mention_rows": list(mention_rows),
    }


async def load_detail(conn: AsyncConnection, organisation_id: str) -> OrganisationDetail | None:
    """The detail representation (also what writes return and the audit trail records)."""
    item = await fetch_item(conn, ORGANISATIONS, organisation_id)
    if item is None:
        return None
    extra = await load_organisation_links(conn, organisation_id)
    mentions = [
        Mention(item.id, item.name, r.article_id, r.quote, Span(r.span_start, r.span_end))
        for r in extra["mention_rows"]
    ]
    return OrganisationDetail(
        **msgspec.structs.asdict(item), initiatives=extra["initiatives"], mentions=mentions
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


def write_rules(record: Wire, ctx: Context, record_id: str) -> Problems:
    return unique_name_problems("organisation", record, ctx, record_id)


WRITE = WriteSpec(
    in_type=OrganisationIn,
    patch_type=patch_type(OrganisationIn, "OrganisationPatch"),
    kinds=ORGANISATION_KINDS,
    nullable=("name_en", "region", "parent"),
    required_text=("name",),
    slug_field="name",
    references={"region": "region", "parent": "organisation"},
    referrers=(("metric", "organisation_id"), ("organisation", "parent_id")),
    rules=write_rules,
)


RESOURCE = Resource(
    singular="organisation",
    tag="Organisations",
    description="Bodies, companies, banks and alliances named.",
    spec=ORGANISATIONS,
    detail_type=OrganisationDetail,
    load_detail=load_detail,
    list_summary="List organisations",
    detail_summary="Get an organisation with its initiatives and mentions",
    example_id="tai-long-yin-hang-li-shui-fen-hang",
    search=SearchText("name", ("name_en", "aliases")),
    write=WRITE,
)
