"""Sync the curated tables into the database: diff-based and idempotent (only differences are
written, so a second run changes nothing; a record removed from the files is removed from the
database), curator edits kept unless forced. The dataset version (used for ETags and caches)
only moves when the content changes."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import create_engine
from service.models import Dataset, SearchEntry, dataset_tables, table_of
from service.seed.reader import SEED_DIR, Curated, read_curated

# Parents before children; the search entries follow from the records.
TABLES: list[sa.Table] = [*dataset_tables(), table_of(SearchEntry)]


# Tables the write API edits: resource name of each. A row with `curator_edited` set is left
# alone by `sync` (not updated, not deleted, its search entry kept) unless `force=True`.
CURATED_TABLES = {
    "article": "articles",
    "organisation": "organisations",
    "initiative": "initiatives",
    "metric": "metrics",
}


@dataclass
class SyncReport:
    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    version: int = 0
    changed: bool = False
    # One line per curator-edited record whose file version differs from the database.
    conflicts: list[str] = field(default_factory=list)
    # Curator-edited records left alone (conflicting or not), per table.
    kept: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = [
            f"{table}: +{self.inserted[table]} ~{self.updated[table]} -{self.deleted[table]}"
            for table in sorted(set(self.inserted) | set(self.updated) | set(self.deleted))
        ]
        state = "changed" if self.changed else "unchanged"
        text = f"dataset version {self.version} ({state})" + (
            "; " + ", ".join(parts) if parts else ""
        )
        if self.kept:
            kept = ", ".join(f"{t}: {n}" for t, n in sorted(self.kept.items()))
            text += f"\ncurator-edited records kept: {kept}"
        if self.conflicts:
            text += (
                f"\n{len(self.conflicts)} conflict(s): the files differ from curator edits "
                "(kept the database's version; `load --force` takes the files'):\n  "
                + "\n  ".join(self.conflicts)
            )
        return text


def _key(table: sa.Table, row: Any) -> tuple[Any, ...]:
    return tuple(row[col.name] for col in table.primary_key.columns)


def content_hash(tables: dict[str, list[dict[str, Any]]]) -> str:
    canonical = msgspec.json.encode(
        {
            name: sorted(rows, key=lambda r: msgspec.json.encode(r, order="sorted"))
            for name, rows in tables.items()
        },
        enc_hook=str,
        order="sorted",
    )
    return hashlib.sha256(canonical).hexdigest()


async def sync(conn: AsyncConnection, curated: Curated, *, force: bool = False) -> SyncReport:
    """Make the database match `curated`, writing only the differences, in one transaction.

    Records edited through the write API (`curator_edited`) are left alone — neither updated
    nor deleted, and their search entries kept — and each one the files disagree with is
    reported in `SyncReport.conflicts`. `force=True` takes the files' version of everything:
    curator edits are overwritten, restored if soft-deleted, and records only the API created
    are deleted.
    """
    report = SyncReport()
    pending_deletes: list[tuple[sa.Table, list[tuple[Any, ...]]]] = []
    protected_entries: set[tuple[str, str]] = set()
    for table in TABLES:
        stale = await _sync_table(conn, table, curated, report, protected_entries, force)
        if stale:
            pending_deletes.append((table, stale))
    # Children before parents, and within a self-referencing table, deepest first.
    for table, stale in reversed(pending_deletes):
        key_columns = list(table.primary_key.columns)
        for key in reversed(
            _delete_order(table, stale, existing_parent=await _parents(conn, table))
        ):
            await conn.execute(
                sa.delete(table).where(*(col == key[i] for i, col in enumerate(key_columns)))
            )
            report.deleted[table.name] += 1
    await _record_version(conn, content_hash(curated.tables), report, force)
    return report


async def _sync_table(
    conn: AsyncConnection,
    table: sa.Table,
    curated: Curated,
    report: SyncReport,
    protected_entries: set[tuple[str, str]],
    force: bool,
) -> list[tuple[Any, ...]]:
    """Insert and update one table's rows; the keys of its rows the files no longer have."""
    desired = curated.tables[table.name]
    existing = {
        _key(table, row): dict(row) for row in (await conn.execute(sa.select(table))).mappings()
    }
    curated_table = table.name in CURATED_TABLES
    protected: set[tuple[Any, ...]] = set()
    if curated_table and not force:
        protected = {key for key, row in existing.items() if row["curator_edited"]}
        protected_entries.update((CURATED_TABLES[table.name], key[0]) for key in protected)
        report.kept[table.name] += len(protected)
    wanted_keys = set()
    for row in desired:
        key = _key(table, row)
        wanted_keys.add(key)
        if table.name == "search_entry" and (row["resource"], row["record_id"]) in (
            protected_entries
        ):
            continue
        current = existing.get(key)
        differs = current is not None and [k for k, v in row.items() if current.get(k) != v]
        if key in protected:
            assert current is not None
            if differs or current["deleted_at"] is not None:
                fields = ", ".join(_wire_names(differs or [])) or "none"
                deleted = " (soft-deleted by a curator)" if current["deleted_at"] else ""
                report.conflicts.append(
                    f"{table.name} {key[0]}{deleted}: the files differ in {fields}"
                )
            continue
        if current is None:
            await conn.execute(sa.insert(table).values(**row))
            report.inserted[table.name] += 1
        elif differs or (curated_table and (current["curator_edited"] or current["deleted_at"])):
            values = dict(row)
            if curated_table:
                # A new revision (so the record's ETag changes), and --force clears edits.
                values.update(revision=table.c.revision + 1, curator_edited=False, deleted_at=None)
            pk = table.primary_key.columns
            await conn.execute(
                sa.update(table)
                .where(*(col == key[i] for i, col in enumerate(pk)))
                .values(**values)
            )
            report.updated[table.name] += 1
    return [
        key
        for key, row in existing.items()
        if key not in wanted_keys
        and key not in protected
        and not (
            table.name == "search_entry"
            and (row["resource"], row["record_id"]) in protected_entries
        )
    ]


async def _record_version(
    conn: AsyncConnection, digest: str, report: SyncReport, force: bool
) -> None:
    """The dataset version moves only when the content changed (or --force rewrote rows)."""
    dataset = table_of(Dataset)
    loaded = (await conn.execute(sa.select(dataset).where(dataset.c.id == 1))).mappings().first()
    now = datetime.now(UTC)
    if loaded is None:
        await conn.execute(
            sa.insert(dataset).values(id=1, version=1, content_sha256=digest, loaded_at=now)
        )
        report.version, report.changed = 1, True
    elif loaded["content_sha256"] != digest or (force and (report.updated or report.deleted)):
        report.version, report.changed = loaded["version"] + 1, True
        await conn.execute(
            sa.update(dataset)
            .where(dataset.c.id == 1)
            .values(version=report.version, content_sha256=digest, loaded_at=now)
        )
    else:
        report.version = loaded["version"]


async def _parents(conn: AsyncConnection, table: sa.Table) -> dict[Any, Any]:
    parent_col = next(
        (c for c in table.c if any(fk.column.table is table for fk in c.foreign_keys)), None
    )
    if parent_col is None:
        return {}
    rows = await conn.execute(sa.select(table.c.id, parent_col))
    return {(r[0],): (r[1],) for r in rows}


def _delete_order(
    table: sa.Table, stale: list[tuple[Any, ...]], existing_parent: dict[Any, Any]
) -> list[tuple[Any, ...]]:
    """Parents first (the caller reverses it), so children are deleted before their parent."""

    def depth(key: tuple[Any, ...]) -> int:
        d, seen = 0, set()
        while key in existing_parent and existing_parent[key] != (None,) and key not in seen:
            seen.add(key)
            key = existing_parent[key]
            d += 1
        return d

    return sorted(stale, key=depth)


def _wire_names(columns: Iterable[str]) -> list[str]:
    names = {"region_id": "region", "parent_id": "parent", "article_id": "article"}
    names.update(document_id="document", initiative_id="initiative")
    names.update(organisation_id="organisation", growth_of_id="growth_of")
    names.update(span_start="span", span_end="span")
    return list(dict.fromkeys(names.get(c, c) for c in columns))


async def load(database_url: str, seed_dir: Path = SEED_DIR, *, force: bool = False) -> SyncReport:
    curated = read_curated(seed_dir)
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.begin() as conn:
            return await sync(conn, curated, force=force)
    finally:
        await engine.dispose()
