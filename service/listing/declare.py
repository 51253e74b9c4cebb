"""`list_spec`: a ListSpec from what only the resource knows. The rest is derived the same way
for every resource: its page Struct (`<Item>Page`), the `id` column and its `id__in` filter
(the first filter), the row mapper (`listing/rows.py`), every column of its table unless
`columns` narrows it, `expand=` for each field whose `<field>_id` column is a foreign key (to
the resource `<table>s`), and, where the table has `deleted_at`, that reads see only live
records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from service.listing.controller import page_struct
from service.listing.rows import Row, row_mapper
from service.listing.spec import FilterField, ListSpec, Relation, SortKey, id_field
from service.listing.sql import fetch_item

Item = TypeVar("Item", bound=msgspec.Struct)
Detail = TypeVar("Detail", bound=msgspec.Struct)
# One part of a detail representation: (connection, record id, list item) -> its value.
DetailPart = Callable[[AsyncConnection, str, Any], Awaitable[Any]]


def list_spec(
    resource: str,
    item_type: type[Item],
    table: sa.Table,
    *,
    filters: Sequence[FilterField],
    sort_keys: Sequence[SortKey],
    default_sort: str,
    convert: Mapping[str, Callable[[Row], Any]] | None = None,
    columns: Sequence[ColumnElement[Any]] | None = None,
    **options: Any,
) -> ListSpec[Item]:
    name = item_type.__name__.removesuffix("Out")
    if "deleted_at" in table.c:
        options.setdefault("base_where", table.c.deleted_at.is_(None))
    options.setdefault("relations", foreign_key_relations(item_type, table))
    return ListSpec(
        resource=resource,
        item_type=item_type,
        page_type=page_struct(f"{name}Page", item_type, f"A page of {resource}."),
        table=table,
        id_column=table.c.id,
        columns=list(table.c) if columns is None else columns,
        to_item=row_mapper(item_type, table, convert),
        filters=[id_field(table.c.id, name), *filters],
        sort_keys=sort_keys,
        default_sort=default_sort,
        **options,
    )


def foreign_key_relations(item_type: type[msgspec.Struct], table: sa.Table) -> dict[str, Relation]:
    """`expand=<field>` for each item field stored as a foreign key `<field>_id`."""
    relations: dict[str, Relation] = {}
    for item_field in msgspec.structs.fields(item_type):
        column = table.c.get(f"{item_field.name}_id")
        for key in column.foreign_keys if column is not None else ():
            relations[item_field.name] = Relation(item_field.name, f"{key.column.table.name}s")
    return relations


def detail_loader(
    spec: ListSpec[Any], detail_type: type[Detail], **parts: DetailPart
) -> Callable[[AsyncConnection, str], Awaitable[Detail | None]]:
    """The detail representation (also what writes return and the audit trail records): the
    record as its list shows it, plus each of `parts` loaded for this one record."""

    async def load(conn: AsyncConnection, record_id: str) -> Detail | None:
        item = await fetch_item(conn, spec, record_id)
        if item is None:
            return None
        extra = {name: await part(conn, record_id, item) for name, part in parts.items()}
        return detail_type(**msgspec.structs.asdict(item), **extra)

    return load
