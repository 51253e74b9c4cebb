"""PostgreSQL search reads stored tsvector columns with GIN indexes (SQLite: nothing to do)

The expression indexes of 0002 were used only when a query repeated their exact expression, and
a query of many words recomputed `to_tsvector` of every row once per word (2 s for 50 words on
16 articles). Stored generated columns are computed once per write, and the GIN indexes on them
serve a tsquery of any length.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:30:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = "0005"
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ("bigrams", "unigrams")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_search_entry_{column}_fts")
        op.execute(
            f"ALTER TABLE search_entry ADD COLUMN {column}_tsv tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {column})) STORED"
        )
        op.execute(
            f"CREATE INDEX ix_search_entry_{column}_fts ON search_entry USING gin ({column}_tsv)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_search_entry_{column}_fts")
        op.execute(f"ALTER TABLE search_entry DROP COLUMN IF EXISTS {column}_tsv")
        op.execute(
            f"CREATE INDEX ix_search_entry_{column}_fts ON search_entry "
            f"USING gin (to_tsvector('simple'::regconfig, {column}))"
        )
