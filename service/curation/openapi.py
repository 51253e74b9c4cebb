"""OpenAPI of the curator writes: their error responses, `If-Match`, the operation classes
(links from each write to the next on the same record) and the route options of the four
writes of a resource."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Link, OpenAPIResponse, Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import HeaderParameter

from service.auth import SECURITY, editor_guard
from service.curation.bodies import json_body_guard, strict_body
from service.resources.resource import Resource
from service.web.errors import COMMON_ERRORS, problem_spec

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        # Optional for the framework, so a missing one reaches the handler and is a 428 (not a
        # 400); the OpenAPI document declares it required (`_WriteOperation`).
        required=False,
        description="The record's current `ETag` (from GET of its detail, or from the last "
        "write), or `*` for whatever its current state. Several tags may be listed, "
        "comma-separated. 428 without it, 412 if none matches.",
        max_length=300,
    ),
]

_AUTH_ERRORS: dict[int, ResponseSpec] = {
    401: problem_spec(
        "No API key, or an unknown or revoked one (`WWW-Authenticate: Bearer`). Create keys "
        "with `python -m service.keys create`."
    ),
    403: problem_spec("The API key is read-only (role `reader`)."),
    413: problem_spec("The request body is larger than the server accepts."),
    422: problem_spec(
        "The body breaks a data rule (control character or blank text, span, quantity parser, "
        "unknown or deleted reference, duplicate name); `invalid_params` names each field."
    ),
}
_BODY_ERRORS: dict[int, ResponseSpec] = {
    415: problem_spec(
        "The body is not declared as JSON (`Content-Type: application/json`; "
        "`application/merge-patch+json` is accepted on PATCH), or not as UTF-8."
    ),
}
CREATE_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    **_AUTH_ERRORS,
    **_BODY_ERRORS,
    409: problem_spec("The `id` is already used (ids are never reused, deleted records included)."),
}
CREATE_ERRORS.pop(304)
_CONDITIONAL_ERRORS: dict[int, ResponseSpec] = {
    **_AUTH_ERRORS,
    404: problem_spec("No record with this id (or it is deleted)."),
    412: problem_spec(
        "`If-Match` names no current ETag of the record: someone changed it (or a record it "
        "embeds) since. The response's `ETag` is the current one."
    ),
    428: problem_spec("`If-Match` is missing."),
}
UPDATE_ERRORS: dict[int, ResponseSpec] = {**COMMON_ERRORS, **_CONDITIONAL_ERRORS, **_BODY_ERRORS}
UPDATE_ERRORS.pop(304)
DELETE_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    **_CONDITIONAL_ERRORS,
    409: problem_spec(
        "Live records still reference this one (as article, organisation, initiative, "
        "`growth_of` or parent); `detail` names them. Re-point or delete them first."
    ),
}
DELETE_ERRORS.pop(304)
RESTORE_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    **_CONDITIONAL_ERRORS,
    409: problem_spec("The record is not deleted."),
}
RESTORE_ERRORS.pop(304)


def _link(operation_id: str, param: str, record_id: str, description: str) -> Link:
    return Link(
        operation_id=operation_id,
        parameters={param: record_id, "If-Match": "$response.header.ETag"},
        description=description,
    )


def write_operation(
    resource: Resource, action: str, links: dict[str, dict[str, tuple[str, str]]]
) -> type[Operation]:
    """The OpenAPI operation of a write: `If-Match` declared required (a missing one is a 428),
    no `If-None-Match` (writes are not conditional GETs), and links from each response to the
    next write on the same record (create → update/delete → restore), with its ETag."""
    param = f"{resource.singular}_id"

    def __post_init__(self: Operation) -> None:
        kept: list[Any] = []
        for parameter in self.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name == "If-None-Match":
                continue
            if isinstance(parameter, Parameter) and parameter.name == "If-Match":
                parameter.required = True
                parameter.schema = Schema(type=OpenAPIType.STRING, max_length=300, min_length=1)
            kept.append(parameter)
        self.parameters = kept
        no_content = (self.responses or {}).get("204")
        if isinstance(no_content, OpenAPIResponse):
            no_content.content = None  # a 204 has no body (Litestar documents a JSON null)
        for status, targets in links.items():
            response = (self.responses or {}).get(status)
            if isinstance(response, OpenAPIResponse):
                response.links = {
                    name: _link(op, param, source, f"{name} the {resource.singular} just written")
                    for name, (op, source) in targets.items()
                }

    name = f"{_title(resource)}{action.title()}Operation"
    return dataclasses.dataclass(type(name, (Operation,), {"__post_init__": __post_init__}))


def curation_tag(tag: str) -> str:
    """The tag of a resource's writes: apart from its public reads."""
    return f"{tag} (curation)"


def _title(resource: Resource) -> str:
    return resource.singular.title()


def route_options(resource: Resource) -> dict[str, dict[str, Any]]:
    """Route-handler options of the four writes: guards, body decoding, OpenAPI."""
    assert resource.write is not None
    write = resource.write
    title, a = _title(resource), _article_of(resource.singular)
    by_body, by_path = "$response.body#/id", f"$request.path.{resource.singular}_id"
    write_on = {"Update": (f"update{title}", by_path), "Delete": (f"delete{title}", by_path)}
    common: dict[str, Any] = {"security": SECURITY, "tags": [curation_tag(resource.tag)]}
    body: dict[str, Any] = {"guards": [editor_guard, json_body_guard], "return_dto": None}
    return {
        "create": common
        | body
        | {
            "dto": strict_body(write.in_type, write.kinds, write.nullable),
            "operation_id": f"create{title}",
            "summary": f"Create {a} {resource.singular}",
            "description": "Requires an editor API key. The body is validated like seed data; "
            f"the response is the new {resource.singular} with its `ETag`.",
            "responses": CREATE_ERRORS,
            "status_code": 201,
            "operation_class": write_operation(
                resource,
                "create",
                {"201": {k: (op, by_body) for k, (op, _) in write_on.items()}},
            ),
        },
        "update": common
        | body
        | {
            "dto": strict_body(write.patch_type, write.kinds, write.nullable),
            "operation_id": f"update{title}",
            "summary": f"Update {a} {resource.singular} (JSON merge patch)",
            "description": "RFC 7386 merge patch on the fields of the create body: a field "
            "omitted is unchanged, `null` clears it (a key of `null_reasons` set to `null` is "
            "removed); `span` is replaced whole. Needs `If-Match`. A patch that changes "
            "nothing (`{}` included) writes nothing: same revision and `ETag`, no audit entry.",
            "responses": UPDATE_ERRORS,
            "operation_class": write_operation(resource, "update", {"200": write_on}),
        },
        "delete": common
        | {
            "guards": [editor_guard],
            "operation_id": f"delete{title}",
            "summary": f"Soft-delete {a} {resource.singular}",
            "description": "Hides the record everywhere (404, lists, search, expansion) until "
            "restored. Needs `If-Match`; the response's `ETag` is what restore needs. Refused "
            "with 409 while live records still reference it (a metric's article, "
            "organisation, initiative or `growth_of`; a parent): `detail` names them. Mentions "
            "in articles and initiatives' organisation roles do not block: they are hidden "
            "while the record is deleted.",
            "responses": DELETE_ERRORS,
            "status_code": 204,
            "operation_class": write_operation(
                resource, "delete", {"204": {"Restore": (f"restore{title}", by_path)}}
            ),
        },
        "restore": common
        | {
            "guards": [editor_guard],
            "operation_id": f"restore{title}",
            "summary": f"Restore a deleted {resource.singular}",
            "description": "Undoes a soft delete. Needs `If-Match` with the ETag the delete "
            "returned, or `*`.",
            "responses": RESTORE_ERRORS,
            "status_code": 200,
            "operation_class": write_operation(resource, "restore", {"200": write_on}),
        },
    }


def _article_of(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
