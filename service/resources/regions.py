"""Regions: Lishui city, its nine county-level divisions (GB/T 2260) and 丽水经开区."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.listing.declare import detail_loader, list_spec
from service.listing.spec import (
    KEY_OPS,
    TEXT_OPS,
    FilterField,
    SortKey,
    parent_field,
    region_filter,
    vocabulary_field,
)
from service.models import Region, table_of
from service.resources.common import AliasesOut, NameAsWritten, NullReasonsOut, RecordId, doc
from service.resources.resource import Resource

REGION_LEVELS = ("province", "prefecture", "county", "development_zone")


class RegionOut(msgspec.Struct):
    """An administrative region. `code` is the GB/T 2260 division code."""

    id: RecordId
    name: NameAsWritten
    name_en: Annotated[str, doc("English name.")]
    level: Annotated[str, doc("Administrative level; see `enumerations.region_levels`.")]
    code: Annotated[str | None, doc("GB/T 2260 administrative division code.")]
    parent: Annotated[str | None, doc("Id of the enclosing region.")]
    aliases: AliasesOut
    null_reasons: NullReasonsOut


t = table_of(Region)
c = t.c


REGIONS = list_spec(
    "regions",
    RegionOut,
    t,
    filters=[
        vocabulary_field("level", c.level, REGION_LEVELS, "Administrative level", "county"),
        parent_field(c.parent_id, "Parent region id", "li-shui-shi"),
        FilterField(
            "within",
            str,
            ("eq", "in"),
            "Region id; matches it and every region inside it",
            column=c.id,
            build=region_filter(c.id),
            example="li-shui-shi",
        ),
        FilterField("code", str, KEY_OPS, "GB/T 2260 code", column=c.code, example="331102"),
        FilterField("name", str, TEXT_OPS, "Chinese name", column=c.name, example="莲都区"),
    ],
    sort_keys=[
        SortKey("name", c.name, str),
        SortKey("level", c.level, str),
    ],
    searchable=False,
    default_sort="level,name",
)


load_detail = detail_loader(REGIONS, RegionOut)


RESOURCE = Resource(
    REGIONS,
    RegionOut,
    load_detail,
    description="Lishui city and its county-level divisions (GB/T 2260).",
    detail_summary="Get a region",
    example_id="lian-du-qu",
)
