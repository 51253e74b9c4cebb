"""The curation operations called with explicit arguments — a connection, the resource, the
decoded body, the curator, the `If-Match` value — without a Request or an app (SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.exceptions import HTTPException
from sqlalchemy.ext.asyncio import AsyncEngine

from service.auth import Curator
from service.curation import ops
from service.dataset import DataVersion, read_version
from service.db import create_engine
from service.models import Change, table_of
from service.resources import organisations
from service.seed import load
from tests.conftest import fresh_database

CURATOR = Curator("0000abcd", "unit", "editor")
ORGS = organisations.RESOURCE


@pytest.fixture(scope="module")
async def engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('ops')) / 'ops.db'}"
    await asyncio.to_thread(fresh_database, url)
    await load(url)
    engine = create_engine(url, pool=False)
    yield engine
    await engine.dispose()


def versions() -> DataVersion:
    return DataVersion(ttl=0, on_change=lambda: None)


async def audit_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table_of(Change))) or 0)


async def test_create_patch_delete_restore(engine: AsyncEngine) -> None:
    body = organisations.OrganisationIn(name="单元测试合作社", kind="company")
    created = await ops.write_transaction(
        engine, versions(), lambda conn: ops.create(conn, ORGS, body, CURATOR)
    )
    assert created.record_id == "dan-yuan-ce-shi-he-zuo-she"
    assert created.body.name == "单元测试合作社"

    # A patch that changes nothing writes nothing: same tag, no audit row, same version.
    async with engine.connect() as conn:
        version = await read_version(conn)
    audits = await audit_rows(engine)
    same = organisations.WRITE.patch_type(kind="company")
    unchanged = await ops.write_transaction(
        engine,
        versions(),
        lambda conn: ops.patch(
            conn, ops.Target(ORGS, created.record_id, created.tag), same, CURATOR
        ),
    )
    assert unchanged.tag == created.tag
    assert await audit_rows(engine) == audits
    async with engine.connect() as conn:
        assert await read_version(conn) == version

    with pytest.raises(HTTPException) as stale:
        await ops.write_transaction(
            engine,
            versions(),
            lambda conn: ops.delete(conn, ops.Target(ORGS, created.record_id, '"old"'), CURATOR),
        )
    assert stale.value.status_code == 412
    deleted = await ops.write_transaction(
        engine,
        versions(),
        lambda conn: ops.delete(conn, ops.Target(ORGS, created.record_id, created.tag), CURATOR),
    )
    assert deleted.body is None
    restored = await ops.write_transaction(
        engine,
        versions(),
        lambda conn: ops.restore(conn, ops.Target(ORGS, created.record_id, "*"), CURATOR),
    )
    assert restored.body.name == "单元测试合作社"


async def test_rules_are_a_422_naming_the_field(engine: AsyncEngine) -> None:
    body = organisations.OrganisationIn(name="另一个", kind="nonsense", region="atlantis")
    with pytest.raises(ops.Unprocessable) as error:
        await ops.write_transaction(
            engine, versions(), lambda conn: ops.create(conn, ORGS, body, CURATOR)
        )
    assert error.value.status_code == 422
    assert {p.name for p in error.value.invalid_params} == {"kind", "region"}
