"""Data dictionary: `GET /v1/meta` describes every resource, its fields, filters and sorts.

Filters and sort keys are read from each resource's `ListSpec` and field lists from its wire
Structs, so the dictionary cannot drift from what the endpoints accept and return. Only the
prose (field descriptions and units) is written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, get
from litestar.openapi.spec import Reference, Schema
from litestar.openapi.spec.base import BaseSchemaObject
from sqlalchemy.ext.asyncio import AsyncConnection

from service import vocabulary
from service.db import Db
from service.listing.params import reject_unknown
from service.listing.spec import ListSpec
from service.models import (
    ArticleContributor,
    Dataset,
    Document,
    InitiativeOrganisation,
    Metric,
    table_of,
)
from service.resources.articles import ARTICLE_KINDS, ARTICLES, CONTRIBUTOR_ROLES
from service.resources.initiatives import INITIATIVE_KINDS, INITIATIVES
from service.resources.metrics import METRIC_KINDS
from service.resources.organisations import ORGANISATION_KINDS, ORGANISATIONS
from service.resources.places import PLACE_KINDS, PLACES
from service.resources.recognitions import LEVELS, RECOGNITION_KINDS, RECOGNITIONS
from service.resources.regions import REGION_LEVELS, REGIONS
from service.resources.registry import RESOURCES
from service.resources.relations import RELATION_ROLES, relations
from service.resources.roles import ROLES
from service.typenames import type_name
from service.web.errors import COMMON_ERRORS
from service.web.wire import to_plain_json

# ---------------------------------------------------------------- wire types


class FieldDoc(msgspec.Struct):
    """One field of a resource's JSON objects."""

    name: str
    type: str
    nullable: bool
    description: str | None
    unit: str | None
    # True for fields served only by the detail endpoint (`GET /v1/<resource>/{id}`).
    detail_only: bool


class FilterDoc(msgspec.Struct):
    """A filterable field: `name=value` (operator `eq`) and `name__op=value` for the others."""

    name: str
    type: str
    operators: list[str]
    parameters: list[str]
    description: str
    enum: list[str] | None
    example: str | None


class SortDoc(msgspec.Struct):
    """A key accepted by `sort=` (prefix `-` for descending)."""

    name: str
    type: str
    description: str | None


class ResourceDoc(msgspec.Struct):
    """A resource: where it lives, what its objects hold and how its list can be queried."""

    name: str
    path: str
    detail_path: str
    description: str
    fields: list[FieldDoc]
    filters: list[FilterDoc]
    sort_keys: list[SortDoc]
    default_sort: str
    # Every query parameter the list endpoint accepts; any other is a 400.
    query_parameters: list[str]


class EnumValue(msgspec.Struct):
    """A value of an enumerated field and how many records carry it (null: no value)."""

    value: str | None
    count: int


class Enumerations(msgspec.Struct):
    """Closed vocabularies, and the units and qualifiers actually present in the data."""

    metric_kinds: list[EnumValue]
    metric_units: list[EnumValue]
    metric_qualifiers: list[EnumValue]
    article_kinds: list[EnumValue]
    organisation_kinds: list[EnumValue]
    initiative_kinds: list[EnumValue]
    initiative_organisation_roles: list[EnumValue]
    contributor_roles: list[EnumValue]
    region_levels: list[EnumValue]
    place_kinds: list[EnumValue]
    recognition_kinds: list[EnumValue]
    recognition_levels: list[EnumValue]
    organisation_relation_roles: list[EnumValue]


class UnitDoc(msgspec.Struct):
    """A unit code (`unit_code`) and the Chinese units (`unit`) it stands for."""

    code: str
    label_en: str
    # ISO 4217 code when the unit is a currency (a metric's `currency`).
    currency: str | None
    written: list[str]


class QualifierDoc(msgspec.Struct):
    """A qualifier code (`qualifier_code`) and the Chinese markers (`qualifier`) it stands for.
    `bound`: where the true figure lies relative to `value` (`above`, `at_or_above`, `below`,
    `at_or_below`, `approximate`)."""

    code: str
    label_en: str
    bound: str
    written: list[str]


class CodeDoc(msgspec.Struct):
    """A code and its English label."""

    code: str
    label_en: str


class MagnitudeDoc(msgspec.Struct):
    """A magnitude word the quantity parser multiplies out of `raw` (so `value` is in base
    units: 1.34亿元 is 134000000 元)."""

    written: str
    code: str
    factor: int


class Vocabularies(msgspec.Struct):
    """Machine-readable codes served beside the Chinese text of metrics, with English labels.
    Metric values are exact decimals, sent as JSON numbers printed from the stored value."""

    units: list[UnitDoc]
    qualifiers: list[QualifierDoc]
    period_kinds: list[CodeDoc]
    magnitudes: list[MagnitudeDoc]
    # What a rate is per (a metric's `per_basis`).
    per_bases: list[CodeDoc]


class DatasetVersion(msgspec.Struct):
    """The loaded curated dataset: the version moves only when its content changes."""

    version: int
    content_sha256: str
    loaded_at: datetime


class SourceDocument(msgspec.Struct):
    """A source page; `path` serves its full text, into which every `span` points."""

    id: str
    path: str
    source: str
    title: str | None
    publisher: str | None
    date_estimate: str
    date_precision: str
    sha256: str
    char_count: int


class Licence(msgspec.Struct):
    """Terms and provenance of the code and the data."""

    code: str
    data: str
    provenance: str


class Meta(msgspec.Struct):
    """The data dictionary of the API."""

    api_version: str
    openapi: str
    docs: list[str]
    dataset: DatasetVersion | None
    licence: Licence
    resources: list[ResourceDoc]
    enumerations: Enumerations
    vocabularies: Vocabularies
    documents: list[SourceDocument]


# ---------------------------------------------------------------- the dictionary's prose

# (list spec, detail Struct, description): the list item Struct comes from the spec's page type.

LICENCE = Licence(
    code="MIT",
    data="Curated from public newspaper text (two pages of a Lishui city newspaper, 2022) for "
    "research and civic reuse. Cite the source page (`documents`) and this API with the dataset "
    "version; the newspaper text remains the publisher's.",
    provenance="Every fact carries the verbatim `quote` and its character `span` into the text "
    "of its `document` (`GET /v1/documents/{id}`); figures are normalised by the project's own "
    "quantity parser and checked against their quotes at load time. Unknown values are null "
    "with the reason in `null_reasons`; curator judgement calls are in `notes`.",
)

# ---------------------------------------------------------------- derivation


def _type_name(info: msgspec.inspect.Type) -> str:
    """A compact, language-neutral name for a msgspec type (`array<Span>`, `string` …)."""
    match info:
        case msgspec.inspect.StrType():
            return "string"
        case msgspec.inspect.BoolType():
            return "boolean"
        case msgspec.inspect.IntType():
            return "integer"
        case msgspec.inspect.FloatType() | msgspec.inspect.DecimalType():
            return "number"
        case msgspec.inspect.DateTimeType():
            return "date-time"
        case msgspec.inspect.LiteralType():
            return "string"
        case (
            msgspec.inspect.ListType() | msgspec.inspect.SetType() | msgspec.inspect.VarTupleType()
        ):
            return f"array<{_type_name(info.item_type)}>"
        case msgspec.inspect.DictType():
            return f"object<{_type_name(info.value_type)}>"
        case msgspec.inspect.StructType():
            return info.cls.__name__
        case msgspec.inspect.UnionType():
            return " | ".join(
                _type_name(t) for t in info.types if not isinstance(t, msgspec.inspect.NoneType)
            )
        case _:
            return "any"


def _is_nullable(info: msgspec.inspect.Type) -> bool:
    return isinstance(info, msgspec.inspect.UnionType) and any(
        isinstance(t, msgspec.inspect.NoneType) for t in info.types
    )


def _item_struct(spec: ListSpec[Any]) -> type[msgspec.Struct]:
    """The list item Struct: the element type of the page type's `data` field."""
    for f in msgspec.structs.fields(spec.page_type):
        if f.name == "data":
            info = msgspec.inspect.type_info(f.type)
            if isinstance(info, msgspec.inspect.ListType) and isinstance(
                info.item_type, msgspec.inspect.StructType
            ):
                return info.item_type.cls
    raise TypeError(f"{spec.page_type.__name__} has no `data: list[Struct]` field")


def _described(info: msgspec.inspect.Type) -> tuple[msgspec.inspect.Type, str | None, str | None]:
    """The field's type without its `doc(...)` metadata, its description and its unit."""
    if not isinstance(info, msgspec.inspect.Metadata):
        return info, None, None
    unit = (info.extra or {}).get("unit")
    text = (info.extra_json_schema or {}).get("description")
    if text is not None and unit is not None:
        text = text.removesuffix(f" Unit: {unit}.")
    return info.type, text, unit


def _field_docs(item: type[Any], detail: type[Any]) -> list[FieldDoc]:
    listed = {f.name for f in msgspec.structs.fields(item)}
    docs: list[FieldDoc] = []
    for f in msgspec.structs.fields(detail):
        info, description, unit = _described(msgspec.inspect.type_info(f.type))
        docs.append(
            FieldDoc(
                name=f.encode_name,
                type=_type_name(info),
                nullable=_is_nullable(info),
                description=description,
                unit=unit,
                detail_only=f.name not in listed,
            )
        )
    return docs


def resource_doc(spec: ListSpec[Any], detail: type[Any], description: str) -> ResourceDoc:
    path = f"/v1/{spec.resource}"
    return ResourceDoc(
        name=spec.resource,
        path=path,
        detail_path=path + "/{id}",
        description=description,
        fields=_field_docs(_item_struct(spec), detail),
        filters=[
            FilterDoc(
                name=flt.name,
                type=type_name(flt.type),
                operators=list(flt.ops),
                parameters=[flt.name if op == "eq" else f"{flt.name}__{op}" for op in flt.ops],
                description=flt.description,
                enum=list(flt.enum) if flt.enum is not None else None,
                example=None if flt.example is None else str(flt.example),
            )
            for flt in spec.filters
        ],
        sort_keys=[
            SortDoc(name=key.name, type=type_name(key.type), description=key.description or None)
            for key in spec.sort_keys
        ],
        default_sort=spec.default_sort,
        query_parameters=sorted(spec.accepted_params),
    )


# The static part is computed once: it depends on code only.
RESOURCE_DOCS: list[ResourceDoc] = [
    resource_doc(r.spec, r.detail_type, r.description) for r in RESOURCES
]


def vocabularies() -> Vocabularies:
    """The code tables of service/vocabulary.py, grouped by code in first-seen order."""
    units: dict[str, UnitDoc] = {}
    for text, unit in vocabulary.UNITS.items():
        units.setdefault(unit.code, UnitDoc(unit.code, unit.label_en, unit.currency, []))
        units[unit.code].written.append(text)
    qualifiers: dict[str, QualifierDoc] = {}
    for text, term in vocabulary.QUALIFIERS.items():
        qualifiers.setdefault(term.code, QualifierDoc(term.code, term.label_en, term.bound, []))
        qualifiers[term.code].written.append(text)
    return Vocabularies(
        units=list(units.values()),
        qualifiers=list(qualifiers.values()),
        period_kinds=[CodeDoc(c, label) for c, label in vocabulary.PERIOD_KINDS.items()],
        magnitudes=[MagnitudeDoc(m.written, m.code, m.factor) for m in vocabulary.MAGNITUDE_TERMS],
        per_bases=[CodeDoc(c, label) for c, label in vocabulary.PER_BASES.items()],
    )


VOCABULARIES = vocabularies()


async def _counts(conn: AsyncConnection, column: sa.ColumnElement[Any]) -> dict[str | None, int]:
    rows = await conn.execute(sa.select(column, sa.func.count()).group_by(column))
    return {row[0]: int(row[1]) for row in rows.all()}


def _declared(values: Iterable[str], counts: dict[str | None, int]) -> list[EnumValue]:
    """Every declared value in declared order (count 0 if unused), then any undeclared ones."""
    declared = list(values)
    extra = sorted((v for v in counts if v not in declared), key=lambda v: (v is None, v or ""))
    return [EnumValue(v, counts.get(v, 0)) for v in [*declared, *extra]]


def _observed(counts: dict[str | None, int]) -> list[EnumValue]:
    """Values found in the data, most frequent first; null (no value) last."""
    return [
        EnumValue(value, count)
        for value, count in sorted(
            counts.items(), key=lambda kv: (kv[0] is None, -kv[1], kv[0] or "")
        )
    ]


async def enumerations(conn: AsyncConnection) -> Enumerations:
    metric = table_of(Metric).c
    credits = table_of(ArticleContributor).c
    roles = table_of(InitiativeOrganisation).c
    recognition = RECOGNITIONS.table.c
    return Enumerations(
        metric_kinds=_declared(METRIC_KINDS, await _counts(conn, metric.kind)),
        metric_units=_observed(await _counts(conn, metric.unit)),
        metric_qualifiers=_observed(await _counts(conn, metric.qualifier)),
        article_kinds=_declared(ARTICLE_KINDS, await _counts(conn, ARTICLES.table.c.kind)),
        organisation_kinds=_declared(
            ORGANISATION_KINDS, await _counts(conn, ORGANISATIONS.table.c.kind)
        ),
        initiative_kinds=_declared(INITIATIVE_KINDS, await _counts(conn, INITIATIVES.table.c.kind)),
        initiative_organisation_roles=_declared(ROLES, await _counts(conn, roles.role)),
        contributor_roles=_declared(CONTRIBUTOR_ROLES, await _counts(conn, credits.role)),
        region_levels=_declared(REGION_LEVELS, await _counts(conn, REGIONS.table.c.level)),
        place_kinds=_declared(PLACE_KINDS, await _counts(conn, PLACES.table.c.kind)),
        recognition_kinds=_declared(RECOGNITION_KINDS, await _counts(conn, recognition.kind)),
        recognition_levels=_declared(LEVELS, await _counts(conn, recognition.level)),
        organisation_relation_roles=_declared(
            RELATION_ROLES, await _counts(conn, relations.c.role)
        ),
    )


async def dataset_version(conn: AsyncConnection) -> DatasetVersion | None:
    t = table_of(Dataset).c
    stmt = sa.select(t.version, t.content_sha256, t.loaded_at).where(t.id == 1)
    row = (await conn.execute(stmt)).first()
    return None if row is None else DatasetVersion(row.version, row.content_sha256, row.loaded_at)


async def source_documents(conn: AsyncConnection) -> list[SourceDocument]:
    d = table_of(Document).c
    stmt = sa.select(
        d.id,
        d.source,
        d.title,
        d.publisher,
        d.date_estimate,
        d.date_precision,
        d.sha256,
        d.char_count,
    ).order_by(d.date_estimate, d.id)
    return [
        SourceDocument(
            id=row.id,
            path=f"/v1/documents/{row.id}",
            source=row.source,
            title=row.title,
            publisher=row.publisher,
            date_estimate=row.date_estimate,
            date_precision=row.date_precision,
            sha256=row.sha256,
            char_count=row.char_count,
        )
        for row in (await conn.execute(stmt)).all()
    ]


class MetaController(Controller):
    path = "/meta"
    tags = ["Meta"]

    @get(
        "/",
        operation_id="getMeta",
        summary="Data dictionary",
        description="Every resource with its fields (type, description, unit), filterable "
        "fields and their operators, and sort keys; the enumerations with counts in the data; "
        "the vocabularies of metric codes (units, qualifiers, period kinds, magnitudes) with "
        "English labels; the dataset version; the source documents; licence and provenance.",
        responses=COMMON_ERRORS,
    )
    async def get_meta(self, request: Request[Any, Any, Any], db: Db) -> Meta:
        # Like the lists, take no parameters silently: a typo is a 400.
        reject_unknown(request.query_params, frozenset())
        return Meta(
            api_version=request.app.openapi_config.version if request.app.openapi_config else "",
            openapi="/schema/openapi.json",
            docs=["/docs", "/docs/redoc"],
            dataset=await dataset_version(db),
            licence=LICENCE,
            resources=RESOURCE_DOCS,
            enumerations=await enumerations(db),
            vocabularies=VOCABULARIES,
            documents=await source_documents(db),
        )


# ---------------------------------------------------------------- the same prose in OpenAPI


def _examples() -> dict[str, dict[str, Any]]:
    """Wire examples built from the curated seed records (empty if the seed is not shipped)."""
    from service.seed import SeedError, read_curated

    try:
        tables = read_curated().tables
    except (SeedError, OSError):
        return {}
    examples: dict[str, dict[str, Any]] = {}
    for resource in RESOURCES:
        spec = resource.spec
        rows = {r["id"]: r for r in tables[resource.singular]}
        row = rows.get(resource.example_id)
        if row is not None:
            item = to_plain_json(spec.to_item(row, {}))
            if spec.resource == "articles":
                item["body"] = item["body"][:1]  # one paragraph is example enough
            examples[spec.resource] = item
    return examples


@dataclass
class _Verbatim(BaseSchemaObject):
    """An example rendered as is: Litestar drops every null from a plain dict it renders, and an
    example without its null fields does not match its own schema (required, nullable)."""

    example: dict[str, Any]

    def to_schema(self) -> dict[str, Any]:
        return self.example


def describe_openapi(schema: Any) -> None:
    """Each resource schema gets a real example from the seed data. Field descriptions come from
    the fields themselves (`doc(...)`); a described struct field is written `$ref` plus
    `description` (OpenAPI 3.1), not the one-element `allOf` Litestar makes of it."""
    components = schema.components.schemas if schema.components else {}
    for component in components.values():
        for name, prop in (component.properties or {}).items():
            component.properties[name] = _plain_reference(prop)
    examples = _examples()
    for resource in RESOURCES:
        component = components.get(_item_struct(resource.spec).__name__)
        if component is not None and resource.name in examples:
            component.examples = [_Verbatim(examples[resource.name])]


def _plain_reference(prop: Any) -> Any:
    if isinstance(prop, Schema) and prop.all_of and len(prop.all_of) == 1:
        (target,) = prop.all_of
        if isinstance(target, Reference) and prop.description:
            return Reference(ref=target.ref, description=prop.description)
    return prop
