"""The type names the published descriptions use (the downloads' Table Schema, `/v1/meta`), one
table for both, so a column and the filter on it are never named two ways."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

TYPE_NAMES: dict[type[Any], str] = {
    bool: "boolean",
    int: "integer",
    Decimal: "number",
    float: "number",
}


def type_name(python: type[Any]) -> str:
    """The Python type's published name: text, and anything not listed, is a `string`."""
    return TYPE_NAMES.get(python, "string")
