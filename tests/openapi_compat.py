"""Breaking-change check between two OpenAPI 3.1 documents: the last release and the current spec.

Direction decides: a request may only widen (the server must still accept what an old client
sends) and a response may only narrow (an old client must still understand what it receives),
except that responses may gain properties and enumeration values, because clients must ignore
unknown fields and tolerate unknown values (README "Versioning policy").

Each change has a stable id, `<rule> <location>`, e.g. `property-removed MetricOut.quote` or
`param-became-required PATCH /v1/metrics/{metric_id} header:if-match`. A breaking change or a new
deprecation lands only when `openapi/CHANGELOG.md` quotes its id in backticks at the start of a
list item above the heading of the latest release.

Why not a packaged diff tool (checked 2026-11): openapi-diff (npm) rejects OpenAPI 3.1; the npm
name `oasdiff` is a placeholder and oasdiff is on neither npm nor PyPI; @pb33f/openapi-changes
downloads its binary from GitHub at install; @useoptic/optic 1.0.9 crashes on start; PyPI's
api-schema-diff ignores direction, enums, oneOf and 3.1 type lists.

`python -m tests.openapi_compat [OLD NEW]` prints every change (default: latest release → spec);
`python -m tests.openapi_compat --release X.Y.Z` (`make spec-release VERSION=X.Y.Z`) cuts a release.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "v1.json"
RELEASES = ROOT / "openapi" / "releases"
CHANGELOG = ROOT / "openapi" / "CHANGELOG.md"

Json = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keywords whose larger value accepts more / fewer values.
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
# Keywords that do not change which values a schema accepts.
ANNOTATIONS = frozenset(
    {"description", "title", "examples", "example", "default", "deprecated", "readOnly"}
    | {"writeOnly", "externalDocs", "xml", "discriminator", "$comment", "contentMediaType"}
)
RELEASE_FILE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)\.json$")
# A release-notes entry: a list item starting with `<rule> <location>`; `*` in the location
# matches any text, so one entry can record a change repeated across operations or fields.
ENTRY = re.compile(r"^\s*[-*]\s+`([a-z][a-z-]*\s[^`]*[^`*\s][^`]*)`")


class Kind(Enum):
    BREAKING = "breaking"
    DEPRECATION = "deprecation"
    COMPATIBLE = "compatible"


@dataclass(frozen=True)
class Change:
    kind: Kind
    rule: str
    location: str
    detail: str

    @property
    def id(self) -> str:
        return f"{self.rule} {self.location}"


@dataclass(frozen=True)
class Branch:
    """One alternative of a schema: a single JSON type with the keywords that constrain it."""

    type: str  # a JSON Schema type, or "any"
    schema: Json
    ref: str | None


def covers(wide: str, narrow: str) -> bool:
    return wide == narrow or wide == "any" or (wide == "number" and narrow == "integer")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "any"


@dataclass
class Comparer:
    """Collects the changes from `old` to `new`; each component pair is compared once."""

    old: Json
    new: Json
    changes: dict[str, Change] = field(default_factory=dict)
    seen: set[tuple[str | None, str | None, str]] = field(default_factory=set)

    def add(self, kind: Kind, rule: str, location: str, detail: str) -> None:
        change = Change(kind, rule, location, detail)
        earlier = self.changes.get(change.id)
        if earlier is not None and detail not in earlier.detail.split("; "):
            change = Change(kind, rule, location, f"{earlier.detail}; {detail}")
        self.changes[change.id] = change

    def breaking(self, rule: str, location: str, detail: str) -> None:
        self.add(Kind.BREAKING, rule, location, detail)

    def compatible(self, rule: str, location: str, detail: str) -> None:
        self.add(Kind.COMPATIBLE, rule, location, detail)

    # --- documents ------------------------------------------------------------------------

    def run(self) -> list[Change]:
        old_ops, new_ops = operations(self.old), operations(self.new)
        for key, (label, _, _) in old_ops.items():
            if key not in new_ops:
                self.breaking("operation-removed", label, "the operation is gone")
        for key, (label, path_item, op) in new_ops.items():
            if key not in old_ops:
                self.compatible("operation-added", label, "new operation")
                continue
            _, old_item, old_op = old_ops[key]
            self.operation(label, (old_item, old_op), (path_item, op))
        return sorted(self.changes.values(), key=lambda c: (c.kind.value, c.id))

    def operation(self, label: str, old: tuple[Json, Json], new: tuple[Json, Json]) -> None:
        old_op, new_op = old[1], new[1]
        if new_op.get("deprecated") and not old_op.get("deprecated"):
            self.add(Kind.DEPRECATION, "operation-deprecated", label, "marked deprecated")
        self.security(label, old_op, new_op)
        self.parameters(label, parameters(self.old, *old), parameters(self.new, *new))
        self.request_body(label, old_op.get("requestBody"), new_op.get("requestBody"))
        self.responses(label, old_op.get("responses", {}), new_op.get("responses", {}))

    def security(self, label: str, old_op: Json, new_op: Json) -> None:
        before = security_options(self.old, old_op)
        after = security_options(self.new, new_op)
        for option in sorted(before - after, key=sorted):
            shown = " + ".join(sorted(option)) or "anonymous"
            self.breaking("security-changed", label, f"no longer accepts {shown}")

    def parameters(self, label: str, old: dict[str, Json], new: dict[str, Json]) -> None:
        for key in old:
            if key not in new:
                self.breaking("param-removed", f"{label} {key}", "parameter removed")
        for key, param in new.items():
            location = f"{label} {key}"
            before = old.get(key)
            if before is None:
                if param.get("required"):
                    self.breaking("param-added-required", location, "new required parameter")
                else:
                    self.compatible("param-added", location, "new optional parameter")
                continue
            if param.get("required") and not before.get("required"):
                self.breaking("param-became-required", location, "optional → required")
            if param.get("deprecated") and not before.get("deprecated"):
                self.add(Kind.DEPRECATION, "param-deprecated", location, "marked deprecated")
            # A parameter is text: a `null` branch (Litestar's Optional) cannot be sent.
            self.schema(
                before.get("schema", {}), param.get("schema", {}), "request", location, False
            )

    def request_body(self, label: str, old: Json | None, new: Json | None) -> None:
        location = f"{label} request"
        old = self.component(self.old, old) if old else None
        new = self.component(self.new, new) if new else None
        if old is None or new is None:
            if old is not None:
                self.breaking("request-body-removed", location, "request body removed")
            elif new is not None and new.get("required"):
                self.breaking("request-body-added-required", location, "new required body")
            return
        if new.get("required") and not old.get("required"):
            self.breaking("request-body-became-required", location, "optional → required")
        self.content(location, old.get("content", {}), new.get("content", {}), "request")

    def responses(self, label: str, old: Json, new: Json) -> None:
        for status in old:
            if status not in new:
                if status.startswith("2"):
                    self.breaking("response-removed", f"{label} {status}", "success removed")
                else:
                    self.compatible("response-removed", f"{label} {status}", "no longer sent")
        for status, response in new.items():
            location = f"{label} {status}"
            if status not in old:
                self.compatible("response-added", location, "new response status")
                continue
            before = self.component(self.old, old[status])
            after = self.component(self.new, response)
            self.content(location, before.get("content", {}), after.get("content", {}), "response")
            self.headers(location, before.get("headers", {}), after.get("headers", {}))

    def headers(self, location: str, old: Json, new: Json) -> None:
        old_headers = {name.lower(): self.component(self.old, h) for name, h in old.items()}
        new_headers = {name.lower(): self.component(self.new, h) for name, h in new.items()}
        for name, header in old_headers.items():
            where = f"{location} header:{name}"
            after = new_headers.get(name)
            if after is None:
                self.breaking("response-header-removed", where, "header no longer declared")
                continue
            if header.get("required") and not after.get("required"):
                self.breaking("response-header-became-optional", where, "required → optional")
            self.schema(header.get("schema", {}), after.get("schema", {}), "response", where)
        for name in new_headers.keys() - old_headers.keys():
            self.compatible("response-header-added", f"{location} header:{name}", "new header")

    def content(self, location: str, old: Json, new: Json, direction: str) -> None:
        for media_type, media in old.items():
            where = f"{location} {media_type}"
            if media_type not in new:
                self.breaking(f"{direction}-media-type-removed", where, "media type removed")
                continue
            before, after = media.get("schema", {}), new[media_type].get("schema", {})
            self.schema(before, after, direction, where)
        for media_type in new.keys() - old.keys():
            self.compatible(f"{direction}-media-type-added", f"{location} {media_type}", "new")

    @staticmethod
    def component(doc: Json, obj: Json) -> Json:
        """Follows a `$ref` to a response, header, parameter or request body."""
        for _ in range(10):
            ref = obj.get("$ref")
            if not isinstance(ref, str):
                break
            obj = pointer(doc, ref) or {}
        return obj

    # --- schemas ----------------------------------------------------------------------------

    def schema(self, old: Any, new: Any, direction: str, location: str, null: bool = True) -> None:
        """Compares two schemas: `direction` is "request" (may widen) or "response" (may narrow);
        `null=False` ignores `null` alternatives (parameters)."""
        old_branches = [b for b in branches(self.old, old) if null or b.type != "null"]
        new_branches = [b for b in branches(self.new, new) if null or b.type != "null"]
        # The side whose every branch must be matched: what old clients send, what new servers send.
        request = direction == "request"
        must, pool = (old_branches, new_branches) if request else (new_branches, old_branches)
        for branch in must:
            candidates = [b for b in pool if covers(b.type, branch.type)]
            if not candidates:
                if request:
                    self.breaking("type-narrowed", location, f"no longer accepts {branch.type}")
                else:
                    self.breaking("type-widened", location, f"may now be {branch.type}")
                continue
            same_ref = [b for b in candidates if b.ref is not None and b.ref == branch.ref]
            other = (same_ref or [b for b in candidates if b.type == branch.type] or candidates)[0]
            pair = (branch, other) if request else (other, branch)
            self.branch(pair[0], pair[1], direction, location)

    def branch(self, old: Branch, new: Branch, direction: str, location: str) -> None:
        if old.ref is not None and new.ref is not None:
            key = (old.ref, new.ref, direction)
            if key in self.seen:
                return
            self.seen.add(key)
            # Compared once per pair of components, so reported under the component's own name
            # (the new one where a field now points at another component, e.g. Span → SpanIn).
            location = new.ref
        if old.type == "any" and new.type != "any":
            return  # a typed branch matched against `any`: nothing more to compare
        self.values(old.schema, new.schema, old.type, direction, location)
        if old.type == "object" and new.type == "object":
            self.object(old.schema, new.schema, direction, location)
        elif old.type == "array" and new.type == "array":
            items = old.schema.get("items", {}), new.schema.get("items", {})
            self.schema(*items, direction, f"{location}[]")
            unique = old.schema.get("uniqueItems", False), new.schema.get("uniqueItems", False)
            if unique == (False, True) and direction == "request":
                self.breaking("constraint-tightened", location, "uniqueItems added")

    def values(self, old: Json, new: Json, type_: str, direction: str, location: str) -> None:
        """Enumerations, bounds, pattern and format of one branch."""
        request = direction == "request"
        before, after = allowed_values(old, type_), allowed_values(new, type_)
        if before is not None or after is not None:
            if after is not None and before is None:
                if request:
                    self.breaking("enum-added", location, f"now only {sorted(map(str, after))}")
            elif after is None and before is not None:
                if not request:
                    self.breaking("enum-removed", location, "no longer a closed set of values")
            elif before is not None and after is not None:
                removed, added = sorted(map(str, before - after)), sorted(map(str, after - before))
                if removed and request:
                    self.breaking("enum-value-removed", location, f"no longer accepts {removed}")
                if added:
                    self.compatible("enum-value-added", location, f"new values {added}")
        for keyword in LOWER_BOUNDS + UPPER_BOUNDS:
            self.bound(keyword, old.get(keyword), new.get(keyword), direction, location)
        for keyword in ("pattern", "format"):
            was, now = old.get(keyword), new.get(keyword)
            if was != now and (now is not None if request else was is not None):
                self.breaking(f"{keyword}-changed", location, f"{keyword} {was!r} → {now!r}")

    def bound(self, keyword: str, was: Any, now: Any, direction: str, location: str) -> None:
        if was == now:
            return
        upper = keyword in UPPER_BOUNDS
        if was is None or now is None:
            tighter = now is not None
        else:
            tighter = now < was if upper else now > was
        if tighter == (direction == "request"):
            rule = "constraint-tightened" if tighter else "constraint-loosened"
            self.breaking(rule, location, f"{keyword} {was} → {now}")
        else:
            self.compatible("constraint-changed", location, f"{keyword} {was} → {now}")

    def object(self, old: Json, new: Json, direction: str, location: str) -> None:
        request = direction == "request"
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in old_props.keys() - new_props.keys():
            self.breaking("property-removed", f"{location}.{name}", "property removed")
        for name, prop in new_props.items():
            where = f"{location}.{name}"
            if name not in old_props:
                if request and name in new_required:
                    self.breaking("required-property-added", where, "new required property")
                else:
                    self.compatible("property-added", where, "new optional property")
                continue
            if request and name in new_required - old_required:
                self.breaking("property-became-required", where, "optional → required")
            if not request and name in old_required - new_required:
                self.breaking("property-became-optional", where, "required → optional")
            deprecated = isinstance(prop, dict) and prop.get("deprecated")
            if deprecated and not old_props[name].get("deprecated"):
                self.add(Kind.DEPRECATION, "property-deprecated", where, "marked deprecated")
            self.schema(old_props[name], prop, direction, where)
        if "propertyNames" in old or "propertyNames" in new:
            keys = {"type": "string"}  # what an absent propertyNames allows
            before, after = old.get("propertyNames", keys), new.get("propertyNames", keys)
            self.schema(before, after, direction, f"{location}{{keys}}")
        # Absent or true: any extra key. A response may add keys (clients ignore them), so only
        # the values of a map (a schema on both sides) are compared there.
        was, now = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if request and was is not False and now is False:
            self.breaking("additional-properties-closed", location, "unknown keys now rejected")
        elif (
            was is not False
            and now is not False
            and (isinstance(was, dict) or isinstance(now, dict))
        ):
            before = was if isinstance(was, dict) else {}
            self.schema(before, now if isinstance(now, dict) else {}, direction, f"{location}{{}}")


def pointer(doc: Json, ref: str) -> Json | None:
    """The object at a local `#/…` reference, or None."""
    if not ref.startswith("#/"):
        return None
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def branches(doc: Json, schema: Any, ref: str | None = None, depth: int = 0) -> list[Branch]:
    """The schema's alternatives, one JSON type each; outer keywords apply to every one."""
    if schema is True or not isinstance(schema, dict) or depth > 20:
        return [Branch("any", {}, ref)]
    if isinstance(schema.get("$ref"), str):
        name = schema["$ref"].rsplit("/", 1)[-1]
        return branches(doc, pointer(doc, schema["$ref"]) or {}, name, depth + 1)
    if schema.get("allOf"):
        schema = merge_all_of(doc, schema)
    outer = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", *ANNOTATIONS)}
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(alternatives, list):
        found: list[Branch] = []
        for alternative in alternatives:
            for branch in branches(doc, alternative, None, depth + 1):
                found.append(Branch(branch.type, {**outer, **branch.schema}, branch.ref))
        return found
    types = schema.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list):
        values = schema.get("enum", [schema["const"]] if "const" in schema else None)
        if isinstance(values, list):
            types = sorted({json_type(v) for v in values})
        elif "properties" in schema or "additionalProperties" in schema:
            types = ["object"]
        elif "items" in schema:
            types = ["array"]
        else:
            types = ["any"]
    return [Branch(t, outer, ref) for t in types]


def merge_all_of(doc: Json, schema: Json) -> Json:
    """allOf of object schemas as one schema (properties and required united)."""
    merged: Json = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        if isinstance(part, dict) and isinstance(part.get("$ref"), str):
            part = pointer(doc, part["$ref"]) or {}
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", []), *value})
            else:
                merged.setdefault(key, value)
    return merged


def allowed_values(schema: Json, type_: str) -> set[Any] | None:
    """The enumeration (or const) of one branch, restricted to that branch's type."""
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if not isinstance(values, list):
        return None
    return {
        json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
        for v in values
        if covers(type_, json_type(v))
    }


def operations(doc: Json) -> dict[str, tuple[str, Json, Json]]:
    """Operations keyed by method and path template with parameter names blanked (renaming a
    path parameter is no change), each with its label (`GET /v1/metrics/{metric_id}`)."""
    found: dict[str, tuple[str, Json, Json]] = {}
    for path, item in doc.get("paths", {}).items():
        template = re.sub(r"\{[^}]*\}", "{}", path)
        for method in METHODS:
            if isinstance(item.get(method), dict):
                found[f"{method} {template}"] = (f"{method.upper()} {path}", item, item[method])
    return found


def parameters(doc: Json, path_item: Json, op: Json) -> dict[str, Json]:
    """Path-level and operation parameters keyed `in:name` (header names lowercased; path
    parameters by position, so renaming one is not a change)."""
    merged: dict[tuple[str, str], Json] = {}
    for param in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        param = Comparer.component(doc, param)
        merged[(param.get("in", ""), param.get("name", ""))] = param
    found: dict[str, Json] = {}
    path_names: list[str] = []
    for (where, name), param in merged.items():
        if where == "path":
            path_names.append(name)
            key = f"path:{len(path_names)}"
        else:
            key = f"{where}:{name.lower() if where == 'header' else name}"
        found[key] = param
    return found


def security_options(doc: Json, op: Json) -> set[frozenset[str]]:
    """Each accepted way to authenticate, as a set of scheme names; an empty set: anonymous."""
    requirements = op.get("security", doc.get("security", []))
    if not requirements:
        return {frozenset()}
    return {frozenset(req) for req in requirements if isinstance(req, dict)}


def compare(old: Json, new: Json) -> list[Change]:
    return Comparer(old, new).run()


def uses_deprecated(doc: Json, node: Any, seen: set[str]) -> bool:
    """Whether a schema, or any schema it reaches, has a property marked deprecated."""
    if isinstance(node, list):
        return any(uses_deprecated(doc, item, seen) for item in node)
    if not isinstance(node, dict):
        return False
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return False
        seen.add(ref)
        return uses_deprecated(doc, pointer(doc, ref) or {}, seen)
    props = node.get("properties", {})
    if any(isinstance(p, dict) and p.get("deprecated") for p in props.values()):
        return True
    return any(uses_deprecated(doc, v, seen) for k, v in node.items() if k not in ANNOTATIONS)


def missing_deprecation_headers(doc: Json) -> list[str]:
    """Success responses of operations affected by a deprecation (the operation, a parameter or
    a property it sends or receives) that do not declare `Deprecation` and `Sunset`."""
    missing = []
    for label, item, op in operations(doc).values():
        affected = (
            bool(op.get("deprecated"))
            or any(p.get("deprecated") for p in parameters(doc, item, op).values())
            or uses_deprecated(doc, [op.get("requestBody"), op.get("responses")], set())
        )
        for status, response in op.get("responses", {}).items() if affected else ():
            declared = {h.lower() for h in Comparer.component(doc, response).get("headers", {})}
            if status.startswith("2") and not {"deprecation", "sunset"} <= declared:
                missing.append(f"{label} {status}")
    return missing


# --- releases and release notes -------------------------------------------------------------


def releases(folder: Path = RELEASES) -> list[tuple[tuple[int, int, int], Path]]:
    """Released copies of the spec (`vMAJOR.MINOR.PATCH.json`), oldest first."""
    found = []
    for path in folder.iterdir():
        match = RELEASE_FILE.match(path.name)
        if match:
            major, minor, patch = (int(g) for g in match.groups())
            found.append(((major, minor, patch), path))
    return sorted(found)


def acknowledged(notes: str, version: str) -> set[str]:
    """Change ids quoted by the notes between the first `## ` heading (the preamble is free
    text) and the heading of release `version`."""
    ids: set[str] = set()
    started = False
    for line in notes.splitlines():
        if re.match(rf"^##\s+\[?{re.escape(version)}\b", line):
            return ids
        started = started or line.startswith("## ")
        match = ENTRY.match(line)
        if started and match:
            ids.add(" ".join(match.group(1).split()))
    raise ValueError(f"the release notes have no '## {version}' heading")


@dataclass(frozen=True)
class Verdict:
    changes: list[Change]
    missing: list[Change]  # breaking changes and deprecations the notes do not record
    stale: list[str]  # ids the notes record that are not changes

    @property
    def ok(self) -> bool:
        return not self.missing and not self.stale


def entry_pattern(entry: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", entry))
    )


def check(old: Json, new: Json, notes: str, version: str) -> Verdict:
    changes = compare(old, new)
    patterns = {entry: entry_pattern(entry) for entry in acknowledged(notes, version)}
    needed = [c for c in changes if c.kind is not Kind.COMPATIBLE]
    missing = [c for c in needed if not any(p.fullmatch(c.id) for p in patterns.values())]
    stale = sorted(e for e, p in patterns.items() if not any(p.fullmatch(c.id) for c in needed))
    return Verdict(changes, missing, stale)


def report(verdict: Verdict, version: str) -> str:
    lines = [f"{c.kind.value:11} {c.id}  ({c.detail})" for c in verdict.changes]
    if verdict.missing:
        lines.append(
            f"\nNot recorded in openapi/CHANGELOG.md above '## {version}' (add these list items):"
        )
        lines += [f"- `{c.id}`: <why; what clients do> ({c.detail})" for c in verdict.missing]
        lines.append("(one entry may cover several: `*` in the location matches any text)")
    if verdict.stale:
        lines.append("\nRecorded but not a breaking change or deprecation any more (remove):")
        lines += [f"- `{i}`" for i in verdict.stale]
    return "\n".join(lines) or "no changes"


NEW_SECTION = """## Unreleased

### Breaking changes

None yet.

### Deprecations

None yet.

### Compatible changes

None yet.

"""


def release(
    version: str,
    spec: Path = SPEC,
    folder: Path = RELEASES,
    notes_path: Path = CHANGELOG,
    day: str | None = None,
) -> None:
    """Cuts release `version` once the gate passes: the spec's bytes become
    `vX.Y.Z.json` (with its SHA256SUMS line), `## Unreleased` becomes `## X.Y.Z — day`, and a
    new empty `## Unreleased` opens above it."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ValueError(f"{version!r} is not MAJOR.MINOR.PATCH")
    latest_tuple, latest_path = releases(folder)[-1]
    if tuple(int(n) for n in version.split(".")) <= latest_tuple:
        raise ValueError(f"{version} is not newer than the latest release {latest_path.name}")
    body = spec.read_bytes()
    doc = json.loads(body)
    if doc["info"]["version"] != version:
        raise ValueError(f"the spec's info.version is {doc['info']['version']}, not {version}")
    notes = notes_path.read_text()
    latest = ".".join(map(str, latest_tuple))
    verdict = check(json.loads(latest_path.read_text()), doc, notes, latest)
    if not verdict.ok:
        raise ValueError(report(verdict, latest))
    if notes.count("\n## Unreleased\n") != 1:
        raise ValueError("the release notes need exactly one '## Unreleased' heading")
    heading = f"## {version} — {day or date.today().isoformat()}"
    notes_path.write_text(notes.replace("\n## Unreleased\n", f"\n{NEW_SECTION}{heading}\n"))
    (folder / f"v{version}.json").write_bytes(body)
    with (folder / "SHA256SUMS").open("a") as sums:
        sums.write(f"{hashlib.sha256(body).hexdigest()}  v{version}.json\n")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--release"] and len(argv) == 2:
        try:
            release(argv[1])
        except ValueError as error:
            print(f"not released: {error}")
            return 1
        print(f"released {argv[1]}: openapi/releases/v{argv[1]}.json; commit it with the notes")
        return 0
    version_path = releases()[-1]
    version = ".".join(map(str, version_path[0]))
    old_path = Path(argv[0]) if argv else version_path[1]
    new_path = Path(argv[1]) if len(argv) > 1 else SPEC
    old, new = json.loads(old_path.read_text()), json.loads(new_path.read_text())
    verdict = check(old, new, CHANGELOG.read_text(), version)
    print(report(verdict, version))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
