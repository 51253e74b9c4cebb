"""Wire types shared by several resources."""

from __future__ import annotations

import msgspec


class Span(msgspec.Struct):
    """Character offsets (Unicode code points, end exclusive) into the document text."""

    start: int
    end: int


class Mention(msgspec.Struct):
    """Where a record is named in an article: the verbatim quote and its span."""

    id: str
    name: str
    article: str
    quote: str
    span: Span


def doc(text: str, unit: str | None = None) -> msgspec.Meta:
    """A field's documentation, declared on the field itself: OpenAPI shows it (with the unit),
    `/v1/meta` reads it back (`service/resources/meta.py`)."""
    if unit is None:
        return msgspec.Meta(description=text)
    return msgspec.Meta(description=f"{text} Unit: {unit}.", extra={"unit": unit})
