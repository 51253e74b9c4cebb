"""Search cost is bounded: at most 10 words, and on PostgreSQL the GIN indexes on the stored
tsvector columns serve a query of any length (the plan is asserted with EXPLAIN)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.db import create_engine
from service.fulltext import MAX_QUERY_WORDS, entries, match_clause, matching_ids, parse_query

Client = AsyncTestClient[Litestar]
WORDS = "共富 工坊 丽水 强村 公司 利润 增长 农民 收入 山区"


@pytest.mark.parametrize("path", ["/v1/search", "/v1/articles", "/v1/metrics"])
async def test_more_words_than_the_cap_are_a_400(client: Client, path: str) -> None:
    many = " ".join(["丽水"] * (MAX_QUERY_WORDS + 1))
    response = await client.get(path, params={"q": many})
    assert response.status_code == 400
    assert [p["name"] for p in response.json()["invalid_params"]] == ["q"]
    at_cap = await client.get(path, params={"q": " ".join(["丽水"] * MAX_QUERY_WORDS)})
    assert at_cap.status_code == 200


@pytest.mark.parametrize(
    ("text", "index"),
    [
        (WORDS, "ix_search_entry_bigrams_fts"),  # ten words: ten bigram phrases, one tsquery
        ("一", "ix_search_entry_unigrams_fts"),  # a one-character word
        ("lishui", "ix_search_entry_pinyin_fts"),  # a Latin word that reads as pinyin (OR)
    ],
)
async def test_postgresql_plans_use_the_gin_indexes(
    database_url: str, text: str, index: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the plan of the PostgreSQL query")
    query = parse_query(text)
    assert query is not None
    # The match alone: with the resource condition the planner may pick that btree instead.
    stmt = sa.select(entries.c.record_id).where(match_clause(query, "postgresql"))
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.begin() as conn:
            # Tiny tables are cheaper to scan; forbid that to see whether the index can serve.
            await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
            compiled = stmt.compile(dialect=conn.dialect)
            params = tuple(compiled.params[name] for name in compiled.positiontup or [])
            result = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, params)
            plan = json.dumps(result.scalar_one())
    finally:
        await engine.dispose()
    assert index in plan
    assert "to_tsvector" not in plan  # nothing computed per row at query time


async def test_sqlite_looks_the_hits_up_by_rowid(database_url: str) -> None:
    """The FTS hits are fetched by primary key, not tested one by one against a scan of every
    entry of the resource (what SQLite picked with an indexable `resource =` term)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan of the SQLite query")
    query = parse_query(WORDS)
    assert query is not None
    stmt = matching_ids("metrics", query, "sqlite")
    engine = create_engine(database_url, pool=False)
    try:
        async with engine.connect() as conn:
            compiled = stmt.compile(dialect=conn.dialect)
            params = tuple(compiled.params[name] for name in compiled.positiontup or [])
            result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, params)
            steps = [str(step) for step in result.scalars(3)]
    finally:
        await engine.dispose()
    assert any("search_entry USING INTEGER PRIMARY KEY" in step for step in steps), steps
    assert not any("(resource=?)" in step for step in steps), steps
