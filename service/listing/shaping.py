"""`fields=` (sparse fieldsets) and `expand=` (related records, one query per relation)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.listing.params import Shape
from service.listing.spec import REGISTRY, ListSpec
from service.web.wire import to_builtins


async def fetch_by_ids(
    conn: AsyncConnection, spec: ListSpec[Any], ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Records of one resource by id, as wire dicts, in two queries at most."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = sa.select(*spec.columns).select_from(spec.table).where(spec.id_column.in_(wanted))
    if spec.base_where is not None:
        stmt = stmt.where(spec.base_where)
    rows = list((await conn.execute(stmt)).mappings())
    extras = await spec.load_extras(conn, [r["id"] for r in rows]) if spec.load_extras else {}
    return {r["id"]: to_builtins(spec.to_item(r, extras.get(r["id"], {}))) for r in rows}


async def expand_items(
    conn: AsyncConnection,
    spec: ListSpec[Any],
    items: list[dict[str, Any]],
    paths: Sequence[tuple[str, ...]],
) -> None:
    """Attach `expanded[relation]` to each item: one query per relation and depth (no N+1)."""
    by_relation: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for path in paths:
        by_relation[path[0]].append(path[1:])
    for name, rest in by_relation.items():
        relation = spec.relations[name]
        target = REGISTRY[relation.resource]
        related = await fetch_by_ids(
            conn, target, (item[relation.field] for item in items if item.get(relation.field))
        )
        deeper = [p for p in rest if p]
        if deeper:
            await expand_items(conn, target, list(related.values()), deeper)
        for item in items:
            key = item.get(relation.field)
            item.setdefault("expanded", {})[name] = related.get(key) if key else None


async def shape_items(
    conn: AsyncConnection, spec: ListSpec[Any], items: Sequence[Any], shape: Shape
) -> list[Any]:
    if shape.plain:
        return list(items)
    shaped: list[dict[str, Any]] = [to_builtins(item) for item in items]
    if shape.expand:
        await expand_items(conn, spec, shaped, shape.expand)
    if shape.fields is not None:
        keep = shape.fields | ({"expanded"} if shape.expand else set())
        shaped = [{k: v for k, v in item.items() if k in keep} for item in shaped]
    return shaped
