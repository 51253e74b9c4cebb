"""`format=csv|ndjson`: every matching row streamed in keyset batches."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

from litestar import Request

from service.listing.cursor import Cursor
from service.listing.params import ListQuery, Shape
from service.listing.shaping import shape_items
from service.listing.spec import EXPORT_BATCH, ListSpec
from service.listing.sql import fetch_page
from service.web.wire import encode, to_builtins


def flatten_item(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One CSV row: nested objects become `a.b` columns, lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in {"null_reasons", "expanded"}:
            flat.update(flatten_item(value, f"{name}."))
        elif isinstance(value, list | dict):
            flat[name] = encode(value).decode() if value else ""
        elif value is None:
            flat[name] = ""
        else:
            flat[name] = value
    return flat


async def export_lines(
    request: Request[Any, Any, Any], spec: ListSpec[Any], query: ListQuery, secret: bytes
) -> AsyncIterator[bytes]:
    """Every matching row, in keyset batches on a connection of its own (the request's
    connection is released when the handler returns, before the body is streamed)."""
    engine = request.app.state.engine
    batch = dataclasses.replace(query, limit=EXPORT_BATCH, count="none", cursor=None)
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    async with engine.connect() as conn:
        while True:
            result = await fetch_page(conn, spec, batch, secret)
            items = await shape_items(conn, spec, result.items, query.shape)
            if query.export == "ndjson":
                yield b"".join(encode(item) + b"\n" for item in items)
            else:
                rows = [flatten_item(to_builtins(item)) for item in items]
                if writer is None:
                    header = list(rows[0]) if rows else _csv_header(spec, query.shape)
                    writer = csv.DictWriter(buffer, header, extrasaction="ignore")
                    writer.writeheader()
                writer.writerows(rows)
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
            if result.last_key is None:
                return
            batch = dataclasses.replace(
                batch, cursor=Cursor("next", result.last_key, query.binding)
            )


def _csv_header(spec: ListSpec[Any], shape: Shape) -> list[str]:
    return [n for n in spec.field_names if shape.fields is None or n in shape.fields]
