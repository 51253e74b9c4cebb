"""A list request's query parameters → a `ListQuery`, from a plain multi-dict (no `Request`):
unknown names, repeated singles, limits, filters with typed values, sort, fields/expand, format."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Literal, TypeAlias, cast

from litestar.datastructures import MultiDict

from service.fulltext import SearchQuery, search_param
from service.listing import limits
from service.listing.columns import CONTROL, DECIMAL_TEXT, INTEGER_TEXT, ColumnType, column_type
from service.listing.cursor import Cursor, decode_cursor, query_binding
from service.listing.spec import LIST_PARAMS, REGISTRY, FilterField, ListSpec, Op, SortKey
from service.web.errors import BadRequest, InvalidParam, invalid
from service.web.negotiation import negotiate

# The query string as a multi-dict (Litestar's `request.query_params`, or one built in a test).
QueryParams: TypeAlias = MultiDict[str]


def filter_type(flt: FilterField) -> ColumnType:
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
    if not INTEGER_TEXT.fullmatch(raw):
        raise invalid(param, f"expected {kind.describe()}", "invalid_value")
    if not -kind.limit - 1 <= int(raw) <= kind.limit:
        raise invalid(param, f"expected {kind.describe()}", "out_of_range")
    return int(raw)


def parse_decimal(param: str, raw: str, kind: ColumnType, op: Op = "eq") -> Decimal:
    """A decimal within the column's range. Finer than the column's scale, it is rounded so
    the comparison keeps its meaning over the values the column can hold (`gt 0.0000001` is
    `gt 0` at scale 6; `eq` of such a number matches nothing): the database never sees a
    number it cannot represent."""
    bad = invalid(param, f"expected {kind.describe()}", "invalid_value")
    if not DECIMAL_TEXT.fullmatch(raw):
        raise bad
    try:
        number = Decimal(raw)
        if abs(number) >= kind.limit:
            raise invalid(param, f"expected {kind.describe()}", "out_of_range")
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


def parse_scalar(flt: FilterField, param: str, raw: str, op: Op = "eq") -> Any:
    if len(raw) > limits.MAX_VALUE_LENGTH:
        raise invalid(param, f"value longer than {limits.MAX_VALUE_LENGTH} characters", "too_long")
    if CONTROL.search(raw):
        raise invalid(param, "value contains a control character", "control_character")
    if flt.type is bool:
        lowered = raw.lower()
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0"}:
            return False
        raise invalid(param, "expected true or false", "invalid_value")
    if flt.type is int:
        return parse_integer(param, raw, filter_type(flt))
    if flt.type is Decimal:
        return parse_decimal(param, raw, filter_type(flt), op)
    if flt.enum is not None and raw not in flt.enum:
        raise invalid(param, "expected one of: " + ", ".join(flt.enum), "not_allowed")
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
    count: CountMode
    cursor: Cursor | None
    # The cursor binding of this query (see `query_binding`).
    binding: str
    search: SearchQuery | None = None
    facets: tuple[str, ...] = ()
    shape: Shape = Shape()
    export: Literal["csv", "ndjson"] | None = None


def reject_unknown(params: QueryParams, accepted: frozenset[str]) -> None:
    """Unknown query parameters are a 400: a typo must not silently return unfiltered data."""
    unknown = sorted(set(params.keys()) - accepted)
    if unknown:
        raise BadRequest(
            "Unknown query parameter(s): " + ", ".join(unknown),
            [InvalidParam(name, "unknown parameter", "unknown_parameter") for name in unknown],
        )


def single_param(params: QueryParams, name: str) -> str | None:
    """The one value of a parameter (None when absent); given more than once is a 400."""
    values = params.getall(name, [])
    if len(values) > 1:
        raise invalid(name, "given more than once", "repeated")
    return values[0] if values else None


def name_list(params: QueryParams, name: str) -> list[str]:
    """A comma list (also accepted as repeated parameters), without empty items."""
    values = [v for raw in params.getall(name, []) for v in raw.split(",")]
    if any(not v for v in values):
        raise invalid(name, "expected a comma-separated list of names", "invalid_value")
    if len(values) > limits.MAX_IN_VALUES:  # the documented maxItems
        raise invalid(name, f"at most {limits.MAX_IN_VALUES} names", "too_many")
    return values


def parse_limit(params: QueryParams) -> int:
    raw = single_param(params, "limit")
    if raw is None:
        return limits.DEFAULT_LIMIT
    # ASCII digits only: str.isdigit() and int() also accept "٥" and "５".
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= limits.MAX_LIMIT:
        raise invalid(
            "limit",
            f"expected an integer (ASCII digits) from 1 to {limits.MAX_LIMIT}",
            "out_of_range",
        )
    return int(raw)


CountMode = Literal["exact", "estimated", "none"]


def parse_list_count(params: QueryParams) -> CountMode:
    """`count=none` (default), `estimated` or `exact`: a page never waits for a count its
    client did not ask for (service/listing/counts.py says what a count costs)."""
    raw = single_param(params, "count")
    if raw is None:
        return "none"
    if raw not in ("exact", "estimated", "none"):
        raise invalid("count", "expected exact, estimated or none", "not_allowed")
    return cast(CountMode, raw)


def parse_count(params: QueryParams) -> bool:
    """`count=none` (default, False) or `count=exact` (True), as on resource lists."""
    raw = single_param(params, "count")
    if raw not in (None, "exact", "none"):
        raise invalid("count", "expected exact or none", "not_allowed")
    return raw == "exact"


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
            raise invalid("sort", f"unknown sort key {name!r}; allowed: {allowed}", "not_allowed")
        if name in seen:
            continue  # a repeated key cannot change the order: the first one wins
        seen.add(name)
        keys.append((key, descending))
    if len(text.split(",")) > limits.MAX_SORT_KEYS:
        raise invalid("sort", f"at most {limits.MAX_SORT_KEYS} sort keys", "too_many")
    return tuple(keys)


def parse_shape(params: QueryParams, spec: ListSpec[Any], field_names: Sequence[str] = ()) -> Shape:
    allowed_fields = field_names or spec.field_names
    fields: frozenset[str] | None = None
    if params.getall("fields", []):
        names = name_list(params, "fields")
        unknown = [n for n in names if n not in allowed_fields]
        if unknown:
            raise invalid(
                "fields",
                f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed_fields)}",
                "not_allowed",
            )
        fields = frozenset(names) | {"id"}
    paths: list[tuple[str, ...]] = []
    expand_names = name_list(params, "expand")
    for path_text in expand_names:
        path = tuple(path_text.split("."))
        current = spec
        for depth, name in enumerate(path):
            relation = current.relations.get(name)
            if depth >= 2 or relation is None:
                allowed = ", ".join(spec.relations) or "none"
                raise invalid(
                    "expand",
                    f"cannot expand {path_text!r} (depth ≤ 2; top level: {allowed})",
                    "not_allowed",
                )
            current = REGISTRY[relation.resource]
        if path not in paths:
            paths.append(path)
    return Shape(fields, tuple(paths))


LIST_MEDIA_TYPES = ("application/json", "text/csv", "application/x-ndjson")


def parse_export(params: QueryParams, accept: str | None) -> Literal["csv", "ndjson"] | None:
    """`format=` if given, else `Accept` with its q-values (RFC 9110): the representation the
    client prefers, JSON on a tie or when it accepts none of these three."""
    requested = single_param(params, "format")
    if requested is not None:
        if requested not in {"json", "csv", "ndjson"}:
            raise invalid("format", "expected json, csv or ndjson", "not_allowed")
        return None if requested == "json" else cast(Literal["csv", "ndjson"], requested)
    chosen = negotiate(accept, LIST_MEDIA_TYPES)
    if chosen == "text/csv":
        return "csv"
    if chosen == "application/x-ndjson":
        return "ndjson"
    return None


def parse_list_query(
    params: QueryParams, accept: str | None, spec: ListSpec[Any], secret: bytes
) -> ListQuery:
    """Every list parameter checked and typed (a 400 names each bad one); `accept` is the
    request's `Accept` header, consulted when `format=` is absent."""
    reject_unknown(params, spec.accepted_params)
    limit = parse_limit(params)
    count = parse_list_count(params)
    conditions: list[Condition] = []
    for param in sorted(set(params.keys()) - LIST_PARAMS):
        name, _, op_text = param.partition("__")
        op = cast(Op, op_text or "eq")
        flt = spec.filter_by_name[name]
        raw = single_param(params, param)
        assert raw is not None
        value: Any
        if op == "in":
            parts = raw.split(",")  # taken as sent: the schema documents no padding
            if not raw or any(p == "" for p in parts):
                raise invalid(param, "expected a comma-separated list of values", "invalid_value")
            if len(parts) > limits.MAX_IN_VALUES:
                raise invalid(param, f"at most {limits.MAX_IN_VALUES} values", "too_many")
            value = tuple(parse_scalar(flt, param, p, op) for p in parts)
        elif op == "isnull":
            value = parse_scalar(FilterField(flt.name, bool, ("isnull",), ""), param, raw)
        else:
            value = parse_scalar(flt, param, raw, op)
        conditions.append(Condition(name, op, value))

    search: SearchQuery | None = None
    q = single_param(params, "q")
    if q is not None:
        search = search_param(q)

    facets = name_list(params, "facet")
    unknown_facets = [f for f in facets if f not in spec.facet_names]
    if unknown_facets:
        allowed = ", ".join(spec.facet_names) or "none"
        raise invalid(
            "facet",
            f"cannot facet on {', '.join(unknown_facets)}; allowed: {allowed}",
            "not_allowed",
        )

    sort = parse_sort(spec, single_param(params, "sort"))
    binding = query_binding(
        secret,
        f"/v1/{spec.resource}",
        [canonical_conditions(conditions), search.canonical if search else None],
        [("-" if desc else "") + key.name for key, desc in sort],
    )
    cursor_raw = single_param(params, "cursor")
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
        shape=parse_shape(params, spec),
        export=parse_export(params, accept),
    )


def canonical_conditions(conditions: Sequence[Condition]) -> list[Any]:
    return [
        [c.field, c.op, [str(v) for v in c.value] if isinstance(c.value, tuple) else str(c.value)]
        for c in conditions
    ]
