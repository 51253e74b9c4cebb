"""Links from curated side data (places, relations, recognitions) to a record of any resource,
held as (resource, record id): the wire type, and which of them are live."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.spec import RELATION_OPS, FilterField, link_filter
from service.models import PlaceLink, table_of
from service.resources.common import doc


class RecordRef(msgspec.Struct):
    """A record of any resource: `/v1/{resource}/{id}`."""

    resource: Annotated[str, doc("Resource name (`initiatives`, `metrics` …).")]
    id: Annotated[str, doc("The record's id.")]


def place_field(resource: str, owner_id: sa.ColumnElement[str]) -> FilterField:
    """`place=X`: the records of `resource` the text places in place X (a village, town, park
    …; `/v1/places`) — their `region` stays the county, so this is the finer filter."""
    return FilterField(
        "place",
        str,
        RELATION_OPS,
        "Id of a place below county level that the text places it in (`/v1/places/{id}`)",
        build=link_filter(
            table_of(PlaceLink), "record_id", "place_id", owner_id, resource=resource
        ),
        example="xian-du-xiang",
    )


async def live_records(
    conn: AsyncConnection, refs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The (resource, id) pairs naming a record every read sees (not soft-deleted): one query
    per resource."""
    from service.resources.registry import BY_NAME  # the registry imports this module's users

    wanted: dict[str, list[str]] = defaultdict(list)
    for resource, record_id in refs:
        wanted[resource].append(record_id)
    live: set[tuple[str, str]] = set()
    for name, ids in wanted.items():
        spec = BY_NAME[name].spec
        stmt = sa.select(spec.id_column).where(spec.id_column.in_(ids))
        if spec.base_where is not None:
            stmt = stmt.where(spec.base_where)
        live.update((name, record_id) for record_id in (await conn.execute(stmt)).scalars())
    return live
