"""Shared list machinery: filters, sorting, keyset cursors, counts, facets, search, sparse
fieldsets, expansion, exports, links and the OpenAPI parameters for all of them.

Every list endpoint is described by one `ListSpec`; this module turns a request's query string
into SQL with it, runs it without ORM hydration and builds the page envelope. The same spec
generates the endpoint's OpenAPI parameters, so the docs cannot drift from what is accepted.
"""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import functools
import hashlib
import hmac
import io
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Generic, Literal, TypeAlias, TypeVar, cast
from urllib.parse import quote, urlencode

import msgspec
import sqlalchemy as sa
from litestar import Request, Response
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from service.fulltext import (
    MAX_QUERY_LENGTH,
    SEARCHABLE,
    SearchQuery,
    matching_ids,
    parse_query,
)
from service.http import negotiate, public_url
from service.problems import BadRequest, InvalidParam, invalid

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_IN_VALUES = 100
MAX_SORT_KEYS = 4
MAX_VALUE_LENGTH = 200
MAX_FACET_VALUES = 50
EXPORT_BATCH = 500

Op = Literal["eq", "in", "not", "gt", "gte", "lt", "lte", "contains", "startswith", "isnull"]
TEXT_OPS: tuple[Op, ...] = ("eq", "in", "not", "contains", "startswith", "isnull")
KEY_OPS: tuple[Op, ...] = ("eq", "in", "not", "isnull")
NUMBER_OPS: tuple[Op, ...] = ("eq", "in", "not", "gt", "gte", "lt", "lte")
RELATION_OPS: tuple[Op, ...] = ("eq", "in", "not")
_OP_DOC = {
    "eq": "equals",
    "in": "is one of (comma-separated list)",
    "not": "differs from (rows where the field is null are included)",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "contains": "contains (case-insensitive for Latin letters)",
    "startswith": "starts with (case-insensitive for Latin letters)",
    "isnull": "is null (`true`) or not null (`false`)",
}
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


# ---------------------------------------------------------------- wire envelope


class PageInfo(msgspec.Struct):
    limit: int
    next_cursor: str | None
    prev_cursor: str | None


class PageLinks(msgspec.Struct):
    self: str
    next: str | None
    prev: str | None


class Total(msgspec.Struct):
    value: int | None
    kind: Literal["exact", "none"]


class FacetValue(msgspec.Struct):
    """How many rows have this value, with every other filter applied."""

    value: str | bool | None
    count: int


Facets: TypeAlias = dict[str, list[FacetValue]]


# ---------------------------------------------------------------- spec


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
        if not self.searchable:
            names.discard("q")
        for flt in self.filters:
            names.update(flt.name if op == "eq" else f"{flt.name}__{op}" for op in flt.ops)
        return frozenset(names)

    @property
    def facet_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.filters if f.facet)


# ---------------------------------------------------------------- parsing


# Numbers as the API accepts them: ASCII digits only (int(), Decimal() and friends also take
# Arabic-Indic, full-width and other Unicode digits, underscores and surrounding spaces).
INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?")
# Control characters (C0, DEL, C1) are refused in every parameter, at the edge too.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ColumnType:
    """What a column can hold, as far as parsing filter values and cursor keys cares."""

    kind: Literal["str", "int", "decimal", "bool"]
    nullable: bool = True
    # int: the largest magnitude (inclusive); decimal: the exclusive bound 10**(precision-scale).
    limit: int = 0
    scale: int = 0
    max_length: int | None = None

    def describe(self) -> str:
        if self.kind == "int":
            return f"an integer (ASCII digits) from {-self.limit - 1} to {self.limit}"
        if self.kind == "decimal":
            return (
                f"a decimal number (ASCII digits, optional exponent) greater than "
                f"-1e{len(str(self.limit)) - 1} and less than 1e{len(str(self.limit)) - 1}"
            )
        return "a " + self.kind


@functools.cache
def column_type(column: ColumnElement[Any]) -> ColumnType:
    """Derived from the column's SQL type (the stricter PostgreSQL ranges on every database)."""
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator's underlying type
    nullable = bool(getattr(column, "nullable", True))
    if isinstance(kind, sa.Boolean):
        return ColumnType("bool", nullable)
    if isinstance(kind, sa.Integer):
        bits = 16 if isinstance(kind, sa.SmallInteger) else 64
        bits = 32 if type(kind) is sa.Integer else bits
        return ColumnType("int", nullable, limit=2 ** (bits - 1) - 1)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        precision, scale = kind.precision or 28, kind.scale or 0
        return ColumnType("decimal", nullable, limit=10 ** (precision - scale), scale=scale)
    return ColumnType("str", nullable, max_length=getattr(kind, "length", None))


def _filter_type(flt: FilterField) -> ColumnType:
    if flt.column is not None:
        found = column_type(flt.column)
        if found.kind != "str" or flt.type is str:
            return found
    if flt.type is int:
        return ColumnType("int", limit=2**63 - 1)
    if flt.type is Decimal:
        return ColumnType("decimal", limit=10**14, scale=6)
    return ColumnType("bool" if flt.type is bool else "str")


def parse_integer(param: str, raw: str, kind: ColumnType) -> int:
    if not INTEGER_TEXT.fullmatch(raw) or not -kind.limit - 1 <= int(raw) <= kind.limit:
        raise invalid(param, f"expected {kind.describe()}")
    return int(raw)


def parse_decimal(param: str, raw: str, kind: ColumnType, op: Op = "eq") -> Decimal:
    """A decimal within the column's range. Finer than the column's scale, it is rounded so
    the comparison keeps its meaning over the values the column can hold (`gt 0.0000001` is
    `gt 0` at scale 6; `eq` of such a number matches nothing): the database never sees a
    number it cannot represent."""
    bad = invalid(param, f"expected {kind.describe()}")
    if not DECIMAL_TEXT.fullmatch(raw):
        raise bad
    try:
        number = Decimal(raw)
        if abs(number) >= kind.limit:
            raise bad
        quantum = Decimal(1).scaleb(-kind.scale)
        down = number.quantize(quantum, rounding=ROUND_FLOOR)
        if down == number:
            return down
        if op in ("gt", "lte"):
            return down
        if op in ("gte", "lt"):
            return number.quantize(quantum, rounding=ROUND_CEILING)
        # Between two representable values: equal to none of them, and encodable.
        return down + quantum / 2
    except (InvalidOperation, ArithmeticError):
        raise bad from None


def _parse_scalar(flt: FilterField, param: str, raw: str, op: Op = "eq") -> Any:
    if len(raw) > MAX_VALUE_LENGTH:
        raise invalid(param, f"value longer than {MAX_VALUE_LENGTH} characters")
    if CONTROL.search(raw):
        raise invalid(param, "value contains a control character")
    if flt.type is bool:
        lowered = raw.lower()
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0"}:
            return False
        raise invalid(param, "expected true or false")
    if flt.type is int:
        return parse_integer(param, raw, _filter_type(flt))
    if flt.type is Decimal:
        return parse_decimal(param, raw, _filter_type(flt), op)
    if flt.enum is not None and raw not in flt.enum:
        raise invalid(param, "expected one of: " + ", ".join(flt.enum))
    return raw


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: Op
    value: Any


@dataclass(frozen=True, slots=True)
class Shape:
    """How items are presented: sparse fieldset and expanded relations (paths ≤ 2 deep)."""

    fields: frozenset[str] | None = None
    expand: tuple[tuple[str, ...], ...] = ()

    @property
    def plain(self) -> bool:
        return self.fields is None and not self.expand


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int
    conditions: tuple[Condition, ...]
    sort: tuple[tuple[SortKey, bool], ...]  # (key, descending)
    count: bool
    cursor: Cursor | None
    # The cursor binding of this query (see `query_binding`).
    binding: str
    search: SearchQuery | None = None
    facets: tuple[str, ...] = ()
    shape: Shape = Shape()
    export: Literal["csv", "ndjson"] | None = None


def reject_unknown(request: Request[Any, Any, Any], accepted: frozenset[str]) -> None:
    """Unknown query parameters are a 400: a typo must not silently return unfiltered data."""
    unknown = sorted(set(request.query_params.keys()) - accepted)
    if unknown:
        raise BadRequest(
            "Unknown query parameter(s): " + ", ".join(unknown),
            [InvalidParam(name, "unknown parameter") for name in unknown],
        )


def single_param(request: Request[Any, Any, Any], name: str) -> str | None:
    """The one value of a parameter (None when absent); given more than once is a 400."""
    values = request.query_params.getall(name, [])
    if len(values) > 1:
        raise invalid(name, "given more than once")
    return values[0] if values else None


def name_list(request: Request[Any, Any, Any], name: str) -> list[str]:
    """A comma list (also accepted as repeated parameters), without empty items."""
    values = [v for raw in request.query_params.getall(name, []) for v in raw.split(",")]
    if any(not v for v in values):
        raise invalid(name, "expected a comma-separated list of names")
    if len(values) > MAX_IN_VALUES:  # the documented maxItems
        raise invalid(name, f"at most {MAX_IN_VALUES} names")
    return values


def parse_limit(request: Request[Any, Any, Any]) -> int:
    raw = single_param(request, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    # ASCII digits only: str.isdigit() and int() also accept "٥" and "５".
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid("limit", f"expected an integer (ASCII digits) from 1 to {MAX_LIMIT}")
    return int(raw)


def parse_count(request: Request[Any, Any, Any]) -> bool:
    """`count=exact` (default, True) or `count=none`."""
    raw = single_param(request, "count")
    if raw not in (None, "exact", "none"):
        raise invalid("count", "expected exact or none")
    return raw != "none"


def parse_sort(spec: ListSpec[Any], raw: str | None) -> tuple[tuple[SortKey, bool], ...]:
    text = raw if raw is not None else spec.default_sort
    keys: list[tuple[SortKey, bool]] = []
    seen: set[str] = set()
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-")
        key = spec.sort_by_name.get(name)
        if key is None:
            allowed = ", ".join(spec.sort_by_name)
            raise invalid("sort", f"unknown sort key {name!r}; allowed: {allowed}")
        if name in seen:
            continue  # a repeated key cannot change the order: the first one wins
        seen.add(name)
        keys.append((key, descending))
    if len(text.split(",")) > MAX_SORT_KEYS:
        raise invalid("sort", f"at most {MAX_SORT_KEYS} sort keys")
    return tuple(keys)


def parse_shape(
    request: Request[Any, Any, Any], spec: ListSpec[Any], field_names: Sequence[str] = ()
) -> Shape:
    allowed_fields = field_names or spec.field_names
    fields: frozenset[str] | None = None
    if request.query_params.getall("fields", []):
        names = name_list(request, "fields")
        unknown = [n for n in names if n not in allowed_fields]
        if unknown:
            raise invalid(
                "fields",
                f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed_fields)}",
            )
        fields = frozenset(names) | {"id"}
    paths: list[tuple[str, ...]] = []
    expand_names = name_list(request, "expand")
    for path_text in expand_names:
        path = tuple(path_text.split("."))
        current = spec
        for depth, name in enumerate(path):
            relation = current.relations.get(name)
            if depth >= 2 or relation is None:
                allowed = ", ".join(spec.relations) or "none"
                raise invalid(
                    "expand", f"cannot expand {path_text!r} (depth ≤ 2; top level: {allowed})"
                )
            current = REGISTRY[relation.resource]
        if path not in paths:
            paths.append(path)
    return Shape(fields, tuple(paths))


LIST_MEDIA_TYPES = ("application/json", "text/csv", "application/x-ndjson")


def parse_export(request: Request[Any, Any, Any]) -> Literal["csv", "ndjson"] | None:
    """`format=` if given, else `Accept` with its q-values (RFC 9110): the representation the
    client prefers, JSON on a tie or when it accepts none of these three."""
    requested = single_param(request, "format")
    if requested is not None:
        if requested not in {"json", "csv", "ndjson"}:
            raise invalid("format", "expected json, csv or ndjson")
        return None if requested == "json" else cast(Literal["csv", "ndjson"], requested)
    chosen = negotiate(request.headers.get("accept"), LIST_MEDIA_TYPES)
    if chosen == "text/csv":
        return "csv"
    if chosen == "application/x-ndjson":
        return "ndjson"
    return None


def parse_list_query(
    request: Request[Any, Any, Any], spec: ListSpec[Any], secret: bytes
) -> ListQuery:
    reject_unknown(request, spec.accepted_params)
    limit = parse_limit(request)
    count = parse_count(request)
    conditions: list[Condition] = []
    for param in sorted(set(request.query_params.keys()) - LIST_PARAMS):
        name, _, op_text = param.partition("__")
        op = cast(Op, op_text or "eq")
        flt = spec.filter_by_name[name]
        raw = single_param(request, param)
        assert raw is not None
        value: Any
        if op == "in":
            parts = raw.split(",")  # taken as sent: the schema documents no padding
            if not raw or any(p == "" for p in parts):
                raise invalid(param, "expected a comma-separated list of values")
            if len(parts) > MAX_IN_VALUES:
                raise invalid(param, f"at most {MAX_IN_VALUES} values")
            value = tuple(_parse_scalar(flt, param, p, op) for p in parts)
        elif op == "isnull":
            value = _parse_scalar(FilterField(flt.name, bool, ("isnull",), ""), param, raw)
        else:
            value = _parse_scalar(flt, param, raw, op)
        conditions.append(Condition(name, op, value))

    search: SearchQuery | None = None
    q = single_param(request, "q")
    if q is not None:
        if len(q) > MAX_QUERY_LENGTH:
            raise invalid("q", f"at most {MAX_QUERY_LENGTH} characters")
        search = parse_query(q) if SEARCHABLE.search(q) else None
        if search is None:
            raise invalid("q", "nothing searchable: use Chinese characters, letters or digits")

    facets = name_list(request, "facet")
    unknown_facets = [f for f in facets if f not in spec.facet_names]
    if unknown_facets:
        allowed = ", ".join(spec.facet_names) or "none"
        raise invalid("facet", f"cannot facet on {', '.join(unknown_facets)}; allowed: {allowed}")

    sort = parse_sort(spec, single_param(request, "sort"))
    binding = query_binding(
        secret,
        f"/v1/{spec.resource}",
        [_canonical_conditions(conditions), list(search.phrases) if search else None],
        [("-" if desc else "") + key.name for key, desc in sort],
    )
    cursor_raw = single_param(request, "cursor")
    keys = [column_type(key.column) for key, _ in sort] + [column_type(spec.id_column)]
    cursor = decode_cursor(cursor_raw, secret, binding, keys) if cursor_raw else None
    return ListQuery(
        limit=limit,
        conditions=tuple(conditions),
        sort=sort,
        count=count,
        cursor=cursor,
        binding=binding,
        search=search,
        facets=tuple(dict.fromkeys(facets)),
        shape=parse_shape(request, spec),
        export=parse_export(request),
    )


def _canonical_conditions(conditions: Sequence[Condition]) -> list[Any]:
    return [
        [c.field, c.op, [str(v) for v in c.value] if isinstance(c.value, tuple) else str(c.value)]
        for c in conditions
    ]


# ---------------------------------------------------------------- cursors

# HMAC-SHA256 truncated to 128 bits, for both the cursor's signature and its query binding.
TAG_BYTES = 16
MAX_CURSOR_LENGTH = 2048
CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+")


def query_binding(secret: bytes, endpoint: str, selection: Any, sort: Sequence[str]) -> str:
    """The one binding of a cursor to its query, used by every endpoint that pages: an HMAC
    over the canonical query (endpoint path, what selects the rows, the sort with its
    directions). A cursor issued for one query is refused by any other."""
    canonical = msgspec.json.encode([endpoint, selection, list(sort)])
    digest = hmac.new(secret, b"query-binding\x00" + canonical, hashlib.sha256).digest()
    return digest[:TAG_BYTES].hex()


class Cursor(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """Position after (or before) a row: its sort-key values and id, bound to one query."""

    direction: Literal["next", "prev"]
    values: list[str | int | bool | None]
    binding: str


def encode_cursor(cursor: Cursor, secret: bytes) -> str:
    payload = msgspec.json.encode(cursor)
    tag = hmac.new(secret, payload, hashlib.sha256).digest()[:TAG_BYTES]
    return base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")


def _key_ok(value: Any, kind: ColumnType) -> bool:
    """Whether a cursor key is a value the sort column could hold (and the database accept)."""
    if value is None:
        return kind.nullable
    if kind.kind == "bool":
        return isinstance(value, bool)
    if kind.kind == "int":
        return type(value) is int and -kind.limit - 1 <= value <= kind.limit
    if not isinstance(value, str) or "\x00" in value:
        return False
    if kind.kind == "str":
        return kind.max_length is None or len(value) <= kind.max_length
    if not DECIMAL_TEXT.fullmatch(value) or "e" in value.lower():
        return False
    number = Decimal(value)
    return abs(number) < kind.limit and number == number.quantize(Decimal(1).scaleb(-kind.scale))


def decode_cursor(raw: str, secret: bytes, binding: str, keys: Sequence[ColumnType]) -> Cursor:
    """A signed cursor for this query, each key checked against its sort column's type;
    anything else is a 400 (never a database error)."""
    bad = invalid("cursor", "malformed or tampered cursor; restart from the first page")
    if len(raw) > MAX_CURSOR_LENGTH or not CURSOR_TEXT.fullmatch(raw):
        raise bad
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    tag, payload = blob[:TAG_BYTES], blob[TAG_BYTES:]
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        raise bad
    try:
        cursor = msgspec.json.decode(payload, type=Cursor)
    except msgspec.DecodeError:
        raise bad from None
    if not hmac.compare_digest(cursor.binding.encode(), binding.encode()):
        raise invalid("cursor", "cursor belongs to a different query; restart paging")
    if len(cursor.values) != len(keys):
        raise bad
    if not all(_key_ok(v, k) for v, k in zip(cursor.values, keys, strict=True)):
        raise bad
    return cursor


def _cursor_value(value: Any) -> str | int | bool | None:
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _typed(value: Any, kind: type[Any]) -> Any:
    if value is None:
        return None
    if kind is Decimal:
        return Decimal(str(value))
    return value


# ---------------------------------------------------------------- SQL


def filter_clause(flt: FilterField, op: Op, value: Any) -> ColumnElement[bool]:
    if flt.build is not None:
        return flt.build(op, value)
    column = flt.column
    assert column is not None, f"filter {flt.name} has neither column nor builder"
    match op:
        case "eq":
            return cast(ColumnElement[bool], column == value)
        case "in":
            return column.in_(value)
        case "not":
            return column.is_distinct_from(value)
        case "gt":
            return cast(ColumnElement[bool], column > value)
        case "gte":
            return cast(ColumnElement[bool], column >= value)
        case "lt":
            return cast(ColumnElement[bool], column < value)
        case "lte":
            return cast(ColumnElement[bool], column <= value)
        case "contains":
            return column.icontains(value, autoescape=True)
        case "startswith":
            return column.istartswith(value, autoescape=True)
        case "isnull":
            return column.is_(None) if value else column.is_not(None)


def keyset_clause(
    keys: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]
) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order given by `keys` (column, descending)."""
    clauses: list[ColumnElement[bool]] = []
    for i, (column, descending) in enumerate(keys):
        equal_prefix = [keys[j][0] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(sa.and_(*equal_prefix, step))
    # A redundant bound on the leading key: the OR chain alone cannot use an index, so SQLite
    # would gather and sort every row after the cursor; with it both databases seek and stop.
    column, descending = keys[0]
    if values[0] is None:
        return sa.or_(*clauses)
    lead = column <= values[0] if descending else column >= values[0]
    return sa.and_(lead, sa.or_(*clauses))


def where_clauses(
    spec: ListSpec[Any], query: ListQuery, dialect: str, *, skip_field: str | None = None
) -> list[ColumnElement[bool]]:
    clauses = [
        filter_clause(spec.filter_by_name[c.field], c.op, c.value)
        for c in query.conditions
        if c.field != skip_field
    ]
    if spec.base_where is not None:
        clauses.append(spec.base_where)
    if query.search is not None:
        clauses.append(spec.id_column.in_(matching_ids(spec.resource, query.search, dialect)))
    return clauses


@dataclass(frozen=True, slots=True)
class PageResult(Generic[Item]):
    items: list[Item]
    next_cursor: str | None
    prev_cursor: str | None
    total: int | None
    last_key: list[Any] | None = None  # sort-key values of the last row, for exports


async def scan_keyset(
    conn: AsyncConnection,
    stmt: sa.Select[Any],
    order_keys: Sequence[tuple[ColumnElement[Any], bool]],
    cursor: Cursor | None,
    values: Sequence[Any] | None,
    limit: int,
) -> tuple[list[Row], bool]:
    """One page of `stmt` after (or, for a prev cursor, before) `values` in `order_keys` order:
    the rows in display order, and whether more lie beyond them in the scan direction."""
    backwards = cursor is not None and cursor.direction == "prev"
    if values is not None:
        stmt = stmt.where(keyset_clause([(c, d != backwards) for c, d in order_keys], values))
    stmt = stmt.order_by(*((c.desc() if d != backwards else c.asc()) for c, d in order_keys))
    rows: list[Row] = list((await conn.execute(stmt.limit(limit + 1))).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    return rows, more


def neighbour_cursors(
    rows: Sequence[Row],
    more: bool,
    cursor: Cursor | None,
    key_of: Callable[[Row], list[Any]],
    binding: str,
    secret: bytes,
) -> tuple[str | None, str | None]:
    """Signed next/prev cursors for a page from `scan_keyset` (None where there is no page)."""
    backwards = cursor is not None and cursor.direction == "prev"
    has_next = more if not backwards else cursor is not None
    has_prev = more if backwards else cursor is not None

    def at(row: Row, direction: Literal["next", "prev"]) -> str:
        return encode_cursor(Cursor(direction, key_of(row), binding), secret)

    return (
        at(rows[-1], "next") if rows and has_next else None,
        at(rows[0], "prev") if rows and has_prev else None,
    )


async def fetch_page(
    conn: AsyncConnection, spec: ListSpec[Item], query: ListQuery, secret: bytes
) -> PageResult[Item]:
    where = where_clauses(spec, query, conn.dialect.name)
    order_keys: list[tuple[ColumnElement[Any], bool]] = [
        (key.column, desc) for key, desc in query.sort
    ]
    order_keys.append((spec.id_column, False))
    key_types = [key.type for key, _ in query.sort] + [str]

    stmt = sa.select(
        *spec.columns, *(col.label(f"_k{i}") for i, (col, _) in enumerate(order_keys))
    ).select_from(spec.table)
    if where:
        stmt = stmt.where(*where)
    values = None
    if query.cursor is not None:
        values = [_typed(v, t) for v, t in zip(query.cursor.values, key_types, strict=True)]
    rows, more = await scan_keyset(conn, stmt, order_keys, query.cursor, values, query.limit)

    def key_of(row: Row) -> list[Any]:
        return [_cursor_value(row[f"_k{i}"]) for i in range(len(order_keys))]

    next_cursor, prev_cursor = neighbour_cursors(
        rows, more, query.cursor, key_of, query.binding, secret
    )

    extras: dict[str, dict[str, Any]] = {}
    if spec.load_extras is not None and rows:
        extras = await spec.load_extras(conn, [row["id"] for row in rows])
    items = [spec.to_item(row, extras.get(row["id"], {})) for row in rows]

    total: int | None = None
    if query.count:
        count_stmt = sa.select(sa.func.count()).select_from(spec.table)
        if where:
            count_stmt = count_stmt.where(*where)
        total = int((await conn.execute(count_stmt)).scalar_one())
    forwards = query.cursor is None or query.cursor.direction == "next"
    last_key = key_of(rows[-1]) if rows and more and forwards else None
    return PageResult(items, next_cursor, prev_cursor, total, last_key)


async def fetch_facets(conn: AsyncConnection, spec: ListSpec[Any], query: ListQuery) -> Facets:
    """Value counts per facet; each facet applies every filter except its own (so a client can
    see the alternatives to what it selected)."""
    facets: Facets = {}
    for name in query.facets:
        column = spec.filter_by_name[name].column
        assert column is not None
        stmt = (
            sa.select(column.label("value"), sa.func.count().label("n"))
            .select_from(spec.table)
            .where(*where_clauses(spec, query, conn.dialect.name, skip_field=name))
            .group_by(column)
            .order_by(sa.desc("n"), column.is_(None), column)
            .limit(MAX_FACET_VALUES)
        )
        facets[name] = [FacetValue(r.value, int(r.n)) for r in await conn.execute(stmt)]
    return facets


# ---------------------------------------------------------------- shaping: fields and expand


async def fetch_by_ids(
    conn: AsyncConnection, spec: ListSpec[Any], ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Records of one resource by id, as wire dicts, in two queries at most."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = sa.select(*spec.columns).select_from(spec.table).where(spec.id_column.in_(wanted))
    if spec.base_where is not None:
        stmt = stmt.where(spec.base_where)
    rows = list((await conn.execute(stmt)).mappings())
    extras = await spec.load_extras(conn, [r["id"] for r in rows]) if spec.load_extras else {}
    return {r["id"]: msgspec.to_builtins(spec.to_item(r, extras.get(r["id"], {}))) for r in rows}


async def expand_items(
    conn: AsyncConnection,
    spec: ListSpec[Any],
    items: list[dict[str, Any]],
    paths: Sequence[tuple[str, ...]],
) -> None:
    """Attach `expanded[relation]` to each item: one query per relation and depth (no N+1)."""
    by_relation: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for path in paths:
        by_relation[path[0]].append(path[1:])
    for name, rest in by_relation.items():
        relation = spec.relations[name]
        target = REGISTRY[relation.resource]
        related = await fetch_by_ids(
            conn, target, (item[relation.field] for item in items if item.get(relation.field))
        )
        deeper = [p for p in rest if p]
        if deeper:
            await expand_items(conn, target, list(related.values()), deeper)
        for item in items:
            key = item.get(relation.field)
            item.setdefault("expanded", {})[name] = related.get(key) if key else None


async def shape_items(
    conn: AsyncConnection, spec: ListSpec[Any], items: Sequence[Any], shape: Shape
) -> list[Any]:
    if shape.plain:
        return list(items)
    shaped: list[dict[str, Any]] = [msgspec.to_builtins(item) for item in items]
    if shape.expand:
        await expand_items(conn, spec, shaped, shape.expand)
    if shape.fields is not None:
        keep = shape.fields | ({"expanded"} if shape.expand else set())
        shaped = [{k: v for k, v in item.items() if k in keep} for item in shaped]
    return shaped


# ---------------------------------------------------------------- envelope and links


def page_url(request: Request[Any, Any, Any], cursor: str | None) -> str:
    """This request's URL with another cursor: a relative reference, or absolute from
    `PUBLIC_BASE_URL` (never from `Host` or `X-Forwarded-*`: pages are cached for everyone)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    if cursor is not None:
        params.append(("cursor", cursor))
    query = urlencode(params)
    path = quote(request.scope["path"])
    return public_url(request.app.state.settings, f"{path}?{query}" if query else path)


def build_page(
    request: Request[Any, Any, Any],
    spec: ListSpec[Any],
    query: ListQuery,
    result: PageResult[Any],
    items: list[Any],
    facets: Facets | None,
) -> tuple[Any, dict[str, str]]:
    next_url = page_url(request, result.next_cursor) if result.next_cursor else None
    prev_url = page_url(request, result.prev_cursor) if result.prev_cursor else None
    page = spec.page_type(
        data=items,
        page=PageInfo(query.limit, result.next_cursor, result.prev_cursor),
        links=PageLinks(
            self=page_url(request, request.query_params.get("cursor")),
            next=next_url,
            prev=prev_url,
        ),
        total=Total(result.total, "exact" if query.count else "none"),
        facets=facets,
    )
    link_parts = [
        f'<{url}>; rel="{rel}"' for rel, url in (("next", next_url), ("prev", prev_url)) if url
    ]
    headers = {"Link": ", ".join(link_parts)} if link_parts else {}
    return page, headers


# ---------------------------------------------------------------- exports


def _flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One CSV row: nested objects become `a.b` columns, lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in {"null_reasons", "expanded"}:
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list | dict):
            flat[name] = msgspec.json.encode(value).decode() if value else ""
        elif value is None:
            flat[name] = ""
        else:
            flat[name] = value
    return flat


async def export_lines(
    request: Request[Any, Any, Any], spec: ListSpec[Any], query: ListQuery, secret: bytes
) -> AsyncIterator[bytes]:
    """Every matching row, in keyset batches on a connection of its own (the request's
    connection is released when the handler returns, before the body is streamed)."""
    engine = request.app.state.engine
    batch = dataclasses.replace(query, limit=EXPORT_BATCH, count=False, cursor=None)
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    async with engine.connect() as conn:
        while True:
            result = await fetch_page(conn, spec, batch, secret)
            items = await shape_items(conn, spec, result.items, query.shape)
            if query.export == "ndjson":
                yield b"".join(msgspec.json.encode(item) + b"\n" for item in items)
            else:
                rows = [_flatten(msgspec.to_builtins(item)) for item in items]
                if writer is None:
                    header = list(rows[0]) if rows else _csv_header(spec, query.shape)
                    writer = csv.DictWriter(buffer, header, extrasaction="ignore")
                    writer.writeheader()
                writer.writerows(rows)
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
            if result.last_key is None:
                return
            batch = dataclasses.replace(
                batch, cursor=Cursor("next", result.last_key, query.binding)
            )


def _csv_header(spec: ListSpec[Any], shape: Shape) -> list[str]:
    return [n for n in spec.field_names if shape.fields is None or n in shape.fields]


# ---------------------------------------------------------------- handlers' shared steps


def cursor_secret(request: Request[Any, Any, Any]) -> bytes:
    secret: bytes = request.app.state.cursor_secret
    return secret


async def list_response(
    request: Request[Any, Any, Any], conn: AsyncConnection, spec: ListSpec[Any]
) -> Response[Any]:
    """Parse the query, then either stream an export or return one page with its links."""
    secret = cursor_secret(request)
    query = parse_list_query(request, spec, secret)
    if query.export is not None:
        filename = f"{spec.resource}.{query.export}"
        return Stream(
            export_lines(request, spec, query, secret),
            media_type=EXPORT_MEDIA_TYPES[query.export],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    result = await fetch_page(conn, spec, query, secret)
    items = await shape_items(conn, spec, result.items, query.shape)
    facets = await fetch_facets(conn, spec, query) if query.facets else None
    page, headers = build_page(request, spec, query, result, items, facets)
    return Response(page, headers=headers)


async def fetch_item(conn: AsyncConnection, spec: ListSpec[Item], item_id: str) -> Item | None:
    stmt = sa.select(*spec.columns).select_from(spec.table).where(spec.id_column == item_id)
    if spec.base_where is not None:
        stmt = stmt.where(spec.base_where)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        return None
    extras = await spec.load_extras(conn, [item_id]) if spec.load_extras else {}
    return spec.to_item(row, extras.get(item_id, {}))


async def detail_response(
    request: Request[Any, Any, Any], conn: AsyncConnection, spec: ListSpec[Any], item: Any
) -> Response[Any]:
    """A detail body, with `fields` and `expand` applied when asked for."""
    reject_unknown(request, DETAIL_PARAMS)
    shape = parse_shape(request, spec, type(item).__struct_fields__)
    if shape.plain:
        etag = await record_etag(conn, spec, item)
        return Response(item, headers={"ETag": etag} if etag else None)
    return Response((await shape_items(conn, spec, [item], shape))[0])


def make_etag(resource: str, record_id: str, revision: int, body: Any = None) -> str:
    """Strong validator of a writable record's plain representation (what `If-Match` on writes
    compares against): its revision and a hash of the body, so the tag moves whenever anything
    the body embeds moves too (an article names organisations: renaming one changes the
    article's tag). Without a body (a deleted record) it is the revision alone."""
    if body is None:
        return f'"{resource}:{record_id}:r{revision}"'
    encoded = msgspec.json.encode(body, order="deterministic")
    digest = hashlib.blake2b(encoded, digest_size=8).hexdigest()
    return f'"{resource}:{record_id}:r{revision}-{digest}"'


async def record_etag(conn: AsyncConnection, spec: ListSpec[Any], item: Any) -> str | None:
    """The ETag of a record whose table has a `revision` column, from its revision and its
    detail body `item` (None for read-only resources: the HTTP layer then hashes the body)."""
    if "revision" not in spec.table.c:
        return None
    revision = await conn.scalar(sa.select(spec.table.c.revision).where(spec.id_column == item.id))
    return make_etag(spec.resource, item.id, int(revision), item) if revision is not None else None


# ---------------------------------------------------------------- reusable filter builders


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


def region_filter(column: ColumnElement[Any]) -> Builder:
    """`region=X` matches X and every region inside it."""

    def build(op: Op, value: Any) -> ColumnElement[bool]:
        if op == "isnull":
            return column.is_(None) if value else column.is_not(None)
        ids = list(value) if isinstance(value, tuple) else [value]
        inside = column.in_(region_subtree(ids))
        return sa.or_(column.is_(None), sa.not_(inside)) if op == "not" else inside

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
    link_table: sa.Table, owner_fk: str, target_fk: str, owner_id: ColumnElement[Any]
) -> Builder:
    """Filter owners by a many-to-many link: `organisation=X` on articles, for example."""

    def build(op: Op, value: Any) -> ColumnElement[bool]:
        ids = list(value) if isinstance(value, tuple) else [value]
        linked = sa.exists().where(
            link_table.c[owner_fk] == owner_id, link_table.c[target_fk].in_(ids)
        )
        return sa.not_(linked) if op == "not" else linked

    return build


# ---------------------------------------------------------------- OpenAPI


# What `_parse_scalar` accepts, stated in the schema so clients (and schemathesis) know it.
# No control character (C0, DEL, C1): the edge answers 400 to any (service/http.py).
TEXT_CHAR = r"[^\u0000-\u001f\u007f-\u009f]"
NO_NUL = rf"^{TEXT_CHAR}*$"
LIST_ITEM = r"^[^,\u0000-\u001f\u007f-\u009f]+$"
# `q`: at least one searchable character, and no control character.
SEARCH_PATTERN = rf"^{TEXT_CHAR}*{SEARCHABLE.pattern}{TEXT_CHAR}*$"


def _scalar_schema(flt: FilterField, op: Op, *, in_list: bool = False) -> Schema:
    if op == "isnull" or flt.type is bool:
        return Schema(type=OpenAPIType.BOOLEAN)
    if flt.type is int:
        return Schema(type=OpenAPIType.INTEGER, minimum=-(10**14), maximum=10**14)
    if flt.type is Decimal:
        return Schema(type=OpenAPIType.NUMBER, exclusive_minimum=-1e14, exclusive_maximum=1e14)
    if flt.enum is not None and op in {"eq", "not", "in"}:
        return Schema(type=OpenAPIType.STRING, enum=list(flt.enum))
    return Schema(
        type=OpenAPIType.STRING,
        max_length=MAX_VALUE_LENGTH,
        min_length=1 if in_list else None,
        pattern=LIST_ITEM if in_list else NO_NUL,
    )


def _list_parameter(name: str, description: str, items: Schema, example: Any = None) -> Parameter:
    # A comma-separated list: OpenAPI's form style without explode.
    return Parameter(
        name=name,
        param_in="query",
        required=False,
        description=description,
        schema=Schema(type=OpenAPIType.ARRAY, items=items, min_items=1, max_items=MAX_IN_VALUES),
        style="form",
        explode=False,
        examples={"example": Example(value=example)} if example is not None else None,
    )


def _filter_parameter(flt: FilterField, op: Op) -> Parameter:
    name = flt.name if op == "eq" else f"{flt.name}__{op}"
    # Examples go in the description: as `examples`, Swagger UI's "Try it out" pre-fills every
    # filter at once, and the combination matches nothing.
    hint = f" Example: `{flt.example}`." if flt.example is not None and op in {"eq", "in"} else ""
    description = f"{flt.description} — {_OP_DOC[op]}.{hint}"
    if op == "in":
        return _list_parameter(name, description, _scalar_schema(flt, op, in_list=True))
    return Parameter(
        name=name,
        param_in="query",
        required=False,
        description=description,
        schema=_scalar_schema(flt, op),
    )


def sort_pattern(spec: ListSpec[Any]) -> str:
    keys = "|".join(s.name for s in spec.sort_keys)
    return rf"^-?({keys})(,-?({keys})){{0,{MAX_SORT_KEYS - 1}}}$"


def _expand_paths(spec: ListSpec[Any]) -> list[str]:
    paths: list[str] = []
    for name, relation in spec.relations.items():
        paths.append(name)
        paths.extend(f"{name}.{sub}" for sub in REGISTRY[relation.resource].relations)
    return paths


def shape_parameters(spec: ListSpec[Any], item_type: type[Any] | None = None) -> list[Parameter]:
    names = [f.name for f in msgspec.structs.fields(item_type)] if item_type else spec.field_names
    params = [
        _list_parameter(
            "fields",
            "Sparse fieldset: only these fields of each item (`id` is always kept). The "
            "response then omits the other fields.",
            Schema(type=OpenAPIType.STRING, enum=list(names)),
            example=["id", names[1]],
        )
    ]
    if spec.relations:
        params.append(
            _list_parameter(
                "expand",
                "Related records to embed under each item's `expanded` object, by relation "
                "name; `a.b` embeds b inside a (depth ≤ 2). Fetched in one query per relation.",
                Schema(type=OpenAPIType.STRING, enum=_expand_paths(spec)),
                example=[next(iter(spec.relations))],
            )
        )
    return params


def list_parameters(spec: ListSpec[Any]) -> list[Parameter]:
    sort_names = ", ".join(f"`{s.name}`" for s in spec.sort_keys)
    params = [
        Parameter(
            name="limit",
            param_in="query",
            required=False,
            description=f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
            schema=Schema(
                type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT
            ),
        ),
        Parameter(
            name="cursor",
            param_in="query",
            required=False,
            description="Opaque cursor from `page.next_cursor` or `page.prev_cursor`. It is "
            "bound to the filters, search and sort it was issued for; reusing it with others "
            "is a 400.",
            schema=Schema(type=OpenAPIType.STRING, max_length=2048),
        ),
        Parameter(
            name="sort",
            param_in="query",
            required=False,
            description=f"Comma-separated sort keys, `-` prefix for descending. Allowed: "
            f"{sort_names}. The id is always the final tie-breaker. Default "
            f"`{spec.default_sort}`.",
            schema=Schema(
                type=OpenAPIType.STRING, default=spec.default_sort, pattern=sort_pattern(spec)
            ),
            examples={"default": Example(value=spec.default_sort)},
        ),
        Parameter(
            name="count",
            param_in="query",
            required=False,
            description="`exact` (default) includes `total.value`; `none` skips counting.",
            schema=Schema(type=OpenAPIType.STRING, enum=["exact", "none"], default="exact"),
        ),
        Parameter(
            name="format",
            param_in="query",
            required=False,
            description="`json` (default, one page) or a streamed export of every matching "
            "row: `csv` or `ndjson` (also chosen by `Accept: text/csv` or "
            "`application/x-ndjson`). Exports honour filters, search, sort, fields and expand.",
            schema=Schema(type=OpenAPIType.STRING, enum=["json", "csv", "ndjson"], default="json"),
        ),
        *shape_parameters(spec),
    ]
    if spec.facet_names:
        params.append(
            _list_parameter(
                "facet",
                "Count the values of these fields (`facets.<field>`: value and count, most "
                "frequent first, at most 50). Each facet applies every other filter, not its own.",
                Schema(type=OpenAPIType.STRING, enum=list(spec.facet_names)),
                example=[spec.facet_names[0]],
            )
        )
    if spec.searchable:
        params.append(
            Parameter(
                name="q",
                param_in="query",
                required=False,
                description="Full-text search in Chinese (and Latin words/numbers). Every "
                "space-separated word must occur; a Chinese word matches as a phrase, so 2-"
                "character words like 工坊 or 丽水 are found.",
                schema=Schema(
                    type=OpenAPIType.STRING,
                    min_length=1,
                    max_length=MAX_QUERY_LENGTH,
                    pattern=SEARCH_PATTERN,
                ),
                examples={"example": Example(value="工坊")},
            )
        )
    params.extend(_filter_parameter(flt, op) for flt in spec.filters for op in flt.ops)
    return params


def _export_content() -> dict[str, OpenAPIMediaType]:
    text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
    return {"text/csv": text, "application/x-ndjson": text}


def operation_class(spec: ListSpec[Any]) -> type[Operation]:
    """An Operation subclass that documents the spec's list parameters and export formats.

    Parameters are computed when the schema is generated, once every resource has registered
    (expand paths reach into related specs)."""

    def __post_init__(self: Operation) -> None:
        self.parameters = [*(self.parameters or []), *list_parameters(spec)]
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content.update(_export_content())

    cls = type(
        f"{spec.resource.title()}ListOperation", (Operation,), {"__post_init__": __post_init__}
    )
    return dataclasses.dataclass(cls)


def detail_operation_class(
    spec: ListSpec[Any], item_type: type[Any] | None = None
) -> type[Operation]:
    """An Operation subclass that documents `fields` and `expand` on a detail endpoint."""

    def __post_init__(self: Operation) -> None:
        self.parameters = [*(self.parameters or []), *shape_parameters(spec, item_type)]

    name = f"{spec.resource.title()}DetailOperation"
    return dataclasses.dataclass(type(name, (Operation,), {"__post_init__": __post_init__}))
