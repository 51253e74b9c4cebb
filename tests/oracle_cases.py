"""What the oracle tests ask the API: read from the served OpenAPI, with sample values drawn
from the curated data so that each case selects a non-empty strict subset."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from tests.helpers import Client, get_json
from tests.oracle import NoOracle, Oracle

# Query parameters every list has that are not filters.
LIST_PARAMS = {"limit", "cursor", "sort", "count", "format", "fields", "expand", "facet", "q"}
# Values no record has: an `__in` list must not match more because of them.
ABSENT = "no-such-value"


@cache
def oracle() -> Oracle:
    return Oracle()


@dataclass(frozen=True)
class Param:
    name: str  # as sent, e.g. value__gte
    field: str  # e.g. value
    op: str  # eq, in, not, ...
    kind: str  # "number", "boolean" or "string" (of one value)


@dataclass(frozen=True)
class Case:
    resource: str
    param: Param
    raw: str
    expected: frozenset[str]


async def list_parameters(client: Client) -> dict[str, dict[str, dict[str, Any]]]:
    """Each list resource of the served OpenAPI -> its query parameters by name."""
    spec = await get_json(client, "/schema/openapi.json")
    lists: dict[str, dict[str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        match = re.fullmatch(r"/v1/([a-z_]+)", path)
        get = item.get("get")
        if not match or not get:
            continue
        params = {p["name"]: p for p in get.get("parameters", []) if p["in"] == "query"}
        # The resources: /v1/search sorts but has no exports, /v1/changes has neither.
        if "sort" in params and "format" in params:
            lists[match.group(1)] = params
    return lists


def filters(params: dict[str, dict[str, Any]]) -> list[Param]:
    found = []
    for name, param in params.items():
        if name in LIST_PARAMS:
            continue
        field, _, op = name.partition("__")
        schema = param["schema"]
        one = schema.get("items", schema) if schema.get("type") == "array" else schema
        found.append(Param(name, field, op or "eq", one.get("type", "string")))
    return found


def sort_keys(params: dict[str, dict[str, Any]]) -> list[str]:
    match = re.match(r"\^-\?\(([^)]*)\)", params["sort"]["schema"]["pattern"])
    assert match, params["sort"]["schema"]
    return match.group(1).split("|")


def facet_names(params: dict[str, dict[str, Any]]) -> list[str]:
    return list(params["facet"]["schema"]["items"]["enum"]) if "facet" in params else []


def parse(param: Param, raw: str) -> Any:
    def one(text: str) -> Any:
        if param.op == "isnull" or param.kind == "boolean":
            return text == "true"
        if param.kind == "number":
            return Decimal(text)
        return text

    return tuple(one(p) for p in raw.split(",")) if param.op == "in" else one(raw)


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _by_frequency(values: list[Any]) -> list[Any]:
    counts = Counter(v for v in values if v is not None)
    return [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], text_of(kv[0])))]


def candidates(data: Oracle, resource: str, param: Param) -> list[str]:
    """Sample values for one parameter, most telling first."""
    if param.op == "isnull" or param.kind == "boolean":
        return ["true", "false"]
    values = data.values(resource, param.field)
    common = _by_frequency(values)
    if data.kind_of(resource, param.field) == "tree":
        # Regions with something inside them first: they tell a subtree from an exact match.
        tops = {p for v in common for p in _ancestors(data, v)}
        common = sorted(tops, key=lambda r: (-len(data.subtree([r])), r)) + common
    if param.op in {"eq", "not"}:
        return [text_of(v) for v in common]
    if param.op == "in":
        texts = [text_of(v) for v in common]
        pairs = [f"{a},{b}" for a, b in itertools.pairwise(texts)]
        return pairs + [f"{t},{ABSENT}" for t in texts if param.kind == "string"]
    if param.op in {"gt", "gte", "lt", "lte"}:
        ordered = sorted(set(common))
        middle = len(ordered) // 2
        around = sorted(range(len(ordered)), key=lambda i: abs(i - middle))
        return [text_of(ordered[i]) for i in around]
    if param.op in {"contains", "startswith"}:
        return list(dict.fromkeys(_text_samples(param.op, [str(v) for v in common])))
    raise NoOracle(f"{resource}: no sample values for operator {param.op}")


def _ancestors(data: Oracle, region: str) -> Iterator[str]:
    current: str | None = region
    while current is not None:
        yield current
        current = data.region_parent.get(current)


def _text_samples(op: str, values: list[str]) -> Iterator[str]:
    for value in values:
        if op == "startswith":
            yield from (value[:2], value[:1], value[:3], value[:-1])
        else:
            middle = len(value) // 2
            yield from (value[1:3], value[middle : middle + 2], value[-2:])
        if any(c.isascii() and c.isalpha() for c in value):
            yield (value[:4] if op == "startswith" else value[1:5]).swapcase()


def cases(data: Oracle, resource: str, param: Param) -> tuple[list[Case], bool]:
    """Up to three cases for one parameter, and whether one is a non-empty strict subset.

    Preferred: values whose result tells the operator from its neighbours (startswith from
    contains, a subtree from an exact match), and one with swapped ASCII case for the
    case-insensitive operators.
    """
    everything = data.ids(resource)
    strict: list[Case] = []
    loose: list[Case] = []
    for raw in candidates(data, resource, param):
        expected = frozenset(data.select(resource, param.field, param.op, parse(param, raw)))
        case = Case(resource, param, raw, expected)
        if 0 < len(expected) < len(everything):
            strict.append(case)
        elif len(loose) < 2:
            loose.append(case)
    if param.op in {"contains", "startswith"}:
        other = "startswith" if param.op == "contains" else "contains"

        def telling(case: Case) -> bool:
            return case.expected != data.select(resource, param.field, other, case.raw)

        strict.sort(key=lambda c: not telling(c))  # stable: keeps the frequency order
    chosen: list[Case] = []
    for case in strict:
        if len(chosen) < 2 and all(c.expected != case.expected for c in chosen):
            chosen.append(case)
    swapped = [c for c in strict if c.raw != c.raw.swapcase() and c not in chosen]
    if param.op in {"contains", "startswith"} and swapped:
        chosen.append(swapped[0])
    if param.op in {"contains", "startswith"}:
        # LIKE wildcards must be taken literally, whatever they match.
        for raw in ("%", "_"):
            expected = frozenset(data.select(resource, param.field, param.op, raw))
            chosen.append(Case(resource, param, raw, expected))
    return (chosen or loose), bool(strict)


async def fetch_all(client: Client, resource: str, params: dict[str, str]) -> tuple[list[Any], Any]:
    """Every item of a list, paging by `page.next_cursor` with limit=100; and the first total
    (`count=estimated` unless told: exact on these small results, through the capped count)."""
    items: list[Any] = []
    query = {
        **params,
        "limit": params.get("limit", "100"),
        "count": params.get("count", "estimated"),
    }
    first_total = None
    for _ in range(100):
        response = await client.get(f"/v1/{resource}", params=query)
        assert response.status_code == 200, (resource, query, response.text[:300])
        body = response.json()
        if first_total is None:
            first_total = body["total"]
        items.extend(body["data"])
        cursor = body["page"]["next_cursor"]
        if cursor is None:
            return items, first_total
        query = {**query, "cursor": cursor}
    raise AssertionError(f"{resource} {params}: more than 100 pages")
