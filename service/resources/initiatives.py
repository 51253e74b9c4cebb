"""Initiatives: programmes, brands, apps, alliances and projects named in the sources."""

from __future__ import annotations

from typing import Annotated

from service.curation.bodies import Long, Slug, fits
from service.listing.declare import detail_loader
from service.listing.spec import linked_field, role_field
from service.models import ArticleInitiative, Initiative, table_of
from service.resources.common import AliasesOut, RegionRef, doc, mentions_of, with_mentions
from service.resources.named import NamedIn, NamedOut, named_list_spec, named_search
from service.resources.resource import Resource, named_write
from service.resources.roles import ROLES, RoleLink, organisations_of, roles

INITIATIVE_KINDS = (
    "alliance",
    "workshop",
    "brand",
    "app",
    "platform",
    "programme",
    "project",
    "event",
    "system",
    "product",
    "policy",
)


class InitiativeOut(NamedOut):
    kind: Annotated[str, doc("Kind of initiative; see `enumerations.initiative_kinds`.")]
    summary: Annotated[str | None, doc("One-line curator summary.")]
    region: RegionRef
    parent: Annotated[str | None, doc("Id of the initiative this one belongs to.")]
    aliases: AliasesOut
    organisations: Annotated[list[RoleLink], doc("Organisations involved, with their role.")]


InitiativeDetail = with_mentions(
    InitiativeOut, "An initiative with every article mention (quote + span)."
)


t = table_of(Initiative)
c = t.c
mentions = table_of(ArticleInitiative)


INITIATIVES = named_list_spec(
    "initiatives",
    InitiativeOut,
    t,
    kinds=INITIATIVE_KINDS,
    kind_example="app",
    parent="Parent initiative id",
    parent_example="gong-fu-gong-fang",
    load_extras=organisations_of,
    filters=[
        linked_field(
            "organisation", "Has this organisation in any role", roles, "initiative_id", c.id
        ),
        role_field(
            "organisation_role",
            "Has an organisation in this role",
            roles,
            "initiative_id",
            c.id,
            ROLES,
        ),
        linked_field("article", "Named in this article", mentions, "initiative_id", c.id),
    ],
)


load_detail = detail_loader(
    INITIATIVES, InitiativeDetail, mentions=mentions_of(mentions, "initiative_id")
)


# ---------------------------------------------------------------- writes


class InitiativeIn(NamedIn):
    """A new initiative. Omit `id` to derive it from the name (pinyin slug)."""

    name: Annotated[str, fits(Initiative, "name", 1)]
    kind: Annotated[str, fits(Initiative, "kind")]
    id: Slug | None = None
    name_en: Annotated[str, fits(Initiative, "name_en")] | None = None
    summary: Long | None = None


WRITE = named_write(
    "initiative", InitiativeIn, INITIATIVE_KINDS, ("name_en", "summary", "region", "parent")
)


RESOURCE = Resource(
    INITIATIVES,
    InitiativeDetail,
    load_detail,
    description="Programmes, brands, apps and projects the articles name.",
    detail_summary="Get an initiative with its mentions",
    example_id="liu-dong-gong-xiao-gong-fu-che",
    search=named_search("summary"),
    write=WRITE,
)
