"""Facet counts, each computed once per (dataset version, field, the filters that apply to it).

A facet applies every filter but its own, so its counts depend only on the other filters and
the search: they are shared per field under that key, and a request that changes its page size,
cursor, sort or its own facet's filter reuses them (service/listing/counts.py keeps them until
the dataset version moves; concurrent identical misses wait for one query).

Under no filter or region filters only (the common way to browse), a facet is summed in Python
from the field's *cube*: the live rows counted per (region, value), read once per dataset
version with one ordered scan of an index led by (region, field) (migration 0011), so 12 region
choices x 6 fields cost 6 scans instead of 72 GROUP BYs over the table. Fields without such an
index, and any other filter or a search, run one GROUP BY per field.

Why: on the 1M-metric bench a request with two facets took ~10 s on SQLite (each GROUP BY read
every matching row to check `deleted_at`), and on PostgreSQL the requests queued behind them
timed out waiting for a pooled connection (503).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from service.listing.counts import SharedResults
from service.listing.envelope import Facets, FacetValue
from service.listing.limits import MAX_FACET_VALUES
from service.listing.params import Condition, ListQuery, canonical_conditions
from service.listing.spec import ListSpec, region_subtree
from service.listing.sql import where_clauses

REGION = "region"
# (region id, facet value) -> live rows; for the region facet itself the value is the region.
Cube = dict[tuple[Any, Any], int]


class FacetCounts:
    """The facets of one dataset version, shared by every request (`SharedResults`)."""

    def __init__(self, results: SharedResults[Any], version: Hashable) -> None:
        self.results, self.version = results, version

    async def facets(self, conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery) -> Facets:
        out: Facets = {}
        for name in query.facets:
            others = tuple(c for c in query.conditions if c.field != name)
            search = query.search.canonical if query.search else None
            selection = msgspec.json.encode([canonical_conditions(others), search])
            key = (self.version, spec.resource, "facet", name, selection)
            compute = functools.partial(self._facet, conn, spec, query, name, others)
            out[name] = await self.results.get(key, compute)
        return out

    async def _facet(
        self,
        conn: AsyncConnection,
        spec: ListSpec[Any],
        query: ListQuery,
        name: str,
        others: Sequence[Condition],
    ) -> list[FacetValue]:
        region = _cube_region(spec, name)
        if region is None or query.search is not None or any(c.field != REGION for c in others):
            return await grouped_facet(conn, spec, query, name)
        cube: Cube = await self.results.get(
            (self.version, spec.resource, "cube", name),
            functools.partial(_cube, conn, spec, name, region),
        )
        keep = await self._region_test(conn, others)
        counts: Counter[Any] = Counter()
        for (region_id, value), n in cube.items():
            if keep(region_id):
                counts[value] += n
        return top_values(counts.items())

    async def _region_test(
        self, conn: AsyncConnection, conditions: Sequence[Condition]
    ) -> Callable[[Any], bool]:
        """Whether a region id passes every region condition (the `region_filter` semantics:
        a region matches itself and every region inside it; NULL matches only `not`/`isnull`)."""
        tests: list[Callable[[Any], bool]] = []
        for condition in conditions:
            if condition.op == "isnull":
                tests.append(functools.partial(_is_null, wanted=bool(condition.value)))
                continue
            ids = condition.value if isinstance(condition.value, tuple) else (condition.value,)
            inside = await self._subtree(conn, tuple(str(i) for i in ids))
            excluded = condition.op == "not"
            tests.append(functools.partial(_in_subtree, inside=inside, excluded=excluded))
        return functools.partial(_passes, tests=tests)

    async def _subtree(self, conn: AsyncConnection, ids: tuple[str, ...]) -> frozenset[str]:
        async def read() -> frozenset[str]:
            return frozenset(str(r) for r in (await conn.scalars(region_subtree(ids))).all())

        subtree: frozenset[str] = await self.results.get((self.version, "subtree", ids), read)
        return subtree


def _is_null(region_id: Any, *, wanted: bool) -> bool:
    return (region_id is None) is wanted


def _in_subtree(region_id: Any, *, inside: frozenset[str], excluded: bool) -> bool:
    if excluded:  # `region__not`: outside the subtree, or no region at all
        return region_id is None or region_id not in inside
    return region_id in inside


def _passes(region_id: Any, *, tests: Sequence[Callable[[Any], bool]]) -> bool:
    return all(test(region_id) for test in tests)


def _cube_region(spec: ListSpec[Any], name: str) -> sa.Column[Any] | None:
    """The region column when an index of the table leads with (region, `name`'s column), so
    the cube is one ordered index scan; None otherwise (a GROUP BY per request selection)."""
    region = spec.filter_by_name.get(REGION)
    field = spec.filter_by_name[name]
    if region is None or not isinstance(region.column, sa.Column):
        return None
    if not isinstance(field.column, sa.Column) or field.column.table is not spec.table:
        return None
    wanted = [region.column.name] if name == REGION else [region.column.name, field.column.name]
    for index in spec.table.indexes:
        if [c.name for c in index.columns][: len(wanted)] == wanted:
            return region.column
    return None


async def _cube(
    conn: AsyncConnection, spec: ListSpec[Any], name: str, region: sa.Column[Any]
) -> Cube:
    column = spec.filter_by_name[name].column
    assert column is not None
    keys: list[ColumnElement[Any]] = [region] if name == REGION else [region, column]
    stmt = sa.select(*keys, sa.func.count()).select_from(spec.table).group_by(*keys)
    if spec.base_where is not None:
        stmt = stmt.where(spec.base_where)
    rows = (await conn.execute(stmt)).all()
    if name == REGION:
        return {(r[0], r[0]): int(r[1]) for r in rows}
    return {(r[0], r[1]): int(r[2]) for r in rows}


def top_values(counts: Any) -> list[FacetValue]:
    """The `MAX_FACET_VALUES` commonest values, as the SQL facet orders them: count
    descending, NULL last, then by value."""
    ranked = sorted(
        ((value, n) for value, n in counts if n > 0),
        key=lambda vn: (-vn[1], vn[0] is None, vn[0] if vn[0] is not None else 0),
    )
    return [FacetValue(value, n) for value, n in ranked[:MAX_FACET_VALUES]]


async def grouped_facet(
    conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery, name: str
) -> list[FacetValue]:
    """One facet by GROUP BY over the rows every other filter (and the search) selects."""
    column = spec.filter_by_name[name].column
    assert column is not None
    stmt = (
        sa.select(column.label("value"), sa.func.count().label("n"))
        .select_from(spec.table)
        .where(*where_clauses(spec, query, conn.dialect.name, skip_field=name))
        .group_by(column)
        .order_by(sa.desc("n"), column.is_(None), column)
        .limit(MAX_FACET_VALUES)
    )
    return [FacetValue(r.value, int(r.n)) for r in await conn.execute(stmt)]
