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
