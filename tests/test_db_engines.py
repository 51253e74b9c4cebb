"""The app's two views of one pool (service/db.py): reads in autocommit on PostgreSQL, writes in
READ COMMITTED transactions, and a write's rollback still undoes it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db import create_engine, transactional


async def test_reads_autocommit_and_writes_keep_their_transactions(database_url: str) -> None:
    reads = create_engine(database_url, autocommit=True)
    writes = transactional(reads)
    postgres = reads.dialect.name == "postgresql"
    try:
        if postgres:
            assert not await _one_transaction(reads)
            assert await _one_transaction(writes)
        # A write that fails part-way leaves nothing behind.
        before = await _region_count(reads)
        try:
            async with writes.begin() as conn:
                await conn.execute(
                    sa.text("UPDATE region SET name = name || 'x' WHERE id = 'li-shui-shi'")
                )
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        async with reads.connect() as conn:
            name = await conn.scalar(sa.text("SELECT name FROM region WHERE id = 'li-shui-shi'"))
        assert not str(name).endswith("x")
        assert await _region_count(reads) == before
        # The read view gets its autocommit back after a write used the same pooled connection.
        if postgres:
            assert not await _one_transaction(reads)
    finally:
        await reads.dispose()


async def _region_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.text("SELECT count(*) FROM region")) or 0)


async def _one_transaction(engine: AsyncEngine) -> bool:
    """Whether two statements on one connection share a transaction (`now()` is its start)."""
    async with engine.connect() as conn:
        first = await conn.scalar(sa.text("SELECT now()"))
        await conn.execute(sa.text("SELECT pg_sleep(0.02)"))
        second = await conn.scalar(sa.text("SELECT now()"))
    return bool(first == second)
