"""Alembic builds and removes the whole schema, and the models match the migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from alembic import command
from service.db import create_engine
from service.models import declared_in_models
from tests.conftest import alembic_config


def _table_names(url: str) -> set[str]:
    async def inspect() -> set[str]:
        engine = create_engine(url, pool=False)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(inspect())


def _model_diff(url: str) -> list[object]:
    async def diff() -> list[object]:
        engine = create_engine(url, pool=False)

        def compare(conn: Connection) -> list[object]:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": declared_in_models}
            )
            return list(compare_metadata(context, SQLModel.metadata))

        async with engine.connect() as conn:
            result = await conn.run_sync(compare)
        await engine.dispose()
        return result

    return asyncio.run(diff())


class TestMigrations:
    def test_upgrade_and_downgrade_on_sqlite(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        config = alembic_config(url)
        command.upgrade(config, "head")
        tables = _table_names(url)
        assert {
            "metric",
            "article",
            "organisation",
            "initiative",
            "region",
            "search_entry",
        } <= tables
        assert "search_entry_fts" in tables
        assert _model_diff(url) == []
        command.downgrade(config, "base")
        assert _table_names(url) <= {"alembic_version"}
        command.upgrade(config, "head")

    def test_models_match_migrations_on_this_backend(self, database_url: str) -> None:
        assert _model_diff(database_url) == []
