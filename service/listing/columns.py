"""What a column can hold (`ColumnType`), derived from its SQL type: filter values and cursor
keys are checked against it, so the database never sees a value it cannot take."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

# Numbers as the API accepts them: ASCII digits only (int(), Decimal() and friends also take
# Arabic-Indic, full-width and other Unicode digits, underscores and surrounding spaces).
INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?")
# Control characters (C0, DEL, C1) are refused in every parameter, at the edge too.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ColumnType:
    """What a column can hold, as far as parsing filter values and cursor keys cares."""

    kind: Literal["str", "int", "decimal", "bool"]
    nullable: bool = True
    # int: the largest magnitude (inclusive); decimal: the exclusive bound 10**(precision-scale).
    limit: int = 0
    scale: int = 0
    max_length: int | None = None

    def describe(self) -> str:
        if self.kind == "int":
            return f"an integer (ASCII digits) from {-self.limit - 1} to {self.limit}"
        if self.kind == "decimal":
            return (
                f"a decimal number (ASCII digits, optional exponent) greater than "
                f"-1e{len(str(self.limit)) - 1} and less than 1e{len(str(self.limit)) - 1}"
            )
        return "a " + self.kind


@functools.cache
def column_type(column: ColumnElement[Any]) -> ColumnType:
    """Derived from the column's SQL type (the stricter PostgreSQL ranges on every database)."""
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator's underlying type
    nullable = bool(getattr(column, "nullable", True))
    if isinstance(kind, sa.Boolean):
        return ColumnType("bool", nullable)
    if isinstance(kind, sa.Integer):
        bits = 16 if isinstance(kind, sa.SmallInteger) else 64
        bits = 32 if type(kind) is sa.Integer else bits
        return ColumnType("int", nullable, limit=2 ** (bits - 1) - 1)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        precision, scale = kind.precision or 28, kind.scale or 0
        return ColumnType("decimal", nullable, limit=10 ** (precision - scale), scale=scale)
    return ColumnType("str", nullable, max_length=getattr(kind, "length", None))
