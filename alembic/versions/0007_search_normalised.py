"""Search entries folded (traditional → simplified, full-width) with a pinyin column and ranking
counts (`folded`, `size`)

The index columns are derived data: every entry is recomputed from its stored title and text
with the service's tokeniser (service/fulltext.py `entry_tokens`). SQLite's FTS5 table cannot
gain a column, so it and its triggers are recreated with `pinyin` and rebuilt; PostgreSQL gets
a stored `pinyin_tsv` column with its own GIN index, like 0005's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:30:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _fts(columns: str) -> list[str]:
    """The external-content FTS5 table over `columns` and the triggers that keep it in sync."""
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    return [
        f"""CREATE VIRTUAL TABLE search_entry_fts USING fts5(
            {columns}, content='search_entry', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0')""",
        f"""CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN
            INSERT INTO search_entry_fts(rowid, {columns}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN
            INSERT INTO search_entry_fts(search_entry_fts, rowid, {columns})
            VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN
            INSERT INTO search_entry_fts(search_entry_fts, rowid, {columns})
            VALUES ('delete', old.id, {old});
            INSERT INTO search_entry_fts(rowid, {columns}) VALUES (new.id, {new});
        END""",
        "INSERT INTO search_entry_fts(search_entry_fts) VALUES ('rebuild')",
    ]


DROP_FTS = [
    "DROP TRIGGER IF EXISTS search_entry_au",
    "DROP TRIGGER IF EXISTS search_entry_ad",
    "DROP TRIGGER IF EXISTS search_entry_ai",
    "DROP TABLE IF EXISTS search_entry_fts",
]
NEW_COLUMNS = ("pinyin", "folded", "size")


def _recompute() -> None:
    """Every entry's derived columns from its title and text, with the current tokeniser."""
    from service.fulltext import entry_tokens  # the one tokeniser; derived data follows it

    bind = op.get_bind()
    entries = sa.table(
        "search_entry",
        sa.column("id", sa.BigInteger),
        sa.column("title", sa.Text),
        sa.column("text", sa.Text),
        *(sa.column(c, sa.Text) for c in ("bigrams", "unigrams", "pinyin", "folded")),
        sa.column("size", sa.Integer),
    )
    rows = bind.execute(sa.select(entries.c.id, entries.c.title, entries.c.text)).all()
    for row in rows:
        values = entry_tokens(row.title, row.text)
        bind.execute(sa.update(entries).where(entries.c.id == row.id).values(**values))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in DROP_FTS:
            op.execute(statement)
    # Plain ALTER TABLE ADD COLUMN (no batch copy, which would drop the FTS5 triggers).
    op.add_column("search_entry", sa.Column("pinyin", sa.Text(), server_default="", nullable=False))
    op.add_column("search_entry", sa.Column("folded", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "search_entry", sa.Column("size", sa.Integer(), server_default="0", nullable=False)
    )
    _recompute()
    if sqlite:
        for statement in _fts("bigrams, unigrams, pinyin"):
            op.execute(statement)
        return
    op.execute(
        "ALTER TABLE search_entry ADD COLUMN pinyin_tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, pinyin)) STORED"
    )
    op.execute("CREATE INDEX ix_search_entry_pinyin_fts ON search_entry USING gin (pinyin_tsv)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in DROP_FTS:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_entry_pinyin_fts")
        op.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS pinyin_tsv")
    for column in NEW_COLUMNS:
        op.execute(f"ALTER TABLE search_entry DROP COLUMN {column}")
    if sqlite:
        for statement in _fts("bigrams, unigrams"):
            op.execute(statement)
