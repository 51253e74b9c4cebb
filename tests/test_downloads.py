"""Bulk downloads: a valid Frictionless Data Package and a SQLite file, at one dataset version,
with checksums, on both databases. The package is validated by the `frictionless` library
itself (types, required fields, primary keys and foreign keys across the CSVs)."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import frictionless
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
TABLES = {
    "region": "regions",
    "document": "documents",
    "organisation": "organisations",
    "initiative": "initiatives",
    "article": "articles",
    "metric": "metrics",
}


async def index(client: Client) -> dict[str, Any]:
    response = await client.get("/v1/downloads")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def fetch(client: Client, name: str) -> bytes:
    listing = await index(client)
    link = next(f for f in listing["files"] if f["name"] == name)
    response = await client.get(link["url"])
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == link["sha256"]
    assert len(response.content) == link["bytes"]
    return response.content


def rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


async def test_index_names_every_file_at_the_current_version(client: Client) -> None:
    listing = await index(client)
    meta = (await client.get("/v1/meta")).json()
    assert listing["version"] == meta["dataset"]["version"]
    names = {f["name"] for f in listing["files"]}
    assert {"datapackage.json", "datapackage.zip", "lishui-common-prosperity.sqlite"} <= names
    assert {f"{table}.csv" for table in TABLES} <= names
    for file in listing["files"]:
        assert file["url"] == f"/v1/downloads/{listing['version']}/{file['name']}"


async def test_every_file_matches_its_checksum_and_validators(client: Client) -> None:
    listing = await index(client)
    for file in listing["files"]:
        response = await client.get(file["url"])
        assert response.status_code == 200
        assert response.headers["etag"] == f'"sha256-{file["sha256"]}"'
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-type"].startswith(file["media_type"])
        assert hashlib.sha256(response.content).hexdigest() == file["sha256"]
        again = await client.get(file["url"], headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304


async def test_the_data_package_is_valid_with_foreign_keys(client: Client, tmp_path: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(await fetch(client, "datapackage.zip")))
    archive.extractall(tmp_path)
    descriptor = tmp_path / "lishui-common-prosperity" / "datapackage.json"
    assert descriptor.read_bytes() == await fetch(client, "datapackage.json")
    report = frictionless.validate(str(descriptor))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]
    package = frictionless.Package(str(descriptor))
    assert package.version == f"{(await index(client))['version']}.0.0"
    assert package.licenses
    assert package.sources
    metric = package.get_resource("metric").schema
    assert metric.primary_key == ["id"]
    assert {fk["reference"]["resource"] for fk in metric.foreign_keys} >= {"article", "document"}


async def test_tables_hold_every_live_record_of_the_api(client: Client) -> None:
    for table, resource in TABLES.items():
        body = await client.get(f"/v1/{resource}", params={"limit": 1, "count": "exact"})
        assert len(rows(await fetch(client, f"{table}.csv"))) == body.json()["total"]["value"]


async def test_numbers_are_exact_and_quotes_sit_at_their_spans(client: Client) -> None:
    documents = {d["id"]: d["text"] for d in rows(await fetch(client, "document.csv"))}
    metrics = rows(await fetch(client, "metric.csv"))
    by_id = {m["id"]: m for m in metrics}
    assert by_id["qiang-cun-gong-si-li-run"]["value"] == "134000000"
    assert by_id["qiang-cun-gong-si-li-run"]["raw"] == "1.34亿元"
    for metric in metrics:
        assert "." not in metric["value"] or not metric["value"].endswith("0")
        text = documents[metric["document_id"]]
        assert text[int(metric["span_start"]) : int(metric["span_end"])] == metric["quote"]


async def test_sqlite_file_has_the_same_tables(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "dataset.sqlite"
    path.write_bytes(await fetch(client, "lishui-common-prosperity.sqlite"))
    db = sqlite3.connect(path)
    try:
        for table in TABLES:
            (count,) = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            assert count == len(rows(await fetch(client, f"{table}.csv")))
        (value,) = db.execute(
            "SELECT value FROM metric WHERE id = 'qiang-cun-gong-si-li-run'"
        ).fetchone()
        assert value == "134000000"
    finally:
        db.close()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/downloads/0/metric.csv", 410),  # a past version
        ("/v1/downloads/999999/metric.csv", 404),  # no such version
        ("/v1/downloads/{version}/nope.csv", 404),
        ("/v1/downloads/{version}/metric.csv?x=1", 400),
        ("/v1/downloads?x=1", 400),
    ],
)
async def test_other_versions_and_names_are_problems(
    client: Client, path: str, status: int
) -> None:
    version = (await index(client))["version"]
    response = await client.get(path.format(version=version))
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
