"""Bulk downloads: the whole curated dataset at one version, as a Frictionless Data Package
(one CSV per table, `datapackage.json` with a Table Schema each) and as a SQLite file.

Everything is derived from the table metadata (columns, types, primary and foreign keys), so a
new table is exported without code here. Served tables are the curated ones; internal state
(API keys, the audit trail with curator names, the search index, the dataset row) and internal
columns (`revision`, `deleted_at`, `curator_edited`) stay out, and so do soft-deleted rows and
link rows that point at one.

A bundle is built on first request for the current dataset version and kept in memory (the
curated dataset is well under 1 MB); `make downloads` writes the same files to disk. Bytes are
deterministic for the same data (fixed zip timestamps, rows in primary-key order), so replicas
serve the same checksums.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import sqlite3
import tempfile
import typing
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.models import Dataset, Document, dataset_tables, table_of
from service.typenames import type_name

PACKAGE_NAME = "lishui-common-prosperity"
INTERNAL_COLUMNS = frozenset({"revision", "deleted_at", "curator_edited"})
# A build refuses tables beyond this many rows in all: the bundle is held in memory.
MAX_ROWS = 200_000
LICENCE = {
    "name": "other-at",
    "title": "Curated from public newspaper text for research and civic reuse, with attribution "
    "(cite the source page and this dataset's version); the newspaper text remains the "
    "publisher's. Code: MIT.",
}


class TooLarge(Exception):
    """The dataset has more rows than an in-memory bundle may hold."""


@dataclass(frozen=True, slots=True)
class DownloadFile:
    name: str
    media_type: str
    body: bytes
    description: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True, slots=True)
class Bundle:
    version: int
    files: dict[str, DownloadFile]


def served_tables() -> list[sa.Table]:
    """The curated dataset's tables, parents first (also the SQLite file's creation order)."""
    return dataset_tables()


def public_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [c for c in table.columns if c.name not in INTERNAL_COLUMNS]


def _live(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """The row is not soft-deleted, nor is any row it references."""
    clauses: list[sa.ColumnElement[bool]] = []
    if "deleted_at" in table.c:
        clauses.append(table.c.deleted_at.is_(None))
    for fk in table.foreign_keys:
        parent = fk.column.table
        if "deleted_at" in parent.c and fk.parent.table is table:
            dead = sa.exists().where(fk.column == fk.parent, parent.c.deleted_at.is_not(None))
            clauses.append(sa.not_(dead))
    return clauses


async def read_rows(conn: AsyncConnection) -> dict[str, list[dict[str, Any]]]:
    """Every live row of every served table, in primary-key order."""
    rows: dict[str, list[dict[str, Any]]] = {}
    total = 0
    for table in served_tables():
        count = await conn.scalar(sa.select(sa.func.count()).select_from(table))
        total += int(count or 0)
        if total > MAX_ROWS:
            raise TooLarge(f"the dataset has more than {MAX_ROWS} rows")
        stmt = (
            sa.select(*public_columns(table))
            .where(*_live(table))
            .order_by(*table.primary_key.columns)
        )
        rows[table.name] = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    return rows


# ---------------------------------------------------------------- Table Schema


def _json_kind(table: sa.Table, column: sa.Column[Any]) -> str:
    """`array` or `object`, from the SQLModel annotation of a JSON column."""
    model = table.info["model"]
    annotation = model.model_fields[column.name].annotation
    return "array" if typing.get_origin(annotation) is list else "object"


def _field_type(table: sa.Table, column: sa.Column[Any]) -> str:
    if isinstance(column.type, sa.JSON):
        return _json_kind(table, column)
    try:
        python = column.type.python_type
    except NotImplementedError:
        return "string"
    return "datetime" if python is datetime else type_name(python)


def table_schema(table: sa.Table) -> dict[str, Any]:
    fields = []
    for column in public_columns(table):
        field: dict[str, Any] = {"name": column.name, "type": _field_type(table, column)}
        if not column.nullable and field["type"] not in {"array", "object"}:
            field["constraints"] = {"required": True}
        fields.append(field)
    schema: dict[str, Any] = {
        "fields": fields,
        "primaryKey": [c.name for c in table.primary_key.columns],
        "missingValues": [""],
    }
    foreign_keys = [
        {
            "fields": [fk.parent.name],
            "reference": {"resource": fk.column.table.name, "fields": [fk.column.name]},
        }
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name)
        if fk.column.table.info.get("dataset")
    ]
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


# ---------------------------------------------------------------- files


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # exact, never a float artefact
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def table_csv(table: sa.Table, rows: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    names = [c.name for c in public_columns(table)]
    writer.writerow(names)
    writer.writerows([_cell(row[name]) for name in names] for row in rows)
    return buffer.getvalue().encode()


def descriptor(
    version: int, csvs: dict[str, bytes], sources: list[dict[str, str]]
) -> dict[str, Any]:
    """`datapackage.json`: version, licence, sources and a Table Schema per CSV."""
    resources = []
    for table in served_tables():
        body = csvs[table.name]
        resources.append(
            {
                "name": table.name,
                "path": f"{table.name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(body),
                "hash": "sha256:" + hashlib.sha256(body).hexdigest(),
                "schema": table_schema(table),
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "Lishui common prosperity (共同富裕), two newspaper pages of 2022, curated",
        "description": "Every fact carries its provenance: the verbatim quote and its character "
        "span (Unicode code points, end exclusive) into `document.text`. Unknown values are "
        "empty, with the reason in `null_reasons`.",
        "version": f"{version}.0.0",
        "licenses": [LICENCE],
        "sources": sources,
        "resources": resources,
    }


def sqlite_file(rows: dict[str, list[dict[str, Any]]]) -> bytes:
    """The same tables and rows as the CSVs, in a SQLite database (JSON columns as text)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dataset.sqlite"
        db = sqlite3.connect(path)
        try:
            for table in served_tables():
                names = [c.name for c in public_columns(table)]
                keys = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
                columns = ", ".join(f'"{n}"' for n in names)
                db.execute(f'CREATE TABLE "{table.name}" ({columns}, PRIMARY KEY ({keys}))')
                marks = ", ".join("?" for _ in names)
                db.executemany(
                    f'INSERT INTO "{table.name}" VALUES ({marks})',
                    ([_sqlite_value(row[n]) for n in names] for row in rows[table.name]),
                )
            db.commit()
        finally:
            db.close()
        return path.read_bytes()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal | list | dict | datetime):
        return _cell(value)
    return value


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            info = zipfile.ZipInfo(f"{PACKAGE_NAME}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return buffer.getvalue()


async def _sources(conn: AsyncConnection) -> list[dict[str, str]]:
    d = table_of(Document).c
    rows = await conn.execute(sa.select(d.id, d.title, d.source).order_by(d.id))
    return [{"title": row.title or row.source, "path": f"/v1/documents/{row.id}"} for row in rows]


async def current_version(conn: AsyncConnection) -> int:
    t = table_of(Dataset).c
    return int(await conn.scalar(sa.select(t.version).where(t.id == 1)) or 0)


async def build_bundle(conn: AsyncConnection) -> Bundle:
    version = await current_version(conn)
    rows = await read_rows(conn)
    sources = await _sources(conn)
    # CSV, zip and SQLite building is CPU work: off the event loop.
    return await asyncio.to_thread(_assemble, version, rows, sources)


def _assemble(
    version: int, rows: dict[str, list[dict[str, Any]]], sources: list[dict[str, str]]
) -> Bundle:
    csvs = {t.name: table_csv(t, rows[t.name]) for t in served_tables()}
    package = json.dumps(descriptor(version, csvs, sources), ensure_ascii=False, indent=2)
    package_bytes = package.encode() + b"\n"
    files = [
        DownloadFile(
            "datapackage.json",
            "application/json",
            package_bytes,
            "Frictionless Data Package descriptor: a Table Schema per CSV, licence, sources.",
        ),
        DownloadFile(
            "datapackage.zip",
            "application/zip",
            zipped({"datapackage.json": package_bytes} | {f"{n}.csv": b for n, b in csvs.items()}),
            "The descriptor and every CSV in one archive.",
        ),
        DownloadFile(
            f"{PACKAGE_NAME}.sqlite",
            "application/vnd.sqlite3",
            sqlite_file(rows),
            "The same tables in one SQLite database.",
        ),
        *(
            DownloadFile(f"{n}.csv", "text/csv", b, f"Table `{n}` (see datapackage.json).")
            for n, b in csvs.items()
        ),
    ]
    return Bundle(version, {f.name: f for f in files})


def write_bundle(bundle: Bundle, out: Path) -> Path:
    """Write every file of the bundle to `out/<version>/` and return that folder."""
    folder = out / str(bundle.version)
    folder.mkdir(parents=True, exist_ok=True)
    for file in bundle.files.values():
        (folder / file.name).write_bytes(file.body)
    sums = "".join(f"{f.sha256}  {f.name}\n" for f in bundle.files.values())
    (folder / "SHA256SUMS").write_text(sums)
    return folder


async def _build_to(database_url: str, out: Path) -> Path:
    from service.db import create_engine  # the app's engine settings (SQLite pragmas, pool)

    engine = create_engine(database_url, pool=False)
    try:
        async with engine.connect() as conn:
            return write_bundle(await build_bundle(conn), out)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m service.downloads [--out DIR]`: write the current version's files."""
    import argparse
    import os

    from service.settings import DEFAULT_DATABASE_URL

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path("data/downloads"))
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    folder = asyncio.run(_build_to(url, args.out))
    print(f"wrote {folder} ({', '.join(sorted(p.name for p in folder.iterdir()))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
