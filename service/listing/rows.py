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
    and a Struct construction, positional but for keyword-only fields (`RecordOut`'s)."""
    getters = [_getter(f.name, table, convert or {}) for f in msgspec.structs.fields(item_type)]
    positional = len(item_type.__match_args__)
    by_name = list(zip(item_type.__struct_fields__[positional:], getters[positional:], strict=True))
    getters = getters[:positional]

    def to_item(row: Row, extras: Mapping[str, Any]) -> Item:
        keywords = {name: get(row, extras) for name, get in by_name}
        return item_type(*[get(row, extras) for get in getters], **keywords)

    return to_item
