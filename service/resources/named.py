"""Records known by a unique name (organisations, initiatives): the wire fields, list, search and
write fields they share. Each resource module declares the rest, which is its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

from service.curation.bodies import Aliases, Notes, NullReasons, Slug
from service.listing.declare import list_spec
from service.listing.spec import TEXT_OPS, FilterField, ListSpec, Row, SortKey, kind_region_parent
from service.resources.common import DisplayName, NameAsWritten, NameEn, RecordOut, display_name
from service.resources.links import place_field
from service.resources.resource import SearchText

Item = TypeVar("Item", bound=msgspec.Struct)


class NamedOut(RecordOut):
    """After `id`: the name as written, for display, and in English."""

    name: NameAsWritten
    display_name: DisplayName
    name_en: NameEn


class NamedIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a new named record may give after its own fields (keyword-only fields come last)."""

    region: Slug | None = None
    parent: Slug | None = None
    aliases: Aliases = []
    notes: Notes = []
    null_reasons: NullReasons = {}


def named_list_spec(
    resource: str,
    item_type: type[Item],
    table: sa.Table,
    *,
    kinds: tuple[str, ...],
    kind_example: str,
    parent: str,
    parent_example: str | None = None,
    filters: Sequence[FilterField],
    convert: Mapping[str, Callable[[Row], Any]] | None = None,
    **options: Any,
) -> ListSpec[Item]:
    """A named record's list: filters by kind, region, place, parent and name, then `filters`;
    sorted by name (or kind); searchable."""
    columns = table.c
    noun = resource.removesuffix("s")
    return list_spec(
        resource,
        item_type,
        table,
        convert={"display_name": display_name, **(convert or {})},
        filters=[
            *kind_region_parent(columns, noun, kinds, kind_example, parent, parent_example),
            place_field(resource, columns.id),
            FilterField("name", str, TEXT_OPS, "Chinese name", column=columns.name),
            *filters,
        ],
        sort_keys=[SortKey("name", columns.name, str), SortKey("kind", columns.kind, str)],
        searchable=True,
        default_sort="name",
        **options,
    )


def named_search(
    *more: str, derived: Sequence[Callable[[Mapping[str, Any]], str]] = ()
) -> SearchText:
    """Search by the name, its English form, the aliases and `more`, the display name and what
    `derived` adds."""
    return SearchText("name", ("name_en", "aliases", *more), derived=(display_name, *derived))
