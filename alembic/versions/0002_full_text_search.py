"""Full-text search: search_entry with FTS5 (SQLite) or GIN tsvector indexes (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:15:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# External-content FTS5 index over search_entry, kept in sync by triggers.
SQLITE_UP = [
    """CREATE VIRTUAL TABLE search_entry_fts USING fts5(
        bigrams, unigrams, content='search_entry', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN
        INSERT INTO search_entry_fts(rowid, bigrams, unigrams)
        VALUES (new.id, new.bigrams, new.unigrams);
    END""",
    """CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN
        INSERT INTO search_entry_fts(search_entry_fts, rowid, bigrams, unigrams)
        VALUES ('delete', old.id, old.bigrams, old.unigrams);
    END""",
    """CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN
        INSERT INTO search_entry_fts(search_entry_fts, rowid, bigrams, unigrams)
        VALUES ('delete', old.id, old.bigrams, old.unigrams);
        INSERT INTO search_entry_fts(rowid, bigrams, unigrams)
        VALUES (new.id, new.bigrams, new.unigrams);
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_entry_au",
    "DROP TRIGGER IF EXISTS search_entry_ad",
    "DROP TRIGGER IF EXISTS search_entry_ai",
    "DROP TABLE IF EXISTS search_entry_fts",
]
POSTGRES_UP = [
    "CREATE INDEX ix_search_entry_bigrams_fts ON search_entry "
    "USING gin (to_tsvector('simple'::regconfig, bigrams))",
    "CREATE INDEX ix_search_entry_unigrams_fts ON search_entry "
    "USING gin (to_tsvector('simple'::regconfig, unigrams))",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_search_entry_unigrams_fts",
    "DROP INDEX IF EXISTS ix_search_entry_bigrams_fts",
]


def upgrade() -> None:
    op.create_table(
        "search_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column(
            "resource",
            sa.String(length=20).with_variant(sa.String(length=20, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "record_id",
            sa.String(length=120).with_variant(sa.String(length=120, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "title",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("bigrams", sa.Text(), nullable=False),
        sa.Column("unigrams", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entry")),
        sa.UniqueConstraint("resource", "record_id", name=op.f("uq_search_entry_resource")),
    )
    statements = SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
    op.drop_table("search_entry")
