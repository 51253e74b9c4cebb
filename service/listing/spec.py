"""What a list endpoint is: its filters, sort keys, relations and rows (`ListSpec`), and the
reusable filter builders (regions with their sub-regions, many-to-many links)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

EXPORT_BATCH = 500

Op = Literal["eq", "in", "not", "gt", "gte", "lt", "lte", "contains", "startswith", "isnull"]
TEXT_OPS: tuple[Op, ...] = ("eq", "in", "not", "contains", "startswith", "isnull")
# Text that is never null (NOT NULL columns): `isnull` could only select all or nothing.
REQUIRED_TEXT_OPS: tuple[Op, ...] = ("eq", "in", "not", "contains", "startswith")
KEY_OPS: tuple[Op, ...] = ("eq", "in", "not", "isnull")
NUMBER_OPS: tuple[Op, ...] = ("eq", "in", "not", "gt", "gte", "lt", "lte")
RELATION_OPS: tuple[Op, ...] = ("eq", "in", "not")
LIST_PARAMS = frozenset(
    {"limit", "cursor", "sort", "count", "fields", "expand", "facet", "q", "format"}
)
DETAIL_PARAMS = frozenset({"fields", "expand"})
# Litestar appends "; charset=utf-8" to text types itself.
EXPORT_MEDIA_TYPES = {"csv": "text/csv", "ndjson": "application/x-ndjson"}

Item = TypeVar("Item")
# A result row as SQLAlchemy returns it (keys are column labels).
Row: TypeAlias = Mapping[Any, Any]
Builder = Callable[[Op, Any], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class FilterField:
    """A filterable field: `name=value` and `name__op=value` for each op in `ops`."""

    name: str
    type: type[Any]
    ops: tuple[Op, ...]
    description: str
    column: ColumnElement[Any] | None = None
    # For filters across relations: builds the WHERE clause from the op and parsed value.
    build: Builder | None = None
    enum: tuple[str, ...] | None = None
    example: Any = None
    # Offered as `facet=name` (needs a column).
    facet: bool = False


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    column: ColumnElement[Any]
    type: type[Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Relation:
    """`expand=name`: the record whose id is in the item's `field`, from `resource`."""

    field: str
    resource: str


# Every ListSpec by resource name, so `expand` can reach a related resource's spec.
REGISTRY: dict[str, ListSpec[Any]] = {}


@dataclass(frozen=True)
class ListSpec(Generic[Item]):
    """Everything the machinery needs to serve one resource's list and detail endpoints."""

    resource: str
    table: sa.Table
    id_column: sa.Column[str]
    columns: Sequence[ColumnElement[Any]]
    item_type: type[Item]
    to_item: Callable[[Row, Mapping[str, Any]], Item]
    filters: Sequence[FilterField]
    sort_keys: Sequence[SortKey]
    default_sort: str
    # The resource's concrete page Struct: fields data, page, links, total, facets.
    page_type: type[Any]
    # Loads related data for a page of ids in one query per relation (no N+1).
    load_extras: (
        Callable[[AsyncConnection, list[str]], Awaitable[dict[str, dict[str, Any]]]] | None
    ) = None
    relations: Mapping[str, Relation] = field(default_factory=dict)
    searchable: bool = False
    # Rows every read sees (e.g. not soft-deleted): applied to lists, counts, facets, details
    # and expansion, so no handler can forget it.
    base_where: ColumnElement[bool] | None = None
    filter_by_name: dict[str, FilterField] = field(init=False)
    sort_by_name: dict[str, SortKey] = field(init=False)
    field_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "filter_by_name", {f.name: f for f in self.filters})
        object.__setattr__(self, "sort_by_name", {s.name: s for s in self.sort_keys})
        names = tuple(f.name for f in msgspec.structs.fields(self.item_type))  # type: ignore[arg-type]
        object.__setattr__(self, "field_names", names)
        REGISTRY[self.resource] = self

    @property
    def accepted_params(self) -> frozenset[str]:
        names = set(LIST_PARAMS)
        # What the spec cannot do is not a parameter (OpenAPI leaves these out too): an unknown
        # parameter is a 400 naming it.
        if not self.searchable:
            names.discard("q")
        if not self.relations:
            names.discard("expand")
        if not self.facet_names:
            names.discard("facet")
        for flt in self.filters:
            names.update(flt.name if op == "eq" else f"{flt.name}__{op}" for op in flt.ops)
        return frozenset(names)

    @property
    def facet_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.filters if f.facet)


@functools.cache
def _region_tables() -> tuple[sa.Table, sa.FromClause]:
    # Built once: making the alias per request cost ~14% of a filtered page's CPU.
    from service.models import Region, table_of

    region = table_of(Region)
    return region, region.alias("parent_region")


def region_subtree(region_ids: Sequence[str]) -> sa.Select[tuple[str]]:
    """Ids of the given regions and all regions below them (the tree is at most 3 deep)."""
    region, parent = _region_tables()
    return (
        sa.select(region.c.id)
        .select_from(region.outerjoin(parent, region.c.parent_id == parent.c.id))
        .where(
            sa.or_(
                region.c.id.in_(region_ids),
                region.c.parent_id.in_(region_ids),
                parent.c.parent_id.in_(region_ids),
            )
        )
    )


class likely(FunctionElement[bool]):  # the SQL function's name
    """SQLite's planner hint that a condition holds for most rows (`likely(X)`); elsewhere X.

    A region filter names a city or a county of a few dozen regions, so it keeps a large share
    of the rows, but SQLite (no statistics, an IN over a subquery) takes it as selective: it
    gathered every row of the subtree by the region index and sorted them for the page (11 s
    for `region=li-shui-shi` on 1M metrics, 1.2 s for a county). With the hint it reads the page
    order's index and stops after `limit` rows (under 1 ms; 0.1 s for a county). PostgreSQL
    decides from its statistics."""

    type = sa.Boolean()
    inherit_cache = True
    name = "likely"


@compiles(likely)
def _likely_elsewhere(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(likely, "sqlite")
def _likely_on_sqlite(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def region_filter(column: ColumnElement[Any]) -> Builder:
    """`region=X` matches X and every region inside it."""

    def build(op: Op, value: Any) -> ColumnElement[bool]:
        if op == "isnull":
            return column.is_(None) if value else column.is_not(None)
        ids = list(value) if isinstance(value, tuple) else [value]
        inside = column.in_(region_subtree(ids))
        return sa.or_(column.is_(None), sa.not_(inside)) if op == "not" else likely(inside)

    return build


def region_field(column: ColumnElement[Any]) -> FilterField:
    """The `region` filter every resource with a region offers (sub-regions included)."""
    return FilterField(
        "region",
        str,
        ("eq", "in", "not", "isnull"),
        "Region id; matches the region and every region inside it",
        column=column,
        build=region_filter(column),
        example="li-shui-shi",
        facet=True,
    )


def link_filter(
    link_table: sa.Table,
    owner_fk: str,
    target_fk: str,
    owner_id: ColumnElement[Any],
    **match: str,
) -> Builder:
    """Filter owners by a many-to-many link: `organisation=X` on articles, for example. `match`
    narrows a link table shared by several resources (`resource="metrics"`)."""

    def build(op: Op, value: Any) -> ColumnElement[bool]:
        ids = list(value) if isinstance(value, tuple) else [value]
        linked = sa.exists().where(
            link_table.c[owner_fk] == owner_id,
            link_table.c[target_fk].in_(ids),
            *(link_table.c[name] == wanted for name, wanted in match.items()),
        )
        return sa.not_(linked) if op == "not" else linked

    return build


def id_field(column: ColumnElement[Any], label: str) -> FilterField:
    """`id__in=a,b`: several records by id in one request."""
    return FilterField("id", str, ("in",), f"{label} id", column=column)


def vocabulary_field(
    name: str,
    column: ColumnElement[Any],
    vocabulary: tuple[str, ...],
    description: str,
    example: str,
) -> FilterField:
    """A field whose values come from a fixed vocabulary (declared as the parameter's enum)."""
    return FilterField(
        name,
        str,
        ("eq", "in", "not"),
        description,
        column=column,
        enum=vocabulary,
        example=example,
        facet=True,
    )


def parent_field(
    column: ColumnElement[Any], description: str, example: str | None = None
) -> FilterField:
    return FilterField(
        "parent", str, KEY_OPS, description, column=column, example=example, facet=True
    )


def kind_region_parent(
    columns: sa.ColumnCollection[str, Any],
    noun: str,
    kinds: tuple[str, ...],
    kind_example: str,
    parent: str,
    parent_example: str | None = None,
) -> list[FilterField]:
    """The filters of a record with a `kind`, a `region` and a `parent` of its own kind
    (organisations, initiatives, places)."""
    return [
        vocabulary_field("kind", columns.kind, kinds, f"Kind of {noun}", kind_example),
        region_field(columns.region_id),
        parent_field(columns.parent_id, parent, parent_example),
    ]


def linked_field(
    name: str,
    description: str,
    link_table: sa.Table,
    owner_fk: str,
    owner_id: ColumnElement[Any],
    example: str | None = None,
) -> FilterField:
    """`name=X`: records linked to X through `link_table` (its `<name>_id` column)."""
    return FilterField(
        name,
        str,
        RELATION_OPS,
        description,
        build=link_filter(link_table, owner_fk, f"{name}_id", owner_id),
        example=example,
    )


def role_field(
    name: str,
    description: str,
    link_table: sa.Table,
    owner_fk: str,
    owner_id: ColumnElement[Any],
    roles: tuple[str, ...],
) -> FilterField:
    """`name=R`: records with a link in role R (the link table's `role` column)."""

    def build(op: Op, value: Any) -> ColumnElement[bool]:
        wanted = list(value) if isinstance(value, tuple) else [value]
        linked = sa.exists().where(
            link_table.c[owner_fk] == owner_id, link_table.c.role.in_(wanted)
        )
        return sa.not_(linked) if op == "not" else linked

    return FilterField(name, str, RELATION_OPS, description, build=build, enum=roles)


def _inline(text: str) -> ColumnElement[str]:
    # Inline, not bound: a facet's SELECT and GROUP BY must be the same expression on PostgreSQL.
    if "'" in text:
        raise ValueError(f"vocabulary text may not contain a quote: {text!r}")
    return sa.literal_column(f"'{text}'", sa.String)


def coded_field(
    name: str,
    column: ColumnElement[Any],
    codes: Mapping[str, str],
    description: str,
    example: str | None = None,
) -> FilterField:
    """A filter (and facet) on the code of a text column through a fixed vocabulary
    (text → code, several texts may share a code): the filter selects the column's texts, so it
    uses the column's index; the facet groups on the code."""
    forms: dict[str, list[str]] = {}
    for text, code in codes.items():
        forms.setdefault(code, []).append(text)
    every = list(codes)

    def written(value: Any) -> list[str]:
        wanted = value if isinstance(value, tuple) else (value,)
        return [text for code in wanted for text in forms[code]]

    def build(op: Op, value: Any) -> ColumnElement[bool]:
        if op == "isnull":
            coded = column.in_(every)
            return sa.or_(column.is_(None), sa.not_(coded)) if value else coded
        matched = column.in_(written(value))
        return sa.or_(column.is_(None), sa.not_(matched)) if op == "not" else matched

    coded = sa.case(
        *((column.in_([_inline(t) for t in texts]), _inline(c)) for c, texts in forms.items())
    )
    return FilterField(
        name,
        str,
        ("eq", "in", "not", "isnull"),
        description,
        column=coded,
        build=build,
        enum=tuple(forms),
        example=example,
        facet=True,
    )
