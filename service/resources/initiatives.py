"""Initiatives: programmes, brands, apps, alliances and projects named in the sources."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.curation.bodies import Aliases, Long, Notes, NullReasons, Slug, fits
from service.listing.declare import detail_loader, list_spec
from service.listing.spec import (
    TEXT_OPS,
    FilterField,
    SortKey,
    linked_field,
    parent_field,
    region_field,
    role_field,
    vocabulary_field,
)
from service.models import ArticleInitiative, Initiative, table_of
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
from service.resources.resource import Resource, SearchText, named_write
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


class InitiativeOut(RecordOut):
    name: NameAsWritten
    display_name: DisplayName
    name_en: NameEn
    kind: Annotated[str, doc("Kind of initiative; see `enumerations.initiative_kinds`.")]
    summary: Annotated[str | None, doc("One-line curator summary.")]
    region: RegionRef
    parent: Annotated[str | None, doc("Id of the initiative this one belongs to.")]
    aliases: AliasesOut
    organisations: Annotated[list[RoleLink], doc("Organisations involved, with their role.")]


class InitiativeDetail(InitiativeOut, kw_only=True):
    """An initiative with every article mention (quote + span)."""

    mentions: MentionsOut


t = table_of(Initiative)
c = t.c
mentions = table_of(ArticleInitiative)


INITIATIVES = list_spec(
    "initiatives",
    InitiativeOut,
    t,
    convert={"display_name": display_name},
    load_extras=organisations_of,
    filters=[
        vocabulary_field("kind", c.kind, INITIATIVE_KINDS, "Kind of initiative", "app"),
        region_field(c.region_id),
        parent_field(c.parent_id, "Parent initiative id", "gong-fu-gong-fang"),
        FilterField("name", str, TEXT_OPS, "Chinese name", column=c.name),
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
    sort_keys=[
        SortKey("name", c.name, str),
        SortKey("kind", c.kind, str),
    ],
    searchable=True,
    default_sort="name",
)


load_detail = detail_loader(
    INITIATIVES, InitiativeDetail, mentions=mentions_of(mentions, "initiative_id")
)


# ---------------------------------------------------------------- writes


class InitiativeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new initiative. Omit `id` to derive it from the name (pinyin slug)."""

    name: Annotated[str, fits(Initiative, "name", 1)]
    kind: Annotated[str, fits(Initiative, "kind")]
    id: Slug | None = None
    name_en: Annotated[str, fits(Initiative, "name_en")] | None = None
    summary: Long | None = None
    region: Slug | None = None
    parent: Slug | None = None
    aliases: Aliases = []
    notes: Notes = []
    null_reasons: NullReasons = {}


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
    search=SearchText("name", ("name_en", "aliases", "summary"), derived=(display_name,)),
    write=WRITE,
)
