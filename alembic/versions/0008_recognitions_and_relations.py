"""Recognitions (read-only resource) and typed organisation relations, curated in seed/pending/
(recognitions.yaml, organisation-roles.yaml, metric-organisations.yaml).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def text(length: int) -> sa.types.TypeEngine[str]:
    """As service.models.text_type: code-point order on PostgreSQL, as on SQLite."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def ref(table: str, name: str, target: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    """A foreign key named as service.models' naming convention names it."""
    key = sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{name}_{target}")
    return sa.Column(name, text(120), key, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "recognition",
        sa.Column("id", text(120), nullable=False),
        sa.Column("what", text(120), nullable=False),
        sa.Column("kind", text(30), nullable=False),
        sa.Column("level", text(20), nullable=False),
        ref("recognition", "awarder_id", "organisation", nullable=True),
        sa.Column("awarded", text(20), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("null_reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recognition"),
    )
    for column in ("what", "kind", "level", "awarder_id"):
        op.create_index(f"ix_recognition_{column}", "recognition", [column])
    op.create_table(
        "recognition_recipient",
        ref("recognition_recipient", "recognition_id", "recognition"),
        sa.Column("resource", text(20), nullable=False),
        sa.Column("record_id", text(120), nullable=False),
        sa.PrimaryKeyConstraint(
            "recognition_id", "resource", "record_id", name="pk_recognition_recipient"
        ),
    )
    op.create_index("ix_recognition_recipient_record_id", "recognition_recipient", ["record_id"])
    op.create_table(
        "recognition_mention",
        ref("recognition_mention", "recognition_id", "recognition"),
        ref("recognition_mention", "article_id", "article"),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "recognition_id", "article_id", "span_start", name="pk_recognition_mention"
        ),
    )
    op.create_index("ix_recognition_mention_article_id", "recognition_mention", ["article_id"])
    op.create_table(
        "organisation_relation",
        ref("organisation_relation", "organisation_id", "organisation"),
        sa.Column("resource", text(20), nullable=False),
        sa.Column("record_id", text(120), nullable=False),
        sa.Column("role", text(30), nullable=False),
        ref("organisation_relation", "document_id", "document"),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "organisation_id", "resource", "record_id", "role", name="pk_organisation_relation"
        ),
    )
    for column in ("record_id", "role", "document_id"):
        op.create_index(f"ix_organisation_relation_{column}", "organisation_relation", [column])


def downgrade() -> None:
    for table in (
        "organisation_relation",
        "recognition_mention",
        "recognition_recipient",
        "recognition",
    ):
        op.drop_table(table)
