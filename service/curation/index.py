"""Search entries of curated records (service/fulltext.py), from the registry's `SearchText`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.fulltext import make_entry
from service.models import SearchEntry, table_of
from service.resources.resource import Resource

_entries = table_of(SearchEntry)


def search_entries(tables: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The text each searchable resource is found by (its `SearchText`; service/fulltext.py)."""
    from service.resources.registry import SEARCHABLE  # the registry imports this module's users

    rows: list[dict[str, Any]] = []
    for resource in SEARCHABLE:
        assert resource.search is not None
        for row in tables.get(resource.singular, []):
            title, parts = resource.search.texts(row)
            rows.append(make_entry(resource.name, row["id"], title, parts))
    return rows


async def refresh_entry(conn: AsyncConnection, resource: Resource, record_id: str) -> None:
    """Rewrite the record's search entry from its row (FTS5 triggers follow on SQLite)."""
    await conn.execute(
        sa.delete(_entries).where(
            _entries.c.resource == resource.name, _entries.c.record_id == record_id
        )
    )
    table = resource.spec.table
    current = (
        (await conn.execute(sa.select(table).where(table.c.id == record_id))).mappings().first()
    )
    if current is None or current["deleted_at"] is not None or resource.search is None:
        return
    title, parts = resource.search.texts(dict(current))
    await conn.execute(
        sa.insert(_entries).values(make_entry(resource.name, record_id, title, parts))
    )
