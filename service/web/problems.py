"""The problem types of the API: one table of error kinds (slug, status, title, description), the
stable `type` URI of each (`/problems/<slug>`, absolute under `PUBLIC_BASE_URL` when set), the
machine `code`s of `invalid_params` entries, and the page served at each type URI.

A client branches on `type` (and on `invalid_params[].code`), never on the English `detail`.
Slugs are part of the contract: add kinds, never rename or remove one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

from litestar.exceptions import HTTPException

PROBLEMS_PATH = "/problems"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One kind of error: its `type` slug, HTTP status, `title` and what a client should do."""

    slug: str
    status: int
    title: str
    description: str


KINDS: tuple[ProblemKind, ...] = (
    ProblemKind(
        "invalid-request",
        400,
        "Bad Request",
        "A query parameter, header, path, cursor or body is malformed or unknown. "
        "`invalid_params` names each one with a machine `code`. Fix the request; do not retry "
        "it unchanged.",
    ),
    ProblemKind(
        "unauthenticated",
        401,
        "Unauthorized",
        "The operation needs an API key (`Authorization: Bearer <key>`), or the key sent is "
        "malformed, unknown or revoked.",
    ),
    ProblemKind(
        "forbidden",
        403,
        "Forbidden",
        "The API key may not do this (a `reader` key on a write), or a write came from a "
        "browser origin that is not allowed to write.",
    ),
    ProblemKind("not-found", 404, "Not Found", "No record (or no route) at this URL."),
    ProblemKind("method-not-allowed", 405, "Method Not Allowed", "See the `Allow` header."),
    ProblemKind(
        "not-acceptable",
        406,
        "Not Acceptable",
        "`Accept` allows no representation this resource has (`application/json` and "
        "`application/problem+json` for data).",
    ),
    ProblemKind(
        "conflict", 409, "Conflict", "The request conflicts with the current state of the data."
    ),
    ProblemKind(
        "id-taken",
        409,
        "Id Already Used",
        "The `id` in the create body was used before (ids are never reused, deleted records "
        "included). Choose another id, or omit it to have one derived from the name.",
    ),
    ProblemKind(
        "still-referenced",
        409,
        "Record Still Referenced",
        "Live records still reference the one to delete; `detail` names them. Re-point or "
        "delete those first.",
    ),
    ProblemKind(
        "not-deleted",
        409,
        "Record Not Deleted",
        "Restore applies only to a soft-deleted record; this one is live.",
    ),
    ProblemKind(
        "gone",
        410,
        "Gone",
        "This URL named a dataset version that is no longer served; `detail` names the "
        "current one.",
    ),
    ProblemKind(
        "precondition-failed",
        412,
        "Precondition Failed",
        "`If-Match` names no current `ETag` of the record: it changed since you read it. The "
        "response's `ETag` is the current one: GET the record again and re-apply your change.",
    ),
    ProblemKind(
        "content-too-large",
        413,
        "Content Too Large",
        "The request body is larger than the server accepts.",
    ),
    ProblemKind(
        "uri-too-long", 414, "URI Too Long", "The path or query string is longer than accepted."
    ),
    ProblemKind(
        "unsupported-media-type",
        415,
        "Unsupported Media Type",
        "The body is not declared as JSON (`application/json`; `application/merge-patch+json` "
        "on PATCH) in UTF-8.",
    ),
    ProblemKind(
        "validation-failed",
        422,
        "Unprocessable Content",
        "The body is well-formed but breaks a data rule (text, span, quantity, reference, "
        "uniqueness); `invalid_params` names each field with a machine `code`.",
    ),
    ProblemKind(
        "idempotency-key-reused",
        422,
        "Idempotency Key Reused",
        "This `Idempotency-Key` was used in the last 24 hours with another request (method, "
        "path or body differ). Use a new key for a new request.",
    ),
    ProblemKind(
        "precondition-required",
        428,
        "Precondition Required",
        "This write needs `If-Match` with the record's current `ETag` (or `*`).",
    ),
    ProblemKind(
        "rate-limited",
        429,
        "Too Many Requests",
        "Too many requests from this client this minute; retry after `Retry-After` seconds.",
    ),
    ProblemKind(
        "internal-error",
        500,
        "Internal Server Error",
        "An unexpected error; it is logged server-side (quote `X-Request-ID`).",
    ),
    ProblemKind(
        "unavailable",
        503,
        "Service Unavailable",
        "The database (or the requested build) is unavailable for now; retry after "
        "`Retry-After` seconds.",
    ),
)
BY_SLUG: dict[str, ProblemKind] = {kind.slug: kind for kind in KINDS}
# The kind a status gets when nothing more specific is said: the first listed for it.
_BY_STATUS: dict[int, ProblemKind] = {}
for _kind in KINDS:
    _BY_STATUS.setdefault(_kind.status, _kind)

ParamCode = Literal[
    "required",
    "invalid_type",
    "invalid_value",
    "invalid_json",
    "out_of_range",
    "too_long",
    "too_many",
    "too_deep",
    "not_allowed",
    "unknown_parameter",
    "unknown_field",
    "repeated",
    "invalid_cursor",
    "invalid_encoding",
    "control_character",
    "blank",
    "unknown_reference",
    "duplicate",
    "mismatch",
    "rule_violation",
]
PARAM_CODES: dict[str, str] = {
    "required": "A required parameter or field is missing (or empty).",
    "invalid_type": "The JSON type is wrong (a string where a number is expected, …).",
    "invalid_value": "The value does not have the expected form.",
    "invalid_json": "The body is not valid JSON.",
    "out_of_range": "A number outside its allowed range.",
    "too_long": "A string or list longer than allowed.",
    "too_many": "More values (list items, sort keys) than allowed.",
    "too_deep": "The JSON is nested too deeply.",
    "not_allowed": "A value outside the allowed set (enumeration, sort key, facet).",
    "unknown_parameter": "A query parameter this operation does not define.",
    "unknown_field": "A body field the schema does not define.",
    "repeated": "A parameter given more than once.",
    "invalid_cursor": "A cursor that is malformed, tampered with or from another query.",
    "invalid_encoding": "Percent-escapes that are not UTF-8.",
    "control_character": "Text containing a control character (NUL or another).",
    "blank": "Text that is only whitespace.",
    "unknown_reference": "A reference to a record that does not exist or is deleted.",
    "duplicate": "A value that must be unique and is already used.",
    "mismatch": "Fields that disagree (quote and span, value and the parsed raw figure, …).",
    "rule_violation": "Any other data rule; `reason` says which.",
}


def kind_for(status: int, slug: str | None = None) -> ProblemKind:
    """The kind named by `slug`, else the default kind of `status`."""
    if slug is not None:
        return BY_SLUG[slug]
    found = _BY_STATUS.get(status)
    if found is not None:
        return found
    return ProblemKind("error", status, "Error", "")


def type_uri(slug: str, base: str | None) -> str:
    """The kind's `type`: absolute under `PUBLIC_BASE_URL` when set, else a relative reference
    (RFC 9457 §3.1.1 resolves it against the request's URL)."""
    return f"{base or ''}{PROBLEMS_PATH}/{slug}"


class ProblemError(HTTPException):
    """An HTTP error of a specific problem kind (`slug`), for statuses with several kinds."""

    def __init__(self, slug: str, detail: str, headers: dict[str, str] | None = None) -> None:
        self.problem_slug = slug
        self.status_code = BY_SLUG[slug].status
        super().__init__(status_code=self.status_code, detail=detail, headers=headers)


def problem_page(kind: ProblemKind) -> str:
    """The HTML page served at a type URI: what the error means and what to do."""
    title = html.escape(kind.title)
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{title} ({kind.status}) — problem type</title></head>\n<body>\n"
        f"<h1>{title}</h1>\n<p>HTTP status <code>{kind.status}</code>, problem type "
        f"<code>{PROBLEMS_PATH}/{kind.slug}</code>.</p>\n"
        f"<p>{_code_spans(kind.description)}</p>\n"
        '<p>All problem types: <a href="/problems">/problems</a>.</p>\n</body>\n</html>\n'
    )


def problems_index() -> str:
    """The HTML list of every problem type and of the `invalid_params` codes."""
    rows = "".join(
        f'<tr><td><a href="{PROBLEMS_PATH}/{k.slug}">{k.slug}</a></td><td>{k.status}</td>'
        f"<td>{html.escape(k.title)}</td></tr>\n"
        for k in KINDS
    )
    codes = "".join(
        f"<tr><td><code>{code}</code></td><td>{_code_spans(text)}</td></tr>\n"
        for code, text in PARAM_CODES.items()
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>Problem types</title></head>\n<body>\n<h1>Problem types</h1>\n"
        "<table>\n<tr><th>type</th><th>status</th><th>title</th></tr>\n"
        f"{rows}</table>\n<h2><code>invalid_params[].code</code></h2>\n<table>\n{codes}"
        "</table>\n</body>\n</html>\n"
    )


def _code_spans(text: str) -> str:
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
