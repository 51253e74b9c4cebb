"""JSON as the service sends it: a `Decimal` is an exact JSON number printed from the stored
value (`682`, `7380.44`, `134000000`), never a float (`682.0`) and never a string.

msgspec writes a `Decimal` as a string unless told otherwise, and Litestar's `Response` gives no
way to tell it, so every JSON body goes through `encode` here: `WireResponse` for responses
(the app's `response_class`, and what handlers that build a response themselves construct),
`encode` for streamed lines. `DecimalAsNumber` documents such a field as what it is on the
wire, `type: number` (Litestar's default schema for `Decimal` is a string).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from litestar import Response
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.serialization import default_serializer
from litestar.typing import FieldDefinition

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_JSON = re.compile(r"^application/(?:.+\+)?json")


def encode(value: Any) -> bytes:
    """JSON bytes with decimals as numbers."""
    return _ENCODER.encode(value)


def to_builtins(value: Any) -> Any:
    """Structs → dicts and lists, keeping each `Decimal` (for `encode`, or `str()` in CSV)."""
    return msgspec.to_builtins(value, builtin_types=(Decimal,))


def to_plain_json(value: Any) -> Any:
    """Plain JSON values (decimals become int or float): for a JSON column or an OpenAPI
    example, which cannot hold a `Decimal`."""
    return msgspec.json.decode(encode(value))


@functools.lru_cache(maxsize=8)
def _encoder(enc_hook: Callable[[Any], Any]) -> msgspec.json.Encoder:
    return msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="number")


class WireResponse(Response[T]):
    """A `Response` whose JSON bodies print decimals as numbers (see the module doc)."""

    def render(
        self,
        content: Any,
        media_type: str,
        enc_hook: Callable[[Any], Any] = default_serializer,
    ) -> bytes:
        if isinstance(content, bytes | str) or not _JSON.match(media_type):
            return super().render(content, media_type, enc_hook)
        return _encoder(enc_hook).encode(content)


class DecimalAsNumber(OpenAPISchemaPlugin):
    """OpenAPI: a `Decimal` field is a JSON number (the app's plugins list)."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is Decimal

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(type=OpenAPIType.NUMBER)
