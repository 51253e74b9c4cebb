"""The breaking-change gate: `openapi/v1.json` against the latest release in `openapi/releases/`,
with every breaking change and deprecation recorded in `openapi/CHANGELOG.md`; and the checker
(`tests/openapi_compat.py`) itself on small spec pairs, one change each."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.openapi_compat import (
    CHANGELOG,
    RELEASES,
    SPEC,
    Kind,
    acknowledged,
    check,
    compare,
    main,
    missing_deprecation_headers,
    release,
    releases,
    report,
)

Json = dict[str, Any]
JSON = "application/json"


def test_spec_has_no_unrecorded_breaking_change() -> None:
    (version_tuple, path) = releases()[-1]
    version = ".".join(map(str, version_tuple))
    released, current = json.loads(path.read_text()), json.loads(SPEC.read_text())
    verdict = check(released, current, CHANGELOG.read_text(), version)
    assert verdict.ok, (
        f"openapi/v1.json against {path.name}:\n{report(verdict, version)}\n"
        "Record each breaking change (README 'Versioning policy'), or undo it."
    )


def test_each_release_file_is_named_by_its_version_and_has_notes() -> None:
    found = releases()
    assert found, f"no vX.Y.Z.json in {RELEASES}"
    notes = CHANGELOG.read_text()
    for version_tuple, path in found:
        version = ".".join(map(str, version_tuple))
        assert json.loads(path.read_text())["info"]["version"] == version, path.name
        assert re.search(rf"^## {re.escape(version)} — \d{{4}}-\d\d-\d\d$", notes, re.M), version
    assert "## Unreleased" in notes.split(f"## {'.'.join(map(str, found[-1][0]))}")[0]


def test_release_files_are_never_edited() -> None:
    """A release is a promise: `openapi/releases/SHA256SUMS` pins each file's bytes."""
    sums: dict[str, str] = {}
    for line in (RELEASES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    assert sorted(sums) == sorted(path.name for _, path in releases())
    for name, digest in sums.items():
        assert hashlib.sha256((RELEASES / name).read_bytes()).hexdigest() == digest, name


def test_the_gate_fails_on_an_unrecorded_change_to_the_real_spec() -> None:
    (version_tuple, path) = releases()[-1]
    version = ".".join(map(str, version_tuple))
    released = json.loads(path.read_text())
    changed = copy.deepcopy(released)
    del changed["components"]["schemas"]["MetricOut"]["properties"]["quote"]
    verdict = check(released, changed, CHANGELOG.read_text(), version)
    assert [c.id for c in verdict.missing] == ["property-removed MetricOut.quote"]
    assert main([str(path), str(SPEC)]) in (0, 1)  # the command line runs on the real files


# --- the checker on synthetic pairs ---------------------------------------------------------


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def body(schema: Json) -> Json:
    return {"content": {JSON: {"schema": schema}}, "description": "ok"}


def base() -> Json:
    """A small spec in the style of openapi/v1.json (Litestar's OpenAPI 3.1 output)."""

    def nullable_string() -> Json:
        return {"oneOf": [{"type": "string"}, {"type": "null"}]}

    thing = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "value": {"type": "number"},
            "unit": nullable_string(),
            "kind": {"type": "string", "enum": ["x", "y"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "span": ref("Span"),
        },
        "required": ["id", "value", "unit", "kind", "tags", "span"],
    }
    thing_in = {
        "type": "object",
        "properties": {
            "value": {"type": "number"},
            "kind": {"type": "string", "enum": ["x", "y"]},
            "name": {"type": "string", "maxLength": 100},
            "span": ref("Span"),
        },
        "required": ["value"],
    }
    span = {
        "type": "object",
        "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
        "required": ["start", "end"],
    }
    page = {"type": "object", "properties": {"data": {"type": "array", "items": ref("Thing")}}}
    page["required"] = ["data"]
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}
    kind = {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["a", "b"]}}
    if_match = {"name": "If-Match", "in": "header", "required": False, "schema": nullable_string()}
    thing_id = {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}
    listed = body(ref("ThingPage")) | {"headers": {"ETag": {"schema": {"type": "string"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/v1/things": {
                "get": {"parameters": [limit, kind], "responses": {"200": listed}},
                "post": {
                    "security": [{"bearerAuth": []}],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": ref("ThingIn")}},
                    },
                    "responses": {"201": body(ref("Thing")), "400": body({"type": "object"})},
                },
            },
            "/v1/things/{thing_id}": {
                "parameters": [thing_id],
                "get": {"responses": {"200": body(ref("Thing"))}},
                "patch": {
                    "parameters": [if_match],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": ref("ThingIn")}},
                    },
                    "responses": {"200": body(ref("Thing"))},
                },
            },
        },
        "components": {
            "schemas": {"Thing": thing, "ThingIn": thing_in, "Span": span, "ThingPage": page},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def schemas(spec: Json) -> Json:
    return spec["components"]["schemas"]  # type: ignore[no-any-return]


def op(spec: Json, path: str, method: str) -> Json:
    return spec["paths"][path][method]  # type: ignore[no-any-return]


def param(spec: Json, path: str, method: str, name: str) -> Json:
    found = [p for p in op(spec, path, method).get("parameters", []) if p["name"] == name]
    return found[0]  # type: ignore[no-any-return]


def rename_value(s: Json) -> None:
    props = schemas(s)["Thing"]["properties"]
    props["amount"] = props.pop("value")
    schemas(s)["Thing"]["required"] = ["id", "amount", "unit", "kind", "tags", "span"]


Mutation = Callable[[Json], object]
T, TI = "/v1/things", "/v1/things/{thing_id}"

BREAKING: list[tuple[str, Mutation, str]] = [
    (
        "response field removed",
        lambda s: schemas(s)["Thing"]["properties"].pop("unit"),
        "property-removed Thing.unit",
    ),
    ("response field renamed", rename_value, "property-removed Thing.value"),
    (
        "response field type changed",
        lambda s: schemas(s)["Thing"]["properties"]["value"].update(type="string"),
        "type-widened Thing.value",
    ),
    (
        "response field becomes nullable",
        lambda s: schemas(s)["Thing"]["properties"].update(
            value={"oneOf": [{"type": "number"}, {"type": "null"}]}
        ),
        "type-widened Thing.value",
    ),
    (
        "response field becomes optional",
        lambda s: schemas(s)["Thing"]["required"].remove("unit"),
        "property-became-optional Thing.unit",
    ),
    (
        "response enumeration opened",
        lambda s: schemas(s)["Thing"]["properties"]["kind"].pop("enum"),
        "enum-removed Thing.kind",
    ),
    (
        "nested response field narrowed to integer from a shared component",
        lambda s: schemas(s)["Span"]["properties"]["start"].update(type="number"),
        "type-widened Span.start",
    ),
    (
        "request field type narrowed",
        lambda s: schemas(s)["ThingIn"]["properties"]["value"].update(type="integer"),
        "type-narrowed ThingIn.value",
    ),
    (
        "request enumeration value removed",
        lambda s: schemas(s)["ThingIn"]["properties"]["kind"].update(enum=["x"]),
        "enum-value-removed ThingIn.kind",
    ),
    (
        "query enumeration value removed",
        lambda s: param(s, T, "get", "kind")["schema"].update(enum=["a"]),
        "enum-value-removed GET /v1/things query:kind",
    ),
    (
        "request string limit tightened",
        lambda s: schemas(s)["ThingIn"]["properties"]["name"].update(maxLength=50),
        "constraint-tightened ThingIn.name",
    ),
    (
        "query maximum tightened",
        lambda s: param(s, T, "get", "limit")["schema"].update(maximum=50),
        "constraint-tightened GET /v1/things query:limit",
    ),
    (
        "request pattern added",
        lambda s: schemas(s)["ThingIn"]["properties"]["name"].update(pattern="^[a-z]+$"),
        "pattern-changed ThingIn.name",
    ),
    (
        "optional request field made required",
        lambda s: schemas(s)["ThingIn"]["required"].append("kind"),
        "property-became-required ThingIn.kind",
    ),
    (
        "new required request field",
        lambda s: (
            schemas(s)["ThingIn"]["properties"].update(note={"type": "string"}),
            schemas(s)["ThingIn"]["required"].append("note"),
        ),
        "required-property-added ThingIn.note",
    ),
    (
        "unknown request keys rejected",
        lambda s: schemas(s)["ThingIn"].update(additionalProperties=False),
        "additional-properties-closed ThingIn",
    ),
    (
        "new required query parameter",
        lambda s: op(s, T, "get")["parameters"].append(
            {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "param-added-required GET /v1/things query:region",
    ),
    (
        "optional header made required",
        lambda s: param(s, TI, "patch", "If-Match").update(required=True),
        "param-became-required PATCH /v1/things/{thing_id} header:if-match",
    ),
    (
        "query parameter removed",
        lambda s: op(s, T, "get")["parameters"].pop(0),
        "param-removed GET /v1/things query:limit",
    ),
    (
        "operation removed",
        lambda s: s["paths"][TI].pop("get"),
        "operation-removed GET /v1/things/{thing_id}",
    ),
    (
        "success status changed",
        lambda s: op(s, T, "post")["responses"].update(
            {"200": op(s, T, "post")["responses"].pop("201")}
        ),
        "response-removed POST /v1/things 201",
    ),
    (
        "response header dropped",
        lambda s: op(s, T, "get")["responses"]["200"].pop("headers"),
        "response-header-removed GET /v1/things 200 header:etag",
    ),
    (
        "public operation now needs a key",
        lambda s: op(s, T, "get").update(security=[{"bearerAuth": []}]),
        "security-changed GET /v1/things",
    ),
    (
        "request media type dropped",
        lambda s: op(s, T, "post")["requestBody"].update(
            content={"application/merge-patch+json": {"schema": ref("ThingIn")}}
        ),
        "request-media-type-removed POST /v1/things request application/json",
    ),
    (
        "response item schema replaced by a string",
        lambda s: schemas(s)["ThingPage"]["properties"]["data"].update(items={"type": "string"}),
        "type-widened ThingPage.data[]",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in BREAKING], ids=[name for name, _, _ in BREAKING]
)
def test_breaking_change_is_found(mutate: Mutation, expected: str) -> None:
    old = base()
    new = copy.deepcopy(old)
    mutate(new)
    breaking = {c.id for c in compare(old, new) if c.kind is Kind.BREAKING}
    assert expected in breaking, breaking


COMPATIBLE: list[tuple[str, Mutation]] = [
    ("nothing changed", lambda s: None),
    (
        "optional response field added",
        lambda s: schemas(s)["Thing"]["properties"].update(currency={"type": "string"}),
    ),
    (
        "required response field added",
        lambda s: (
            schemas(s)["Thing"]["properties"].update(currency={"type": "string"}),
            schemas(s)["Thing"]["required"].append("currency"),
        ),
    ),
    (
        "optional request field added",
        lambda s: schemas(s)["ThingIn"]["properties"].update(note={"type": "string"}),
    ),
    (
        "optional query parameter added",
        lambda s: op(s, T, "get")["parameters"].append(
            {"name": "q", "in": "query", "schema": {"type": "string"}}
        ),
    ),
    ("operation added", lambda s: s["paths"][TI].update(delete={"responses": {"204": {}}})),
    (
        "output enumeration value added",
        lambda s: schemas(s)["Thing"]["properties"]["kind"]["enum"].append("z"),
    ),
    (
        "input enumeration value added",
        lambda s: schemas(s)["ThingIn"]["properties"]["kind"]["enum"].append("z"),
    ),
    (
        "request limit loosened",
        lambda s: schemas(s)["ThingIn"]["properties"]["name"].update(maxLength=300),
    ),
    (
        "response field no longer nullable",
        lambda s: schemas(s)["Thing"]["properties"].update(unit={"type": "string"}),
    ),
    (
        "response output enumeration declared",
        lambda s: schemas(s)["Thing"]["properties"]["tags"]["items"].update(enum=["a"]),
    ),
    ("required request field made optional", lambda s: schemas(s)["ThingIn"].pop("required")),
    (
        "request field accepts null",
        lambda s: schemas(s)["ThingIn"]["properties"].update(value={"type": ["number", "null"]}),
    ),
    (
        "integer response where a number was",
        lambda s: schemas(s)["Thing"]["properties"]["value"].update(type="integer"),
    ),
    ("explicit anonymous security", lambda s: op(s, T, "get").update(security=[])),
    ("new error status", lambda s: op(s, T, "get")["responses"].update({"429": body({})})),
    ("error status no longer sent", lambda s: op(s, T, "post")["responses"].pop("400")),
    (
        "new response header",
        lambda s: op(s, TI, "get")["responses"]["200"].update(
            headers={"Link": {"schema": {"type": "string"}}}
        ),
    ),
    (
        "descriptions and examples",
        lambda s: schemas(s)["Thing"].update(description="A thing.", examples=[{"id": "a"}]),
    ),
    (
        "path parameter renamed",
        lambda s: s["paths"].update({"/v1/things/{id}": s["paths"].pop(TI)}),
    ),
    (
        "component renamed",
        lambda s: (
            schemas(s).update(Item=schemas(s).pop("Thing")),
            schemas(s)["ThingPage"]["properties"]["data"].update(items=ref("Item")),
            op(s, TI, "get")["responses"].update({"200": body(ref("Item"))}),
            op(s, TI, "patch")["responses"].update({"200": body(ref("Item"))}),
            op(s, T, "post")["responses"].update({"201": body(ref("Item"))}),
        ),
    ),
]


@pytest.mark.parametrize("mutate", [m for _, m in COMPATIBLE], ids=[n for n, _ in COMPATIBLE])
def test_compatible_change_passes(mutate: Mutation) -> None:
    old = base()
    new = copy.deepcopy(old)
    mutate(new)
    assert [c for c in compare(old, new) if c.kind is not Kind.COMPATIBLE] == []


def test_compatible_changes_are_listed_for_the_notes() -> None:
    old = base()
    new = copy.deepcopy(old)
    schemas(new)["Thing"]["properties"]["currency"] = {"type": "string", "const": "CNY"}
    schemas(new)["Thing"]["properties"]["kind"]["enum"].append("z")
    ids = {c.id for c in compare(old, new) if c.kind is Kind.COMPATIBLE}
    assert ids == {"property-added Thing.currency", "enum-value-added Thing.kind"}


def test_deprecations_are_reported_separately() -> None:
    old = base()
    new = copy.deepcopy(old)
    schemas(new)["Thing"]["properties"]["unit"]["deprecated"] = True
    param(new, T, "get", "kind")["deprecated"] = True
    op(new, TI, "get")["deprecated"] = True
    changes = {c.id: c.kind for c in compare(old, new)}
    assert changes == {
        "property-deprecated Thing.unit": Kind.DEPRECATION,
        "param-deprecated GET /v1/things query:kind": Kind.DEPRECATION,
        "operation-deprecated GET /v1/things/{thing_id}": Kind.DEPRECATION,
    }


def test_a_field_pointing_at_a_stricter_component_is_reported_under_its_name() -> None:
    old = base()
    new = copy.deepcopy(old)
    schemas(new)["SpanIn"] = copy.deepcopy(schemas(new)["Span"]) | {"additionalProperties": False}
    schemas(new)["SpanIn"]["properties"]["start"]["minimum"] = 0
    schemas(new)["ThingIn"]["properties"]["span"] = ref("SpanIn")
    breaking = {c.id for c in compare(old, new) if c.kind is Kind.BREAKING}
    assert breaking == {"additional-properties-closed SpanIn", "constraint-tightened SpanIn.start"}


def test_request_map_keys_and_unique_items() -> None:
    old = base()
    schemas(old)["ThingIn"]["properties"]["labels"] = {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }
    new = copy.deepcopy(old)
    labels = schemas(new)["ThingIn"]["properties"]["labels"]
    labels["propertyNames"] = {"type": "string", "enum": ["unit", "region"]}
    schemas(new)["ThingIn"]["properties"]["tags"] = {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    breaking = {c.id for c in compare(old, new) if c.kind is Kind.BREAKING}
    assert breaking == {"enum-added ThingIn.labels{keys}"}  # tags is new: optional, so fine
    newer = copy.deepcopy(new)
    schemas(newer)["ThingIn"]["properties"]["tags"]["uniqueItems"] = False
    breaking = {c.id for c in compare(newer, new) if c.kind is Kind.BREAKING}
    assert breaking == {"constraint-tightened ThingIn.tags"}


def test_spec_declares_deprecation_and_sunset_where_something_is_deprecated() -> None:
    missing = missing_deprecation_headers(json.loads(SPEC.read_text()))
    assert missing == [], (
        "These responses are affected by a deprecated operation, parameter or field and must "
        f"declare the Deprecation and Sunset headers (README 'Versioning policy'): {missing}"
    )


def test_deprecations_come_with_deprecation_and_sunset_headers() -> None:
    spec = base()
    assert missing_deprecation_headers(spec) == []
    schemas(spec)["Span"]["properties"]["end"]["deprecated"] = True  # Thing and ThingIn use Span
    assert missing_deprecation_headers(spec) == [
        "GET /v1/things 200",
        "POST /v1/things 201",
        "GET /v1/things/{thing_id} 200",
        "PATCH /v1/things/{thing_id} 200",
    ]
    header = {"schema": {"type": "string"}}
    for path, method, status in [(T, "get", "200"), (T, "post", "201"), (TI, "get", "200")]:
        response = op(spec, path, method)["responses"][status]
        response.setdefault("headers", {}).update(Deprecation=header, Sunset=header)
    assert missing_deprecation_headers(spec) == ["PATCH /v1/things/{thing_id} 200"]
    spec = base()
    param(spec, T, "get", "kind")["deprecated"] = True
    op(spec, TI, "get")["deprecated"] = True
    assert missing_deprecation_headers(spec) == [
        "GET /v1/things 200",
        "GET /v1/things/{thing_id} 200",
    ]


def test_recursive_schemas_terminate() -> None:
    old = base()
    node = {"type": "object", "properties": {"children": {"type": "array", "items": ref("Node")}}}
    schemas(old)["Node"] = node
    schemas(old)["Thing"]["properties"]["tree"] = ref("Node")
    new = copy.deepcopy(old)
    schemas(new)["Node"]["properties"]["children"]["items"] = {"type": "string"}
    assert "type-widened Node.children[]" in {c.id for c in compare(old, new)}


def test_a_change_in_a_shared_component_is_one_entry() -> None:
    old = base()
    new = copy.deepcopy(old)
    schemas(new)["Span"]["properties"].pop("end")  # used by Thing (responses) and ThingIn
    assert [c.id for c in compare(old, new) if c.kind is Kind.BREAKING] == [
        "property-removed Span.end"
    ]


# --- release notes ----------------------------------------------------------------------------

NOTES = """# Release notes

- `property-removed Thing.unit`: a list item in the preamble does not count.

## Unreleased

### Breaking changes

- `param-became-required   PATCH /v1/things/{thing_id} header:if-match`: the server always
  required it (428 without); the spec now says so.
* `property-deprecated Thing.unit`: use `unit_code`; Sunset 2027-06-01.
- `constraint-tightened ThingIn.*`: the server always enforced these limits.
- `property-removed *`: a location of only wildcards records nothing.
- Free text mentioning `property-removed Thing.tags` mid-line does not count.

## 1.0.0 — 2026-11-30

- `operation-removed GET /v1/things`: recorded for an earlier release.
"""


def test_notes_entries_are_read_between_unreleased_and_the_release() -> None:
    assert acknowledged(NOTES, "1.0.0") == {
        "param-became-required PATCH /v1/things/{thing_id} header:if-match",
        "property-deprecated Thing.unit",
        "constraint-tightened ThingIn.*",
    }
    with pytest.raises(ValueError, match=r"no '## 1\.1\.0' heading"):
        acknowledged(NOTES, "1.1.0")


def test_check_needs_each_breaking_change_and_deprecation_recorded() -> None:
    old = base()
    new = copy.deepcopy(old)
    param(new, TI, "patch", "If-Match")["required"] = True
    assert check(old, new, NOTES, "1.0.0").stale == [
        "constraint-tightened ThingIn.*",
        "property-deprecated Thing.unit",
    ]
    schemas(new)["Thing"]["properties"]["unit"]["deprecated"] = True
    schemas(new)["ThingIn"]["properties"]["name"]["maxLength"] = 50
    schemas(new)["ThingIn"]["properties"]["kind"]["maxLength"] = 1
    assert check(old, new, NOTES, "1.0.0").ok
    schemas(new)["ThingIn"]["properties"]["value"]["maximum"] = 1  # ThingIn.* covers it too
    assert check(old, new, NOTES, "1.0.0").ok
    schemas(new)["Thing"]["properties"].pop("tags")
    verdict = check(old, new, NOTES, "1.0.0")
    assert [c.id for c in verdict.missing] == ["property-removed Thing.tags"]
    assert "- `property-removed Thing.tags`: " in report(verdict, "1.0.0")


def test_cutting_a_release(tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "v1.0.0.json").write_text(json.dumps(base()))
    (folder / "SHA256SUMS").write_text("")
    notes = tmp_path / "CHANGELOG.md"
    notes.write_text(
        "# Notes\n\n## Unreleased\n\n- `param-became-required * header:if-match`: always was.\n"
        "\n## 1.0.0 — 2026-11-30\n\nFirst.\n"
    )
    new = base()
    param(new, TI, "patch", "If-Match")["required"] = True
    spec = tmp_path / "v1.json"
    spec.write_text(json.dumps(new))
    with pytest.raises(ValueError, match=r"info\.version is 1\.0\.0, not 1\.1\.0"):
        release("1.1.0", spec, folder, notes)
    new["info"]["version"] = "1.1.0"
    spec.write_text(json.dumps(new))
    with pytest.raises(ValueError, match="not newer"):
        release("1.0.0", spec, folder, notes)

    release("1.1.0", spec, folder, notes, day="2027-01-15")
    assert (folder / "v1.1.0.json").read_bytes() == spec.read_bytes()
    digest = hashlib.sha256(spec.read_bytes()).hexdigest()
    assert (folder / "SHA256SUMS").read_text() == f"{digest}  v1.1.0.json\n"
    text = notes.read_text()
    assert (
        text.index("## Unreleased") < text.index("## 1.1.0 — 2027-01-15") < text.index("## 1.0.0")
    )
    assert acknowledged(text, "1.1.0") == set()  # the entry now belongs to 1.1.0
    assert check(new, new, text, "1.1.0").ok

    op(new, T, "get")["parameters"].pop(0)  # breaking against 1.1.0, and not recorded
    new["info"]["version"] = "1.2.0"
    spec.write_text(json.dumps(new))
    with pytest.raises(ValueError, match=r"- `param-removed GET /v1/things query:limit`"):
        release("1.2.0", spec, folder, notes)
    assert not (folder / "v1.2.0.json").exists()
