"""OpenAPI parameters and operations generated from each `ListSpec`, so the docs state exactly
what the parser accepts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)

from service.fulltext import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, SEARCHABLE
from service.listing import limits
from service.listing.spec import REGISTRY, FilterField, ListSpec, Op

OP_DOC = {
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


# What `parse_scalar` accepts, stated in the schema so clients (and schemathesis) know it.
# No control character (C0, DEL, C1): the edge answers 400 to any (service/web/guards.py).
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
        max_length=limits.MAX_VALUE_LENGTH,
        min_length=1 if in_list else None,
        pattern=LIST_ITEM if in_list else NO_NUL,
    )


def query_parameter(
    name: str,
    description: str,
    schema: Schema,
    *,
    required: bool = False,
    examples: dict[str, Example] | None = None,
    style: str | None = None,
    explode: bool | None = None,
) -> Parameter:
    """A query parameter, optional unless `required`."""
    return Parameter(
        name=name,
        param_in="query",
        required=required,
        description=description,
        schema=schema,
        examples=examples,
        style=style,
        explode=explode,
    )


def list_parameter(name: str, description: str, items: Schema, example: Any = None) -> Parameter:
    """A comma-separated list: OpenAPI's form style without explode."""
    return query_parameter(
        name,
        description,
        Schema(type=OpenAPIType.ARRAY, items=items, min_items=1, max_items=limits.MAX_IN_VALUES),
        examples={"example": Example(value=example)} if example is not None else None,
        style="form",
        explode=False,
    )


def limit_parameter() -> Parameter:
    return query_parameter(
        "limit",
        f"Page size, 1 to {limits.MAX_LIMIT} (default {limits.DEFAULT_LIMIT}).",
        Schema(
            type=OpenAPIType.INTEGER,
            minimum=1,
            maximum=limits.MAX_LIMIT,
            default=limits.DEFAULT_LIMIT,
        ),
    )


def cursor_parameter(description: str) -> Parameter:
    return query_parameter("cursor", description, Schema(type=OpenAPIType.STRING, max_length=2048))


def page_parameters(cursor_description: str) -> list[Parameter]:
    """`limit`, `cursor` and `count` of a keyset page (changes, search): counted only when
    asked, as resource lists are."""
    return [
        limit_parameter(),
        cursor_parameter(cursor_description),
        query_parameter(
            "count",
            "`none` (default): `total` is `{value: null, kind: none}` and the page never waits "
            "for a count; `exact`: `total.value` counts every match (once per dataset version "
            "and query, then reused by every page).",
            Schema(type=OpenAPIType.STRING, enum=["none", "exact"], default="none"),
        ),
    ]


def _filter_parameter(flt: FilterField, op: Op) -> Parameter:
    name = flt.name if op == "eq" else f"{flt.name}__{op}"
    # Examples go in the description: as `examples`, Swagger UI's "Try it out" pre-fills every
    # filter at once, and the combination matches nothing.
    hint = f" Example: `{flt.example}`." if flt.example is not None and op in {"eq", "in"} else ""
    description = f"{flt.description} — {OP_DOC[op]}.{hint}"
    if op == "in":
        return list_parameter(name, description, _scalar_schema(flt, op, in_list=True))
    return query_parameter(name, description, _scalar_schema(flt, op))


def sort_pattern(spec: ListSpec[Any]) -> str:
    keys = "|".join(s.name for s in spec.sort_keys)
    return rf"^-?({keys})(,-?({keys})){{0,{limits.MAX_SORT_KEYS - 1}}}$"


def _expand_paths(spec: ListSpec[Any]) -> list[str]:
    paths: list[str] = []
    for name, relation in spec.relations.items():
        paths.append(name)
        paths.extend(f"{name}.{sub}" for sub in REGISTRY[relation.resource].relations)
    return paths


def shape_parameters(spec: ListSpec[Any], item_type: type[Any] | None = None) -> list[Parameter]:
    names = [f.name for f in msgspec.structs.fields(item_type)] if item_type else spec.field_names
    params = [
        list_parameter(
            "fields",
            "Sparse fieldset: only these fields of each item (`id` is always kept). The "
            "response then omits the other fields.",
            Schema(type=OpenAPIType.STRING, enum=list(names)),
            example=["id", names[1]],
        )
    ]
    if spec.relations:
        params.append(
            list_parameter(
                "expand",
                "Related records to embed under each item's `expanded` object, by relation "
                "name; `a.b` embeds b inside a (depth ≤ 2). Fetched in one query per relation.",
                Schema(type=OpenAPIType.STRING, enum=_expand_paths(spec)),
                example=[next(iter(spec.relations))],
            )
        )
    return params


def list_parameters(spec: ListSpec[Any]) -> list[Parameter]:
    """Every parameter a list accepts: paging, sort, count, format, shape, facets, `q`, filters."""
    params = [*_paging_parameters(spec), *shape_parameters(spec)]
    if spec.facet_names:
        params.append(_facet_parameter(spec))
    if spec.searchable:
        params.append(_search_parameter())
    params.extend(_filter_parameter(flt, op) for flt in spec.filters for op in flt.ops)
    return params


def _paging_parameters(spec: ListSpec[Any]) -> list[Parameter]:
    sort_names = ", ".join(f"`{s.name}`" for s in spec.sort_keys)
    return [
        limit_parameter(),
        cursor_parameter(
            "Opaque cursor from `page.next_cursor` or `page.prev_cursor`. It is bound to the "
            "filters, search and sort it was issued for; reusing it with others is a 400."
        ),
        query_parameter(
            "sort",
            f"Comma-separated sort keys, `-` prefix for descending. Allowed: {sort_names}. The "
            f"id is always the final tie-breaker. Default `{spec.default_sort}`.",
            Schema(type=OpenAPIType.STRING, default=spec.default_sort, pattern=sort_pattern(spec)),
            examples={"default": Example(value=spec.default_sort)},
        ),
        query_parameter(
            "count",
            "`none` (default): no count, `total` is `{value: null, kind: none}`, so a page "
            "never waits for a count its client did not ask for (a new filter's count costs "
            "several times its page on a million rows). `estimated`: `total.value` is exact up "
            "to 10,000 matching items and an estimate above (`total.kind` says which). `exact` "
            "counts every match. Both are computed once per dataset version and query, then "
            "reused by every page of a walk.",
            Schema(type=OpenAPIType.STRING, enum=["none", "estimated", "exact"], default="none"),
        ),
        query_parameter(
            "format",
            "`json` (default, one page) or a streamed export of every matching row: `csv` or "
            "`ndjson` (also chosen by `Accept: text/csv` or `application/x-ndjson`). Exports "
            "honour filters, search, sort, fields and expand.",
            Schema(type=OpenAPIType.STRING, enum=["json", "csv", "ndjson"], default="json"),
        ),
    ]


def _facet_parameter(spec: ListSpec[Any]) -> Parameter:
    return list_parameter(
        "facet",
        "Count the values of these fields (`facets.<field>`: value and count, most "
        "frequent first, at most 50). Each facet applies every other filter, not its own.",
        Schema(type=OpenAPIType.STRING, enum=list(spec.facet_names)),
        example=[spec.facet_names[0]],
    )


# How `q` folds text (service/chinese.py), said once for the lists and `/v1/search`.
SEARCH_TOLERANCE = (
    "Traditional and simplified characters match each other (麗水 finds 丽水), full-width "
    "letters and digits match half-width ones, and a Latin word also matches a name by its "
    "toneless pinyin (`lishui` finds 丽水)."
)


def search_parameter(description: str, example: str, *, required: bool = False) -> Parameter:
    """`q`, as `fulltext.search_param` accepts it (lists and `/v1/search`)."""
    return query_parameter(
        "q",
        description,
        Schema(
            type=OpenAPIType.STRING,
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            pattern=SEARCH_PATTERN,
        ),
        required=required,
        examples={"example": Example(value=example)},
    )


def _search_parameter() -> Parameter:
    return search_parameter(
        "Full-text search in Chinese (and Latin words/numbers). Every "
        f"space-separated word must occur (at most {MAX_QUERY_WORDS} words); a Chinese "
        "word matches as a phrase, so 2-character words like 工坊 or 丽水 are found. "
        f"{SEARCH_TOLERANCE} The list keeps its `sort` (default or given); for hits ranked "
        "by relevance use `/v1/search` (with `type=`).",
        "工坊",
    )


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


def operation_with(name: str, parameters: Callable[[], list[Parameter]]) -> type[Operation]:
    """An Operation subclass that documents `parameters()` after the handler's own, computed
    when the schema is generated."""

    def __post_init__(self: Operation) -> None:
        self.parameters = [*(self.parameters or []), *parameters()]

    return dataclasses.dataclass(type(name, (Operation,), {"__post_init__": __post_init__}))


def detail_operation_class(
    spec: ListSpec[Any], item_type: type[Any] | None = None
) -> type[Operation]:
    """An Operation subclass that documents `fields` and `expand` on a detail endpoint."""
    return operation_with(
        f"{spec.resource.title()}DetailOperation", lambda: shape_parameters(spec, item_type)
    )
