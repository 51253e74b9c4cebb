"""`list_spec`: a ListSpec from what only the resource knows. The rest is derived the same way
for every resource: its page Struct (`<Item>Page`), the `id` column, the row mapper
(`listing/rows.py`), and every column of its table unless `columns` narrows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from service.listing.controller import page_struct
from service.listing.rows import Row, row_mapper
from service.listing.spec import FilterField, ListSpec, SortKey

Item = TypeVar("Item", bound=msgspec.Struct)


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
    return ListSpec(
        resource=resource,
        item_type=item_type,
        page_type=page_struct(f"{name}Page", item_type, f"A page of {resource}."),
        table=table,
        id_column=table.c.id,
        columns=list(table.c) if columns is None else columns,
        to_item=row_mapper(item_type, table, convert),
        filters=filters,
        sort_keys=sort_keys,
        default_sort=default_sort,
        **options,
    )
