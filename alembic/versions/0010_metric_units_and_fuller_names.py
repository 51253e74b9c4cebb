"""What a metric counts (normalised unit, counted noun, rate marker and basis) and an
organisation's fuller name (curator knowledge)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: Union[str, None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(
        sa.String(length=length, collation="C"), "postgresql"
    )


def upgrade() -> None:
    with op.batch_alter_table("metric", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_normalised", _text(20), nullable=True))
        batch_op.add_column(sa.Column("counted", _text(60), nullable=True))
        batch_op.add_column(sa.Column("per", _text(20), nullable=True))
        batch_op.add_column(
            sa.Column("per_basis", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.create_index(
            batch_op.f("ix_metric_unit_normalised"), ["unit_normalised"], unique=False
        )
    # Rows loaded before this revision: the unit itself, 名 and 人 -> 人, 个月 -> 月
    # (service/vocabulary.py NORMALISED_UNITS); the next seed load rewrites every curated row.
    op.execute(
        "UPDATE metric SET unit_normalised = CASE unit WHEN '名' THEN '人' WHEN '个月' THEN '月'"
        " ELSE unit END"
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fuller_name", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("fuller_name")
    with op.batch_alter_table("metric", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_unit_normalised"))
        batch_op.drop_column("per_basis")
        batch_op.drop_column("per")
        batch_op.drop_column("counted")
        batch_op.drop_column("unit_normalised")
