"""Database engine: one async engine per app, SQLite tuned for concurrent reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

from litestar.di import NamedDependency
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

# The request's database connection, injected by name (`db`) into handlers.
Db: TypeAlias = NamedDependency[AsyncConnection]


# SQLite connections the app keeps (each with its aiosqlite thread), and no overflow: with the
# default 5 + 10 overflow, 32 concurrent requests opened and closed a connection (a thread and
# its pragmas) all the time. Measured (1M bench, detail cache off, 32 connections, p99 / rps):
# 5 + 10: 308-368 ms / 767-840; 16 + 0: 187-203 ms / 791-796; 32 + 0: 212-237 ms / 869-1058.
SQLITE_POOL_SIZE = 32
PG_POOL_SIZE, PG_MAX_OVERFLOW = 32, 8
SQLITE_CACHE_KIB = 512


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Half a MiB of page cache per connection instead of 2: the file's pages stay in the OS
    # cache either way. Measured (1M bench, detail cache off, 32 connections): RSS 263 -> 217 MB,
    # rps within the run-to-run noise (870-1058 against 1003-1116).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _skip_idle_rollbacks(engine: AsyncEngine) -> None:
    """Leave out the ROLLBACK that ends every checkout when SQLite has no transaction open.

    Reads run in autocommit (pysqlite begins only before a write), so that ROLLBACK did nothing
    but cost a hop to aiosqlite's thread: 1 of the 5 hops left in a detail request (1M bench,
    detail cache off). `in_transaction` is read without a hop; an open transaction still rolls
    back as before."""
    rollback = engine.dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and getattr(driver, "in_transaction", True) is False:
            return
        rollback(dbapi_connection)

    setattr(engine.dialect, "do_rollback", do_rollback)  # noqa: B010 (a method of this instance)


def create_engine(
    url: str, *, pool: bool = True, timeout: float | None = None, autocommit: bool = False
) -> AsyncEngine:
    """Create the engine; `pool=False` for one-shot tools (migrations, seeding).

    `timeout` bounds connecting to PostgreSQL and waiting for a pooled connection, so a dead
    database gives a prompt 503 instead of a hung request.

    `autocommit` (PostgreSQL; the app's request engine): statements run without BEGIN and
    ROLLBACK, and so does the checkout's liveness ping, which in a transaction is three round
    trips (BEGIN, `;`, ROLLBACK) instead of one. A detail read went from six round trips to two.
    Each statement sees what was committed when it started, as under READ COMMITTED in a
    transaction. `transactional(engine)` gives writes their transactions on the same pool.
    """
    options: dict[str, Any] = {}
    if not pool:
        options["poolclass"] = NullPool
    elif url.startswith("postgresql"):
        # 32 kept, up to 40 under load: a request holds its connection while it waits for a
        # shared count or facet, and with 20 in all 32 wrk connections on facet-miss (make
        # bench) gave 57 pool timeouts (503) per run. With only 10 kept, 32 concurrent details
        # opened and closed overflow connections all the time (py-spy: asyncpg connect, its
        # SSL attempt and close in the top of the profile). Two replicas stay under
        # PostgreSQL's default max_connections of 100.
        options.update(pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW, pool_pre_ping=True)
        if autocommit:
            options.update(isolation_level="AUTOCOMMIT")
        if timeout is not None:
            options.update(pool_timeout=timeout)
    if timeout is not None and url.startswith("postgresql+asyncpg"):
        options["connect_args"] = {"timeout": timeout}
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        if pool and _sqlite_file(url):
            options.update(pool_size=SQLITE_POOL_SIZE, max_overflow=0)
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _skip_idle_rollbacks(engine)
    return engine


def transactional(engine: AsyncEngine) -> AsyncEngine:
    """`engine` (made with `autocommit=True`) for work that needs transactions: the same pool,
    each checkout back at PostgreSQL's default READ COMMITTED; SQLite's engine as it is."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="READ COMMITTED")
    return engine


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    return database if database and database != ":memory:" else None


def _ensure_sqlite_directory(url: str) -> None:
    database = _sqlite_file(url)
    if database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
