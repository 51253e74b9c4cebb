"""Regions: Lishui city, its nine county-level divisions (GB/T 2260) and 丽水经开区."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.controller import page_struct
from service.listing.spec import (
    KEY_OPS,
    TEXT_OPS,
    FilterField,
    ListSpec,
    Relation,
    Row,
    SortKey,
    region_filter,
)
from service.listing.sql import fetch_item
from service.models import Region, table_of
from service.resources.common import doc
from service.resources.resource import Resource

REGION_LEVELS = ("province", "prefecture", "county", "development_zone")


class RegionOut(msgspec.Struct):
    """An administrative region. `code` is the GB/T 2260 division code."""

    id: Annotated[str, doc("Stable readable slug (pinyin); never reused.")]
    name: Annotated[str, doc("Name as written in the sources (Chinese).")]
    name_en: Annotated[str, doc("English name.")]
    level: Annotated[str, doc("Administrative level; see `enumerations.region_levels`.")]
    code: Annotated[str | None, doc("GB/T 2260 administrative division code.")]
    parent: Annotated[str | None, doc("Id of the enclosing region.")]
    aliases: Annotated[list[str], doc("Other names used for it in the sources.")]
    null_reasons: Annotated[
        dict[str, str], doc("Why each null field is null: field name → reason.")
    ]


RegionPage = page_struct("RegionPage", RegionOut, "A page of regions.")


t = table_of(Region)
c = t.c


def to_item(row: Row, _extras: Mapping[str, Any]) -> RegionOut:
    return RegionOut(
        id=row["id"],
        name=row["name"],
        name_en=row["name_en"],
        level=row["level"],
        code=row["code"],
        parent=row["parent_id"],
        aliases=row["aliases"],
        null_reasons=row["null_reasons"],
    )


REGIONS: ListSpec[RegionOut] = ListSpec(
    resource="regions",
    item_type=RegionOut,
    page_type=RegionPage,
    table=t,
    id_column=c.id,
    columns=list(c),
    to_item=to_item,
    filters=[
        FilterField("id", str, ("in",), "Region id", column=c.id),
        FilterField(
            "level",
            str,
            ("eq", "in", "not"),
            "Administrative level",
            column=c.level,
            enum=REGION_LEVELS,
            example="county",
            facet=True,
        ),
        FilterField(
            "parent",
            str,
            KEY_OPS,
            "Parent region id",
            column=c.parent_id,
            example="li-shui-shi",
            facet=True,
        ),
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
    relations={"parent": Relation("parent", "regions")},
    searchable=False,
    default_sort="level,name",
)


async def load_detail(conn: AsyncConnection, region_id: str) -> RegionOut | None:
    return await fetch_item(conn, REGIONS, region_id)


RESOURCE = Resource(
    singular="region",
    tag="Regions",
    description="Lishui city and its county-level divisions (GB/T 2260).",
    spec=REGIONS,
    detail_type=RegionOut,
    load_detail=load_detail,
    list_summary="List regions",
    detail_summary="Get a region",
    example_id="lian-du-qu",
)
