"""Test harness: every test runs once per database backend.

SQLite always; PostgreSQL too when DATABASE_URL points at one (as in CI). Each backend's schema
is built by `alembic upgrade head` from an empty database and seeded by the real loader.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.sync_api import Browser

from alembic import command
from service.app import create_app
from service.seed import load
from service.settings import Settings
from tests.live_server import require_tool, serve

ROOT = Path(__file__).resolve().parents[1]


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


BACKENDS = ["sqlite"] + (["postgresql"] if postgres_url() else [])


def scratch_postgres_url(suffix: str) -> str:
    """A sibling of the suite's PostgreSQL database (`<name>_<suffix>`), dropped and created
    afresh, for tests that must not share data with the rest of the suite."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    base = make_url(postgres_url() or "")
    name = f"{base.database}_{suffix}"

    async def recreate() -> None:
        engine = create_async_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(recreate())
    return base.set(database=name).render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def fresh_database(url: str) -> None:
    """Empty the database with `downgrade base`, then build it with `upgrade head`."""
    config = alembic_config(url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        template = os.environ.get("TEST_SQLITE_TEMPLATE")
        if template:  # `make mutate`: one database built before the run, copied per mutant
            shutil.copyfile(template, path)
            return url
    else:
        url = postgres_url() or ""
    fresh_database(url)
    asyncio.run(load(url))
    return url


@pytest.fixture(scope="session")
def app(database_url: str) -> Litestar:
    # No rate limit here: the suite is one client sending far more than any real one.
    return create_app(Settings(database_url=database_url, rate_limit_per_minute=0))


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real server per session (uvicorn subprocess) on its own seeded SQLite file."""
    directory = tmp_path_factory.mktemp("live")
    url = f"sqlite+aiosqlite:///{directory / 'live.db'}"
    fresh_database(url)
    asyncio.run(load(url))
    with serve(url, directory / "uvicorn.log") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium for the browser tests (docs pages, CORS from another origin).

    Per module, not per session: Playwright's sync API keeps an event loop running while it is
    open, and the asyncio tests of the modules after it could not start theirs."""
    from playwright.sync_api import sync_playwright

    from tests.test_docs_browser import CHROMIUM_ARGS

    chromium = require_tool("chromium", "install Debian's `chromium` to run the browser tests")
    # Playwright launches Chromium with a fresh temporary --user-data-dir of its own.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
