"""People and places: read-only resources curated in seed/pending/ (people.yaml, places.yaml,
place-links.yaml), with every mention's quote and span.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:31:04

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def text(length: int) -> sa.types.TypeEngine[str]:
    """As service.models.text_type: code-point order on PostgreSQL, as on SQLite."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def ref(table: str, name: str, target: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    """A foreign key named as service.models' naming convention names it."""
    key = sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{name}_{target}")
    return sa.Column(name, text(120), key, nullable=nullable)


def mention_table(owner: str) -> None:
    table = f"{owner}_mention"
    op.create_table(
        table,
        ref(table, f"{owner}_id", owner),
        ref(table, "article_id", "article"),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("quote", text(300), nullable=False),
        sa.PrimaryKeyConstraint(f"{owner}_id", "article_id", "span_start", name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_article_id", table, ["article_id"])


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", text(120), nullable=False),
        sa.Column("name", text(40), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("null_reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
    )
    op.create_index("ix_person_name", "person", ["name"])
    op.create_table(
        "place",
        sa.Column("id", text(120), nullable=False),
        sa.Column("name", text(60), nullable=False),
        sa.Column("kind", text(30), nullable=False),
        ref("place", "region_id", "region", nullable=True),
        ref("place", "parent_id", "place", nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("null_reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_place"),
    )
    for column in ("kind", "name", "parent_id", "region_id"):
        op.create_index(f"ix_place_{column}", "place", [column])
    op.create_table(
        "person_organisation",
        ref("person_organisation", "person_id", "person"),
        ref("person_organisation", "organisation_id", "organisation"),
        sa.Column("title", text(60), nullable=True),
        sa.PrimaryKeyConstraint("person_id", "organisation_id", name="pk_person_organisation"),
    )
    op.create_index(
        "ix_person_organisation_organisation_id", "person_organisation", ["organisation_id"]
    )
    mention_table("person")
    mention_table("place")
    op.create_table(
        "place_link",
        ref("place_link", "place_id", "place"),
        sa.Column("resource", text(20), nullable=False),
        sa.Column("record_id", text(120), nullable=False),
        ref("place_link", "article_id", "article"),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("place_id", "resource", "record_id", name="pk_place_link"),
    )
    op.create_index("ix_place_link_article_id", "place_link", ["article_id"])
    op.create_index("ix_place_link_record_id", "place_link", ["record_id"])


def downgrade() -> None:
    for table in (
        "place_link",
        "place_mention",
        "person_mention",
        "person_organisation",
        "place",
        "person",
    ):
        op.drop_table(table)
