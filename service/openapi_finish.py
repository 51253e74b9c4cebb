"""The last touches of the generated OpenAPI document, so clients read what the server does:
operations ordered list → detail → writes for each resource, reads declared public
(`security: []`), and every response header the service sends declared on its responses
(`Link`, `Location`, `Retry-After`, `WWW-Authenticate`, `Idempotent-Replayed`, …).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIResponse,
    Operation,
    PathItem,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType

from service.curation.idempotency import REPLAYED_HEADER
from service.resources.registry import RESOURCES

# Methods in the order a reader needs them: read, create, change, delete.
METHOD_ORDER = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


def _header(description: str, schema_type: OpenAPIType = OpenAPIType.STRING) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=schema_type), description=description)


HEADERS: dict[str, OpenAPIHeader] = {
    "Link": _header(
        'RFC 8288 links to the adjacent pages: `<url>; rel="next"`, `<url>; rel="prev"` '
        "(absent on a single page)."
    ),
    "Location": _header("The URL of the record just created."),
    "Retry-After": _header("Seconds to wait before retrying.", OpenAPIType.INTEGER),
    "WWW-Authenticate": _header('`Bearer realm="lishui-api"`: send an API key.'),
    "ETag-Current": _header("The record's current `ETag`: GET it again, then re-apply."),
    "Accept-Patch": _header("The media types a PATCH body may have."),
    REPLAYED_HEADER: _header(
        "`true` when this is the stored response of an earlier request with the same "
        "`Idempotency-Key` (nothing was written this time)."
    ),
    "X-Request-ID": _header("The request's `X-Request-ID` if sane, else a new id; quote it."),
}
# Header name on the wire for each component above (two components can share a name).
WIRE_NAMES = {"ETag-Current": "ETag"}


class OrderedPathItem(PathItem):
    """A path item whose operations serialise in `METHOD_ORDER` (Litestar's order puts
    DELETE before PATCH)."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        methods = [m for m in METHOD_ORDER if m in schema]
        return {
            **{m: schema[m] for m in methods},
            **{k: v for k, v in schema.items() if k not in methods},
        }


def _ref(name: str) -> Reference:
    return Reference(ref=f"#/components/headers/{name}")


def _declare(response: OpenAPIResponse | Reference, names: list[str]) -> None:
    if isinstance(response, OpenAPIResponse):
        response.headers = {**(response.headers or {})}
        for name in names:
            response.headers[WIRE_NAMES.get(name, name)] = _ref(name)


def _is_page(response: OpenAPIResponse | Reference) -> bool:
    """A page of a list (`…Page`): it comes with a `Link` header to the adjacent pages."""
    content = response.content if isinstance(response, OpenAPIResponse) else None
    schema = (content or {}).get("application/json")
    ref = getattr(getattr(schema, "schema", None), "ref", "") or ""
    return ref.endswith("Page")


def _response_headers(
    status: str, response: OpenAPIResponse | Reference, operation: Operation, method: str
) -> list[str]:
    """Which of `HEADERS` a response of this operation carries."""
    code = int(status)
    names = ["X-Request-ID"] if code >= 400 else []
    if code == 200 and _is_page(response):
        names.append("Link")
    if code == 201:
        names.append("Location")
    if code < 300 and method == "post" and operation.security:
        names.append(REPLAYED_HEADER)
    names += {
        401: ["WWW-Authenticate"],
        412: ["ETag-Current"],
        415: ["Accept-Patch"] if method == "patch" else [],
        429: ["Retry-After"],
        503: ["Retry-After"],
    }.get(code, [])
    return names


def _path_order(paths: dict[str, PathItem]) -> list[str]:
    """Each resource's list, detail and restore paths first (registry order), then the rest
    as declared."""
    first: list[str] = []
    for resource in RESOURCES:
        base = f"/v1/{resource.name}"
        detail = f"{base}/{{{resource.singular}_id}}"
        first += [p for p in (base, detail, f"{detail}/restore") if p in paths]
    return first + [p for p in paths if p not in first]


def _single_one_of(schema: Schema) -> None:
    """A `oneOf` of one schema (how a merge patch's optional field comes out) is that schema,
    merged into the property; a lone `$ref` replaces it (OpenAPI 3.1 keeps its description)."""
    properties = schema.properties or {}
    for name, prop in properties.items():
        if not isinstance(prop, Schema) or prop.one_of is None or len(prop.one_of) != 1:
            continue
        (inner,) = prop.one_of
        if isinstance(inner, Reference):
            properties[name] = Reference(ref=inner.ref, description=prop.description)
            continue
        prop.one_of = None
        for field in dataclasses.fields(Schema):
            if getattr(prop, field.name) is None:
                setattr(prop, field.name, getattr(inner, field.name))


def finish_openapi(schema: OpenAPI) -> None:
    """Order paths and methods, mark reads public, declare response headers, fold one-schema
    `oneOf`s."""
    paths = schema.paths or {}
    ordered: dict[str, PathItem] = {}
    for path in _path_order(paths):
        item = paths[path]
        fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(PathItem)}
        ordered[path] = OrderedPathItem(**fields)
        for method in METHOD_ORDER:
            operation = getattr(item, method, None)
            if not isinstance(operation, Operation):
                continue
            if operation.security is None:
                operation.security = []  # public: no API key (writes declare theirs)
            for status, response in (operation.responses or {}).items():
                _declare(response, _response_headers(status, response, operation, method))
    schema.paths = ordered
    if schema.components is not None:
        schema.components.headers = {**(schema.components.headers or {}), **HEADERS}
        for component in (schema.components.schemas or {}).values():
            if isinstance(component, Schema):
                _single_one_of(component)
    describe_shapes(schema)


# ---------------------------------------------------------------- what `fields=` and `expand=` return


def _schema_ref(name: str) -> Reference:
    return Reference(ref=f"#/components/schemas/{name}")


def _schema_name(struct: type[Any]) -> str:
    return struct.__name__


def _expanded_property(resource: Any) -> Schema:
    """`expanded`: with `expand=`, each named relation's record as its list shows it (or null)."""
    from service.resources.registry import BY_NAME

    spec = resource.spec
    properties: dict[str, Schema | Reference] = {
        name: Schema(
            one_of=[
                _schema_ref(_schema_name(BY_NAME[relation.resource].spec.item_type)),
                Schema(type=OpenAPIType.NULL),
            ]
        )
        for name, relation in spec.relations.items()
    }
    return Schema(
        type=OpenAPIType.OBJECT,
        description="Only with `expand=`: each named relation's record as its list shows it "
        "(its own `expanded` when the path goes deeper), null when the field is null.",
        properties=properties,
    )


def _output_enums(resource: Any, item: Schema) -> None:
    """A field whose filter takes a fixed vocabulary declares it as its `enum`."""
    for flt in resource.spec.filters:
        prop = (item.properties or {}).get(flt.name)
        if flt.enum is None or not isinstance(prop, Schema):
            continue
        nullable = any(
            isinstance(s, Schema) and s.type == OpenAPIType.NULL for s in prop.one_of or []
        )
        prop.enum = [*flt.enum, None] if nullable else list(flt.enum)


def _sparse(schemas: dict[str, Schema], name: str, item: Schema) -> str:
    """`<Item>Sparse`: the item under `fields=`, where only `id` is certain to be present."""
    # A title of its own: generators name their classes after it.
    sparse = dataclasses.replace(item, required=["id"], examples=None, title=f"{name}Sparse")
    sparse.description = f"`{name}` under `fields=`: only the fields named, and always `id`."
    schemas[f"{name}Sparse"] = sparse
    page_name = f"{name.removesuffix('Out')}Page"
    page = schemas.get(page_name)
    if isinstance(page, Schema):
        sparse_name = f"{page_name.removesuffix('Page')}SparsePage"
        sparse_page = dataclasses.replace(
            page, properties=dict(page.properties or {}), title=sparse_name
        )
        sparse_page.properties["data"] = Schema(  # type: ignore[index]
            type=OpenAPIType.ARRAY, items=_schema_ref(f"{name}Sparse")
        )
        sparse_page.description = f"A page of `{name}Sparse` (a list under `fields=`)."
        schemas[sparse_name] = sparse_page
    return page_name


def _either(content: Any, full: str, sparse: str) -> None:
    """The JSON body is the full form, or the sparse one under `fields=` (`anyOf`: a full body
    is a valid sparse one too)."""
    media = (content or {}).get("application/json")
    if media is not None:
        media.schema = Schema(any_of=[_schema_ref(full), _schema_ref(sparse)])


def describe_shapes(schema: OpenAPI) -> None:
    """Declare what `expand=` adds (`expanded`) and what `fields=` returns (a `…Sparse` schema,
    offered beside the full one on each list and detail response), and the vocabularies of
    output fields as enums."""
    schemas = (schema.components.schemas if schema.components else None) or {}
    for resource in RESOURCES:
        name = _schema_name(resource.spec.item_type)
        item = schemas.get(name)
        if not isinstance(item, Schema):
            continue
        _output_enums(resource, item)
        if resource.spec.relations:
            item.properties = {**(item.properties or {}), "expanded": _expanded_property(resource)}
        page_name = _sparse(schemas, name, item)
        detail_name = _schema_name(resource.detail_type)
        detail = schemas.get(detail_name)
        if isinstance(detail, Schema) and detail is not item:
            _output_enums(resource, detail)
            if resource.spec.relations:
                detail.properties = {
                    **(detail.properties or {}),
                    "expanded": _expanded_property(resource),
                }
            _sparse(schemas, detail_name, detail)
        paths = schema.paths or {}
        base = f"/v1/{resource.name}"
        for path, full, sparse in (
            (base, page_name, f"{page_name.removesuffix('Page')}SparsePage"),
            (f"{base}/{{{resource.singular}_id}}", detail_name, f"{detail_name}Sparse"),
        ):
            operation = paths[path].get if path in paths else None
            if isinstance(operation, Operation) and operation.responses:
                ok = operation.responses.get("200")
                if isinstance(ok, OpenAPIResponse):
                    _either(ok.content, full, sparse)
