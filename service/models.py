"""SQLModel tables: the one import Alembic needs.

Every curated fact keeps its provenance: the document it comes from, the verbatim quote and the
character span (`span_start`, `span_end`: Python str indices into the document text).
`null_reasons` maps a field left null for lack of data to the curator's reason.
"""

from __future__ import annotations

import re
import types
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

# Named constraints so Alembic batch mode (SQLite) can drop and recreate them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 120


def text_type(length: int) -> sa.types.TypeEngine[str]:
    """VARCHAR that sorts by code point on every PostgreSQL locale, as SQLite does.

    Keyset cursors compare strings in SQL, so both databases must agree on the order.
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """NUMERIC that round-trips exactly on SQLite too.

    SQLite has no decimal type: the value is bound as text, stored with NUMERIC affinity (so it
    still compares and sorts as a number), and read back through its shortest float repr.
    """

    impl = sa.Numeric(20, 6)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
        # Drop PostgreSQL's scale padding (288.510000) without going to exponent form (1.34E+8).
        return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: default.copy(), sa_type=sa.JSON, nullable=False)


def _revision() -> Any:
    """Bumped on every write (API or loader): the record's ETag is `"<resource>:<id>:r<n>"`."""
    return Field(default=1, sa_column_kwargs={"server_default": "1"})


def _deleted_at() -> Any:
    """Set by a curator's soft delete: the record is hidden everywhere until restored."""
    return Field(default=None, nullable=True)


def _curator_edited() -> Any:
    """Created or changed through the write API: the seed loader leaves the record alone."""
    return Field(default=False, sa_column_kwargs={"server_default": sa.false()})


def _id() -> Any:
    """A record's id: its readable slug."""
    return Field(primary_key=True, sa_type=text_type(ID_LENGTH))


def _key_fk(target: str, *, index: bool = False) -> Any:
    """A link table's key column that refers to a record (the first one is served by the
    primary key's index; the others get their own)."""
    return Field(foreign_key=target, primary_key=True, sa_type=text_type(ID_LENGTH), index=index)


def _fk(target: str, *, nullable: bool = True, index: bool = True) -> Any:
    return Field(
        default=None if nullable else ...,
        foreign_key=target,
        sa_type=text_type(ID_LENGTH),
        nullable=nullable,
        index=index,
    )


def _live_index(name: str, *columns: str) -> sa.Index:
    """A partial index of the live rows (`deleted_at IS NULL`) that covers `deleted_at` too."""
    live = sa.text("deleted_at IS NULL")
    return sa.Index(name, *columns, "deleted_at", sqlite_where=live, postgresql_where=live)


class TableModel(SQLModel):
    """Base of every table: named after its class in snake case (`PersonOrganisation` is
    `person_organisation`) unless it says otherwise."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class Record(TableModel):
    """Base of a curated record's table: its id, the readable slug, comes first."""

    id: str = _id()


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a SQLModel class (SQLModel does not type `__table__`)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


Model = TypeVar("Model", bound=type[SQLModel])


def in_dataset(model: Model) -> Model:
    """Marks a table as part of the curated dataset: the seed loader fills and syncs it, the
    bulk downloads publish it (`dataset_tables`)."""
    table_of(model).info["dataset"] = True
    table_of(model).info["model"] = model
    return model


def dataset_tables() -> list[sa.Table]:
    """The curated dataset's tables, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.info.get("dataset")]


def _dataset_model(table: str, doc: str, /, **columns: tuple[Any, Any]) -> type[SQLModel]:
    """The model of a dataset table, from its columns in order (`column=(type, Field(...))`):
    one declaration for each family of same-shaped tables below."""

    def body(namespace: dict[str, Any]) -> None:
        namespace.update({"__module__": __name__, "__doc__": doc})
        namespace["__annotations__"] = {column: kind for column, (kind, _) in columns.items()}
        namespace.update({column: field for column, (_, field) in columns.items()})

    class_name = "".join(part.title() for part in table.split("_"))
    return in_dataset(types.new_class(class_name, (TableModel,), {"table": True}, body))


def _named_in_article(target: str, doc: str) -> type[SQLModel]:
    """`article_<target>`: a record an article names, with the quoted first mention."""
    return _dataset_model(
        f"article_{target}",
        doc,
        article_id=(str, _key_fk("article.id")),
        **{f"{target}_id": (str, _key_fk(f"{target}.id", index=True))},
        quote=(str, Field(sa_type=text_type(300))),
        span_start=(int, Field()),
        span_end=(int, Field()),
    )


def _mentions(owner: str, quote: sa.types.TypeEngine[str]) -> type[SQLModel]:
    """`<owner>_mention`: every place an article names the record, keyed by where it starts."""
    return _dataset_model(
        f"{owner}_mention",
        f"Every place an article names the {owner}: the verbatim quote and its span.",
        **{f"{owner}_id": (str, _key_fk(f"{owner}.id"))},
        article_id=(str, _key_fk("article.id", index=True)),
        span_start=(int, Field(primary_key=True)),
        span_end=(int, Field()),
        quote=(str, Field(sa_type=quote)),
    )


def _named_record(table: str, doc: str, /, **own: tuple[Any, Any]) -> type[SQLModel]:
    """A record known by its unique name (organisations, initiatives), with its `own` columns
    after `kind`; curators write it through the API, hence the lifecycle columns."""
    return _dataset_model(
        table,
        doc,
        id=(str, _id()),
        name=(str, Field(sa_type=text_type(120), unique=True)),
        name_en=(str | None, Field(default=None, sa_type=text_type(200))),
        kind=(str, Field(sa_type=text_type(30), index=True)),
        **own,
        region_id=(str | None, _fk("region.id")),
        parent_id=(str | None, _fk(f"{table}.id")),
        aliases=(list[str], _json([])),
        notes=(list[str], _json([])),
        null_reasons=(dict[str, str], _json({})),
        revision=(int, _revision()),
        deleted_at=(datetime | None, _deleted_at()),
        curator_edited=(bool, _curator_edited()),
    )


class Dataset(TableModel, table=True):
    """One row: which version of the curated data is loaded (drives ETags and caches)."""

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)
    content_sha256: str = Field(sa_type=text_type(64))
    loaded_at: datetime


@in_dataset
class Region(Record, table=True):
    name: str = Field(sa_type=text_type(60), index=True)
    name_en: str = Field(sa_type=text_type(120))
    level: str = Field(sa_type=text_type(30), index=True)
    code: str | None = Field(default=None, sa_type=text_type(12), index=True)
    parent_id: str | None = _fk("region.id")
    aliases: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})


@in_dataset
class Document(Record, table=True):
    source: str = Field(sa_type=text_type(200), unique=True)
    title: str | None = Field(default=None, sa_type=text_type(200))
    publisher: str | None = Field(default=None, sa_type=text_type(200))
    sha256: str = Field(sa_type=text_type(64))
    char_count: int
    text: str = Field(sa_type=sa.Text)
    date_estimate: str = Field(sa_type=text_type(10), index=True)
    date_precision: str = Field(sa_type=text_type(10))
    date_basis: list[dict[str, Any]] = _json([])
    notes: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})


@in_dataset
class Contributor(Record, table=True):
    name: str = Field(sa_type=text_type(40), index=True)


@in_dataset
class Article(Record, table=True):
    document_id: str = _fk("document.id", nullable=False)
    position: int = Field(index=True)
    kind: str = Field(sa_type=text_type(20), index=True)
    section: str | None = Field(default=None, sa_type=text_type(200))
    kicker: str | None = Field(default=None, sa_type=text_type(300))
    headline: str = Field(sa_type=text_type(300), index=True)
    subheadline: str | None = Field(default=None, sa_type=text_type(300))
    byline: str | None = Field(default=None, sa_type=text_type(300))
    region_id: str | None = _fk("region.id")
    span_start: int
    span_end: int
    body: list[str] = _json([])
    repairs: list[dict[str, Any]] = _json([])
    continued_on: str | None = Field(default=None, sa_type=text_type(40), index=True)
    notes: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})
    revision: int = _revision()
    deleted_at: datetime | None = _deleted_at()
    curator_edited: bool = _curator_edited()

    __table_args__ = (sa.Index("ix_article_document_position", "document_id", "position"),)


@in_dataset
class ArticleContributor(TableModel, table=True):
    article_id: str = _key_fk("article.id")
    contributor_id: str = _key_fk("contributor.id", index=True)
    role: str = Field(primary_key=True, sa_type=text_type(20), index=True)
    staff_title: str | None = Field(default=None, sa_type=text_type(20))
    position: int


Organisation = _named_record(
    "organisation",
    "A body the sources name: government, party, company, bank, alliance …",
    # {name, basis: curator_knowledge, note}: a fuller name the text does not write (0010).
    fuller_name=(dict[str, str] | None, Field(default=None, sa_type=sa.JSON, nullable=True)),
)


Initiative = _named_record(
    "initiative",
    "A programme, brand, app or project the sources name.",
    summary=(str | None, Field(default=None, sa_type=sa.Text)),
)


@in_dataset
class InitiativeOrganisation(TableModel, table=True):
    initiative_id: str = _key_fk("initiative.id")
    organisation_id: str = _key_fk("organisation.id", index=True)
    role: str = Field(primary_key=True, sa_type=text_type(20), index=True)


ArticleOrganisation = _named_in_article(
    "organisation", "An organisation named in an article, with the quoted first mention."
)


ArticleInitiative = _named_in_article(
    "initiative", "An initiative named in an article, with the quoted first mention."
)


@in_dataset
class Metric(Record, table=True):
    article_id: str = _fk("article.id", nullable=False)
    document_id: str = _fk("document.id", nullable=False)
    subject: str = Field(sa_type=text_type(300))
    subject_en: str | None = Field(default=None, sa_type=text_type(300))
    kind: str = Field(sa_type=text_type(20), index=True)
    raw: str = Field(sa_type=text_type(60))
    value: Decimal = Field(sa_type=ExactDecimal, index=True)
    unit: str | None = Field(default=None, sa_type=text_type(20), index=True)
    qualifier: str | None = Field(default=None, sa_type=text_type(10), index=True)
    cumulative: bool = Field(default=False, index=True)
    period: str | None = Field(default=None, sa_type=text_type(60), index=True)
    # What the text counts, beside the written unit (migration 0010): the normalised unit, the
    # counted noun where no classifier is written, and a rate's marker and basis.
    unit_normalised: str | None = Field(default=None, sa_type=text_type(20), index=True)
    counted: str | None = Field(default=None, sa_type=text_type(60))
    per: str | None = Field(default=None, sa_type=text_type(20))
    per_basis: list[str] = _json([])
    region_id: str | None = _fk("region.id")
    initiative_id: str | None = _fk("initiative.id")
    organisation_id: str | None = _fk("organisation.id")
    growth_of_id: str | None = _fk("metric.id")
    quote: str = Field(sa_type=sa.Text)
    span_start: int
    span_end: int
    notes: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})
    revision: int = _revision()
    deleted_at: datetime | None = _deleted_at()
    curator_edited: bool = _curator_edited()

    __table_args__ = (
        # Keyset pages on the default and value sorts, per unit (the common filter).
        sa.Index("ix_metric_unit_value_id", "unit", "value", "id"),
        sa.Index("ix_metric_value_id", "value", "id"),
        # Covering partial indexes for live rows (every list filters deleted_at IS NULL):
        # without them counts read the whole table (migration 0004, measured by make bench).
        _live_index("ix_metric_live_document_position", "document_id", "span_start", "id"),
        _live_index("ix_metric_live_unit_value_region", "unit", "value", "region_id", "id"),
        # Facets per region (migration 0011): index-only facet counts under a region filter.
        *(
            _live_index(f"ix_metric_live_region_{column}", "region_id", column)
            for column in ("unit", "kind", "qualifier", "period", "cumulative")
        ),
    )


# ---------------------------------------------------------------- people and places (read-only)


@in_dataset
class Person(Record, table=True):
    """A person the text names (the bylines' reporters are contributors, not people)."""

    name: str = Field(sa_type=text_type(40), index=True)
    aliases: list[str] = _json([])
    titles: list[str] = _json([])
    notes: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})


@in_dataset
class PersonOrganisation(TableModel, table=True):
    """A person's organisation, with the title the text gives them there."""

    person_id: str = _key_fk("person.id")
    organisation_id: str = _key_fk("organisation.id", index=True)
    title: str | None = Field(default=None, sa_type=text_type(60))


PersonMention = _mentions("person", text_type(300))


@in_dataset
class Place(Record, table=True):
    """A place below county level (village, town, scenic area, industrial park …)."""

    name: str = Field(sa_type=text_type(60), index=True)
    kind: str = Field(sa_type=text_type(30), index=True)
    region_id: str | None = _fk("region.id")
    parent_id: str | None = _fk("place.id")
    aliases: list[str] = _json([])
    notes: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})


PlaceMention = _mentions("place", text_type(300))


@in_dataset
class PlaceLink(TableModel, table=True):
    """A metric, initiative or organisation the text places in a place (its curated record
    keeps its county-level region), with the quote that says so."""

    place_id: str = _key_fk("place.id")
    resource: str = Field(primary_key=True, sa_type=text_type(20))
    record_id: str = Field(primary_key=True, sa_type=text_type(ID_LENGTH), index=True)
    article_id: str = _fk("article.id", nullable=False)
    quote: str = Field(sa_type=sa.Text)
    span_start: int
    span_end: int


# ---------------------------------------------------------------- recognitions and typed relations


@in_dataset
class Recognition(Record, table=True):
    """An award, listing or status the text says a record received (national typical case …)."""

    what: str = Field(sa_type=text_type(120), index=True)
    kind: str = Field(sa_type=text_type(30), index=True)
    level: str = Field(sa_type=text_type(20), index=True)
    awarder_id: str | None = _fk("organisation.id")
    awarded: str | None = Field(default=None, sa_type=text_type(20))
    notes: list[str] = _json([])
    null_reasons: dict[str, str] = _json({})


@in_dataset
class RecognitionRecipient(TableModel, table=True):
    """Who received a recognition: a record of any resource."""

    recognition_id: str = _key_fk("recognition.id")
    resource: str = Field(primary_key=True, sa_type=text_type(20))
    record_id: str = Field(primary_key=True, sa_type=text_type(ID_LENGTH), index=True)


RecognitionMention = _mentions("recognition", sa.Text())


@in_dataset
class OrganisationRelation(TableModel, table=True):
    """A typed relation the text states between an organisation and a record: it builds, runs,
    endorses or funds an initiative, is the subject or the source of a figure …"""

    organisation_id: str = _key_fk("organisation.id")
    resource: str = Field(primary_key=True, sa_type=text_type(20))
    record_id: str = Field(primary_key=True, sa_type=text_type(ID_LENGTH), index=True)
    role: str = Field(primary_key=True, sa_type=text_type(30), index=True)
    document_id: str = _fk("document.id", nullable=False)
    quote: str = Field(sa_type=sa.Text)
    span_start: int
    span_end: int
    note: str | None = Field(default=None, sa_type=sa.Text)


class ApiKey(TableModel, table=True):
    """A curator's bearer key (`python -m service.keys`). Only the token's SHA-256 is stored."""

    id: str = Field(primary_key=True, sa_type=text_type(16))
    name: str = Field(sa_type=text_type(80))
    role: str = Field(sa_type=text_type(10))
    secret_sha256: str = Field(sa_type=text_type(64))
    created_at: datetime
    revoked_at: datetime | None = None


class Change(TableModel, table=True):
    """Audit trail of every write through the API (served at `/v1/changes`)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    key_id: str = Field(sa_type=text_type(16))
    key_name: str = Field(sa_type=text_type(80))
    resource: str = Field(sa_type=text_type(20))
    record_id: str = Field(sa_type=text_type(ID_LENGTH))
    action: str = Field(sa_type=text_type(10))
    revision: int
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)

    __table_args__ = (sa.Index("ix_change_resource_record", "resource", "record_id"),)


class IdempotencyKey(TableModel, table=True):
    """A POST's `Idempotency-Key`, per API key: the request's fingerprint and the response it
    got, replayed to a retry for 24 hours (service/curation/idempotency.py)."""

    __tablename__ = "idempotency_keys"

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(sa_type=text_type(16))  # the API key id
    key: str = Field(sa_type=text_type(255))
    fingerprint: str = Field(sa_type=text_type(64))  # SHA-256 of method, path and body
    status: int
    response_body: str = Field(sa_type=sa.Text)
    response_headers: dict[str, str] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(index=True)

    __table_args__ = (sa.UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner_key"),)


class SearchEntry(TableModel, table=True):
    """Pre-tokenised text of one record, for full-text search (see service/fulltext.py).

    SQLite indexes `bigrams`/`unigrams`/`pinyin` with an FTS5 table kept in sync by triggers;
    PostgreSQL with GIN indexes on stored `to_tsvector('simple', …)` columns. Both are created
    by migrations (0002, 0005, 0006). `folded` and `size` are what ranking counts.
    """

    # INTEGER on SQLite so the id is the rowid the FTS5 index points at.
    id: int = Field(
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa_column_kwargs={"autoincrement": False},
    )
    resource: str = Field(sa_type=text_type(20))
    record_id: str = Field(sa_type=text_type(ID_LENGTH))
    title: str = Field(sa_type=text_type(300))
    text: str = Field(sa_type=sa.Text)
    bigrams: str = Field(sa_type=sa.Text)
    unigrams: str = Field(sa_type=sa.Text)
    pinyin: str = Field(sa_type=sa.Text, sa_column_kwargs={"server_default": ""})
    folded: str = Field(sa_type=sa.Text, sa_column_kwargs={"server_default": ""})
    size: int = Field(sa_column_kwargs={"server_default": "0"})

    __table_args__ = (sa.UniqueConstraint("resource", "record_id"),)


def declared_in_models(name: str | None, type_: str, _parent_names: object = None) -> bool:
    """False for objects only migrations create (FTS5 tables, full-text indexes, PostgreSQL's
    generated `*_tsv` columns), so autogenerate and the drift test leave them alone."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("search_entry_fts")
    if type_ == "index":
        return not name.endswith("_fts")
    if type_ == "column":
        return not name.endswith("_tsv")
    return True
