"""The SQL of a list: filter clauses, the keyset predicate, a page scan with its neighbour
cursors and counts, and one record by id (facets: service/listing/facets.py) — Core rows, no ORM hydration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Literal, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import ClauseAdapter

from service.fulltext import (
    matching_ids,
)
from service.listing.cursor import Cursor, cursor_value, encode_cursor, typed_key
from service.listing.envelope import Total
from service.listing.params import ListQuery
from service.listing.spec import FilterField, Item, ListSpec, Op, Row


def filter_clause(flt: FilterField, op: Op, value: Any) -> ColumnElement[bool]:
    if flt.build is not None:
        return flt.build(op, value)
    column = flt.column
    assert column is not None, f"filter {flt.name} has neither column nor builder"
    match op:
        case "eq":
            return cast(ColumnElement[bool], column == value)
        case "in":
            return column.in_(value)
        case "not":
            return column.is_distinct_from(value)
        case "gt":
            return cast(ColumnElement[bool], column > value)
        case "gte":
            return cast(ColumnElement[bool], column >= value)
        case "lt":
            return cast(ColumnElement[bool], column < value)
        case "lte":
            return cast(ColumnElement[bool], column <= value)
        case "contains":
            return column.icontains(value, autoescape=True)
        case "startswith":
            return column.istartswith(value, autoescape=True)
        case "isnull":
            return column.is_(None) if value else column.is_not(None)


def keyset_clause(
    keys: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]
) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order given by `keys` (column, descending)."""
    clauses: list[ColumnElement[bool]] = []
    for i, (column, descending) in enumerate(keys):
        equal_prefix = [keys[j][0] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(sa.and_(*equal_prefix, step))
    # A redundant bound on the leading key: the OR chain alone cannot use an index, so SQLite
    # would gather and sort every row after the cursor; with it both databases seek and stop.
    column, descending = keys[0]
    if values[0] is None:
        return sa.or_(*clauses)
    lead = column <= values[0] if descending else column >= values[0]
    return sa.and_(lead, sa.or_(*clauses))


def where_clauses(
    spec: ListSpec[Any], query: ListQuery, dialect: str, *, skip_field: str | None = None
) -> list[ColumnElement[bool]]:
    clauses = [
        filter_clause(spec.filter_by_name[c.field], c.op, c.value)
        for c in query.conditions
        if c.field != skip_field
    ]
    if spec.base_where is not None:
        clauses.append(spec.base_where)
    if query.search is not None:
        clauses.append(spec.id_column.in_(matching_ids(spec.resource, query.search, dialect)))
    return clauses


@dataclass(frozen=True, slots=True)
class PageResult(Generic[Item]):
    items: list[Item]
    next_cursor: str | None
    prev_cursor: str | None
    total: Total | None
    last_key: list[Any] | None = None  # sort-key values of the last row, for exports


async def scan_keyset(
    conn: AsyncConnection,
    stmt: sa.Select[Any],
    order_keys: Sequence[tuple[ColumnElement[Any], bool]],
    cursor: Cursor | None,
    values: Sequence[Any] | None,
    limit: int,
) -> tuple[list[Row], bool]:
    """One page of `stmt` after (or, for a prev cursor, before) `values` in `order_keys` order:
    the rows in display order, and whether more lie beyond them in the scan direction."""
    backwards = cursor is not None and cursor.direction == "prev"
    if values is not None:
        stmt = stmt.where(keyset_clause([(c, d != backwards) for c, d in order_keys], values))
    stmt = stmt.order_by(*((c.desc() if d != backwards else c.asc()) for c, d in order_keys))
    rows: list[Row] = list((await conn.execute(stmt.limit(limit + 1))).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    return rows, more


def neighbour_cursors(
    rows: Sequence[Row],
    more: bool,
    cursor: Cursor | None,
    key_of: Callable[[Row], list[Any]],
    binding: str,
    secret: bytes,
) -> tuple[str | None, str | None]:
    """Signed next/prev cursors for a page from `scan_keyset` (None where there is no page)."""
    backwards = cursor is not None and cursor.direction == "prev"
    has_next = more if not backwards else cursor is not None
    has_prev = more if backwards else cursor is not None

    def at(row: Row, direction: Literal["next", "prev"]) -> str:
        return encode_cursor(Cursor(direction, key_of(row), binding), secret)

    return (
        at(rows[-1], "next") if rows and has_next else None,
        at(rows[0], "prev") if rows and has_prev else None,
    )


async def fetch_page(
    conn: AsyncConnection, spec: ListSpec[Item], query: ListQuery, secret: bytes
) -> PageResult[Item]:
    where = where_clauses(spec, query, conn.dialect.name)
    order_keys: list[tuple[ColumnElement[Any], bool]] = [
        (key.column, desc) for key, desc in query.sort
    ]
    order_keys.append((spec.id_column, False))
    key_types = [key.type for key, _ in query.sort] + [str]

    keys = [col.label(f"_k{i}") for i, (col, _) in enumerate(order_keys)]
    values = None
    if query.cursor is not None:
        values = [typed_key(v, t) for v, t in zip(query.cursor.values, key_types, strict=True)]
    if conn.dialect.name == "postgresql" and (query.conditions or query.search):
        rows, more = await _rows_found_by_key(conn, spec, query, where, order_keys, values)
    else:
        stmt = sa.select(*spec.columns, *keys).select_from(spec.table)
        if where:
            stmt = stmt.where(*where)
        rows, more = await scan_keyset(conn, stmt, order_keys, query.cursor, values, query.limit)

    def key_of(row: Row) -> list[Any]:
        return [cursor_value(row[f"_k{i}"]) for i in range(len(order_keys))]

    next_cursor, prev_cursor = neighbour_cursors(
        rows, more, query.cursor, key_of, query.binding, secret
    )

    extras: dict[str, dict[str, Any]] = {}
    if spec.load_extras is not None and rows:
        extras = await spec.load_extras(conn, [row["id"] for row in rows])
    items = [spec.to_item(row, extras.get(row["id"], {})) for row in rows]

    forwards = query.cursor is None or query.cursor.direction == "next"
    last_key = key_of(rows[-1]) if rows and more and forwards else None
    return PageResult(items, next_cursor, prev_cursor, None, last_key)


async def _rows_found_by_key(
    conn: AsyncConnection,
    spec: ListSpec[Any],
    query: ListQuery,
    where: list[ColumnElement[bool]],
    order_keys: list[tuple[ColumnElement[Any], bool]],
    values: list[Any] | None,
) -> tuple[list[Row], bool]:
    """A filtered page on PostgreSQL: its ids found from the filters and sort keys alone, then
    its rows read by id. Selecting only indexed columns lets the planner answer the first query
    from a covering index; with every column selected it walked (unit, value, id) and fetched
    each row to test its region. Measured on the 1M bench (filtered-miss: unit, region, a value
    floor, sort -value; one combination has no match): 96k blocks read and 676 ms for that
    page, 44 rps for the scenario."""
    keys = [col.label(f"_k{i}") for i, (col, _) in enumerate(order_keys)]
    found = sa.select(spec.id_column.label("_id"), *keys).select_from(spec.table).where(*where)
    key_rows, more = await scan_keyset(conn, found, order_keys, query.cursor, values, query.limit)
    ids = [row["_id"] for row in key_rows]
    if not ids:
        return [], more
    stmt = sa.select(*spec.columns, *keys).select_from(spec.table)
    stmt = stmt.where(spec.id_column.in_(ids))
    if spec.base_where is not None:
        stmt = stmt.where(spec.base_where)
    by_id = {row["id"]: row for row in (await conn.execute(stmt)).mappings()}
    # A row deleted between the two queries is left out, as if the page had been read after.
    return [by_id[i] for i in ids if i in by_id], more


def _selected(spec: ListSpec[Any], query: ListQuery, dialect: str) -> sa.Select[Any]:
    """The rows the query selects (its filters and search; sort and cursor aside)."""
    stmt = sa.select(sa.literal(1).label("one")).select_from(spec.table)
    where = where_clauses(spec, query, dialect)
    return stmt.where(*where) if where else stmt


async def count_rows(conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery) -> int:
    """How many rows the query selects."""
    selected = _selected(spec, query, conn.dialect.name).subquery()
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(selected)) or 0)


# `count=estimated` counts exactly up to this many rows (a bounded scan), and estimates above.
EXACT_UP_TO = 10_000
# SQLite has no row estimate a query can read: the selectivity of the first rows by rowid
# (a primary-key range scan of at most this many rows) times the table's row count.
SAMPLE_ROWS = 20_000


async def estimate_rows(conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery) -> Total:
    """Exact when at most `EXACT_UP_TO` rows match; above, PostgreSQL's planner estimate or a
    SQLite sample — never a full count of a large result."""
    selected = _selected(spec, query, conn.dialect.name)
    capped = sa.select(sa.func.count()).select_from(selected.limit(EXACT_UP_TO + 1).subquery())
    found = int(await conn.scalar(capped) or 0)
    if found <= EXACT_UP_TO:
        return Total(found, "exact")
    if conn.dialect.name == "postgresql":
        estimate = await _planner_rows(conn, selected)
    else:
        estimate = await _sampled_rows(conn, spec, query)
    return Total(max(estimate, EXACT_UP_TO + 1), "estimated")


async def _planner_rows(conn: AsyncConnection, stmt: sa.Select[Any]) -> int:
    # `IN` lists are bound at execution ("expanding" parameters); EXPLAIN needs them rendered.
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    positions = compiled.positiontup or []
    params = tuple(compiled.params[name] for name in positions)
    result = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, params)
    plan = result.scalar_one()
    plan = msgspec.json.decode(plan) if isinstance(plan, str | bytes) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def sampled_count(spec: ListSpec[Any], query: ListQuery, window: int) -> sa.Select[Any]:
    """How many of the table's first `window` rows by rowid the query selects (SQLite).

    The rows are read as a primary-key range inside a subquery with a LIMIT: SQLite never
    flattens such a subquery into an outer query with a WHERE (its flattening rule 19), so a
    filter cannot pull the planner onto the filter's own index. Measured on the 1M bench
    (filtered-miss, a unit and a value range): the flat form walked ~400k entries of
    ix_metric_live_unit_value_region, 120 ms under load; the range reads 20k rows, 25 ms."""
    rowid: sa.ColumnElement[int] = sa.literal_column(f'"{spec.table.name}".rowid')
    sample = sa.select(*spec.table.c).where(rowid <= window).limit(window).subquery("sample")
    adapter = ClauseAdapter(sample)
    where = [adapter.traverse(clause) for clause in where_clauses(spec, query, "sqlite")]
    return sa.select(sa.func.count()).select_from(sample).where(*where)


async def _sampled_rows(conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery) -> int:
    table = spec.table
    rowid: sa.ColumnElement[int] = sa.literal_column(f'"{table.name}".rowid')
    rows = int(await conn.scalar(sa.select(sa.func.max(rowid)).select_from(table)) or 0)
    window = min(SAMPLE_ROWS, rows)
    if not window:
        return 0
    stmt = sampled_count(spec, query, window)
    hits = int(await conn.scalar(stmt) or 0)
    return round(hits / window * rows)


# The revision `fetch_item` read with the record, for this task (one request): the detail ETag
# takes it from there instead of a second query (on the 1M bench, SQLite, detail cache off: that
# query was 4 of the 9 driver thread hops of a request).
_READ_REVISION: ContextVar[tuple[str, str, int] | None] = ContextVar("read_revision", default=None)
# One statement per spec (the id is a bound parameter): built once, its cache key memoised.
_ITEM_QUERIES: dict[int, tuple[ListSpec[Any], sa.Select[Any]]] = {}


def _item_query(spec: ListSpec[Any]) -> sa.Select[Any]:
    known = _ITEM_QUERIES.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    stmt = sa.select(*spec.columns).select_from(spec.table)
    stmt = stmt.where(spec.id_column == sa.bindparam("record_id"))
    if spec.base_where is not None:
        stmt = stmt.where(spec.base_where)
    _ITEM_QUERIES[id(spec)] = (spec, stmt)
    return stmt


@dataclass(frozen=True, slots=True)
class _OneHop:
    """The item query as SQLite text, with the result processors SQLAlchemy would apply."""

    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def mapping(self, values: Sequence[Any]) -> dict[str, Any]:
        return {
            key: value if process is None or value is None else process(value)
            for key, process, value in zip(self.keys, self.processors, values, strict=True)
        }


_ONE_HOP: dict[int, tuple[ListSpec[Any], _OneHop | None]] = {}


def _one_hop(spec: ListSpec[Any], dialect: sa.Dialect) -> _OneHop | None:
    """The item query for aiosqlite's `execute_fetchall`: one hop to its thread instead of the
    four of a SQLAlchemy execute (cursor, execute, fetchall, close). Measured on the 1M bench
    (detail, cache off): most of a SQLite detail request was waiting on those hops. None when
    the statement binds anything but the id (then the SQLAlchemy path runs)."""
    known = _ONE_HOP.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    stmt = _item_query(spec)
    compiled = stmt.compile(dialect=dialect)
    one_hop = None
    if list(compiled.positiontup or []) == ["record_id"]:
        columns = list(stmt.selected_columns)
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        keys = tuple(stmt.selected_columns.keys())
        one_hop = _OneHop(compiled.string, keys, processors)
    _ONE_HOP[id(spec)] = (spec, one_hop)
    return one_hop


async def _item_row(conn: AsyncConnection, spec: ListSpec[Any], item_id: str) -> Row | None:
    if conn.dialect.name == "sqlite" and (one_hop := _one_hop(spec, conn.dialect)) is not None:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # an aiosqlite.Connection
        rows: list[Any] = list(await driver.execute_fetchall(one_hop.sql, (item_id,)))
        return one_hop.mapping(rows[0]) if rows else None
    result = await conn.execute(_item_query(spec), {"record_id": item_id})
    row: Row | None = result.mappings().first()
    return row


async def fetch_item(conn: AsyncConnection, spec: ListSpec[Item], item_id: str) -> Item | None:
    row = await _item_row(conn, spec, item_id)
    if row is None:
        return None
    if "revision" in row:
        _READ_REVISION.set((spec.table.name, item_id, int(row["revision"])))
    extras = await spec.load_extras(conn, [item_id]) if spec.load_extras else {}
    return spec.to_item(row, extras.get(item_id, {}))


def read_revision(spec: ListSpec[Any], item_id: str) -> int | None:
    """The revision of record `item_id` as `fetch_item` last read it in this request, if it did."""
    read = _READ_REVISION.get()
    if read is None or read[0] != spec.table.name or read[1] != item_id:
        return None
    return read[2]
