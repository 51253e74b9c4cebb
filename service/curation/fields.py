"""API field ↔ column, derived from a resource's In Struct and its table: a field is the column
of the same name, `X` is `X_id` for a reference, `span` is `span_start`/`span_end`; inside
JSON columns a nested `span` is stored as `[start, end]`; `value` (`msgspec.Raw` in the body,
exact decimal text in the record) is a Decimal column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa

from service.curation.rules import Wire

Columns = dict[str, Any]


def _stored(value: Any) -> Any:
    """A JSON column's value as stored: every nested `span` object as `[start, end]`."""
    if isinstance(value, list):
        return [_stored(item) for item in value]
    if isinstance(value, dict):
        return {
            k: [v["start"], v["end"]] if k == "span" and isinstance(v, dict) else _stored(v)
            for k, v in value.items()
        }
    return value


def wire_value(value: Any) -> Any:
    """The inverse of `_stored`."""
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    if isinstance(value, dict):
        return {
            k: {"start": v[0], "end": v[1]}
            if k == "span" and isinstance(v, list)
            else wire_value(v)
            for k, v in value.items()
        }
    return value


@dataclass(frozen=True)
class FieldMap:
    table: sa.Table
    in_type: type[msgspec.Struct]

    def column(self, name: str) -> str:
        """The column of a (non-span) field."""
        return name if name in self.table.c else f"{name}_id"

    def _fields(self) -> list[msgspec.structs.FieldInfo]:
        return [f for f in msgspec.structs.fields(self.in_type) if f.name != "id"]

    def columns(self, wire: Wire) -> Columns:
        """A record (the builtins view of the In Struct) as column values."""
        columns: Columns = {}
        for f in self._fields():
            value = wire[f.name]
            if f.name == "span":
                columns["span_start"], columns["span_end"] = value["start"], value["end"]
            elif f.type is msgspec.Raw:
                columns[self.column(f.name)] = Decimal(value) if value is not None else None
            else:
                columns[self.column(f.name)] = _stored(value)
        return columns

    def in_view(self, row: Mapping[str, Any]) -> Wire:
        """A stored row as the create body that would produce it (the base a patch merges into)."""
        wire: Wire = {"id": row["id"]}
        for f in self._fields():
            if f.name == "span":
                wire[f.name] = {"start": row["span_start"], "end": row["span_end"]}
            elif f.type is msgspec.Raw:
                wire[f.name] = str(row[self.column(f.name)])
            else:
                wire[f.name] = wire_value(row[self.column(f.name)])
        return wire
