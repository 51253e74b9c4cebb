"""A resource's item Struct from a Core row, derived from the Struct and its table: a field is
the column of the same name, or `<field>_id` for a reference; `convert` builds the fields that
are not one column (spans, nested JSON); anything else comes from the page's extras (related
records loaded in one query per page, an empty list when none)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

Item = TypeVar("Item", bound=msgspec.Struct)
Row = Mapping[Any, Any]
Getter = Callable[[Row, Mapping[str, Any]], Any]


def _getter(name: str, table: sa.Table, convert: Mapping[str, Callable[[Row], Any]]) -> Getter:
    if name in convert:
        build = convert[name]
        return lambda row, _extras: build(row)
    for column in (name, f"{name}_id"):
        if column in table.c:
            return _column_getter(column)
    return lambda _row, extras: extras.get(name, [])


def _column_getter(column: str) -> Getter:
    return lambda row, _extras: row[column]


def row_mapper(
    item_type: type[Item],
    table: sa.Table,
    convert: Mapping[str, Callable[[Row], Any]] | None = None,
) -> Callable[[Row, Mapping[str, Any]], Item]:
    """`to_item` for a ListSpec. The getters are chosen once, here; a row costs one call each
    and a positional Struct construction."""
    getters = [_getter(f.name, table, convert or {}) for f in msgspec.structs.fields(item_type)]

    def to_item(row: Row, extras: Mapping[str, Any]) -> Item:
        return item_type(*[get(row, extras) for get in getters])

    return to_item
