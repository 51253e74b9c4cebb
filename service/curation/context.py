"""The rules' `Context` for a write: the facts one record needs, fetched from the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from service.curation.rules import Facts, Wire
from service.resources.resource import WriteSpec


def table_named(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


async def live_row(conn: AsyncConnection, table: str, record_id: str) -> Mapping[Any, Any] | None:
    t = table_named(table)
    stmt = sa.select(t).where(t.c.id == record_id)
    if "deleted_at" in t.c:
        stmt = stmt.where(t.c.deleted_at.is_(None))
    return (await conn.execute(stmt)).mappings().first()


async def _text(conn: AsyncConnection, document_id: str) -> str | None:
    documents = table_named("document")
    text = await conn.scalar(sa.select(documents.c.text).where(documents.c.id == document_id))
    return text if isinstance(text, str) else None


async def facts_for(
    conn: AsyncConnection, table: str, write: WriteSpec, wire: Wire, record_id: str
) -> Facts:
    """What the rules may ask about `wire`: its references that are live, records of `table`
    holding its name, its document's text, its article's span and repairs (live articles only)
    and, for a metric, the article's other live metrics."""
    facts = Facts(missing_note=" (or it is deleted)")
    for name, target in write.references.items():
        value = wire.get(name)
        if value is not None and await live_row(conn, target, value) is not None:
            facts.ids.setdefault(target, set()).add(value)
    t = table_named(table)
    if "name" in wire and "name" in t.c:
        clash = await conn.scalar(
            sa.select(t.c.id).where(t.c.name == wire["name"], t.c.id != record_id).limit(1)
        )
        if clash is not None:
            facts.names[table] = {wire["name"]: [clash]}
    if wire.get("document") is not None:
        text = await _text(conn, wire["document"])
        if text is not None:
            facts.texts[wire["document"]] = text
    if wire.get("article") is not None:
        article = await live_row(conn, "article", wire["article"])
        if article is not None:
            span = (article["document_id"], article["span_start"], article["span_end"])
            facts.articles[wire["article"]] = span
            facts.texts[span[0]] = await _text(conn, span[0]) or ""
            facts.repairs[wire["article"]] = list(article["repairs"] or [])
            if table == "metric":
                facts.figures[wire["article"]] = await _article_metrics(conn, wire["article"])
    return facts


async def _article_metrics(conn: AsyncConnection, article_id: str) -> list[dict[str, Any]]:
    """The article's live metrics (the figure rules compare a figure with its sentence's)."""
    t = table_named("metric")
    stmt = sa.select(t).where(t.c.article_id == article_id, t.c.deleted_at.is_(None))
    return [dict(row) for row in (await conn.execute(stmt)).mappings()]
