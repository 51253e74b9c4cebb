"""Metric list indexes for live rows: default sort, value sort per unit, counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:30:00

Every metric list query carries `deleted_at IS NULL` (soft delete). Without an index that
contains `deleted_at`, `count(*)` reads the whole table (0.4 s at 1M rows on SQLite instead of
4 ms) and the default sort (document, position) has no index at all. These partial indexes are
covering for the hot list shapes (make bench: first page, deep page, unit+region+value filter
sorted by value) on SQLite and PostgreSQL alike.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_metric_live_document_position",
        "metric",
        ["document_id", "span_start", "id", "deleted_at"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_index(
        "ix_metric_live_unit_value_region",
        "metric",
        ["unit", "value", "region_id", "id", "deleted_at"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_metric_live_unit_value_region", table_name="metric")
    op.drop_index("ix_metric_live_document_position", table_name="metric")
