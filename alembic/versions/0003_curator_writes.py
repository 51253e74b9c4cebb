"""Curator write API: revision / soft delete / curator_edited columns, API keys, audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00

The four curated resources get `revision` (bumped on every write; the record's ETag),
`deleted_at` (soft delete) and `curator_edited` (the seed loader leaves such records alone).
`search_entry` is not touched: batch-altering it on SQLite would drop its FTS5 triggers.
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CURATED = ("article", "organisation", "initiative", "metric")


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(
        sa.String(length=length, collation="C"), "postgresql"
    )


def upgrade() -> None:
    for table in CURATED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
            )
            batch_op.add_column(
                sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
            )
            batch_op.add_column(
                sa.Column("curator_edited", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
    op.create_table(
        "api_key",
        sa.Column("id", _text(16), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("role", _text(10), nullable=False),
        sa.Column("secret_sha256", _text(64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
    )
    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("key_id", _text(16), nullable=False),
        sa.Column("key_name", _text(80), nullable=False),
        sa.Column("resource", _text(20), nullable=False),
        sa.Column("record_id", _text(120), nullable=False),
        sa.Column("action", _text(10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_at"), ["at"], unique=False)
        batch_op.create_index("ix_change_resource_record", ["resource", "record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index("ix_change_resource_record")
        batch_op.drop_index(batch_op.f("ix_change_at"))
    op.drop_table("change")
    op.drop_table("api_key")
    for table in reversed(CURATED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("curator_edited")
            batch_op.drop_column("deleted_at")
            batch_op.drop_column("revision")
