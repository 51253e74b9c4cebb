"""RFC 9457 problem details: the one error format of the API, its handlers and its specs."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from service.web.problems import KINDS, PARAM_CODES, ParamCode, kind_for, type_uri

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("service.errors")
# The two field descriptions that list a vocabulary, written out from it.
CODE_DOC = "What is wrong, for programs: " + "; ".join(
    f"`{code}`: {text}" for code, text in PARAM_CODES.items()
)
TYPE_DOC = (
    "The kind of error, stable: branch on it. A URI reference to a page describing it: "
    "`/problems/<kind>` (absolute when the server has a public base URL). Kinds: "
    + ", ".join(f"`{k.slug}` ({k.status})" for k in KINDS)
    + "."
)


class InvalidParam(msgspec.Struct):
    """One rejected input: which parameter, where, why, and a machine `code`."""

    name: Annotated[str, msgspec.Meta(description="The parameter, header or body field.")]
    reason: Annotated[str, msgspec.Meta(description="Why it was rejected, in English.")]
    code: Annotated[ParamCode, msgspec.Meta(description=CODE_DOC)]
    location: Annotated[str, msgspec.Meta(description="`query`, `path`, `header` or `body`.")] = (
        "query"
    )


class Problem(msgspec.Struct, omit_defaults=True):
    """An error response (RFC 9457)."""

    title: Annotated[str, msgspec.Meta(description="The same for every problem of a `type`.")]
    status: Annotated[int, msgspec.Meta(description="The HTTP status code.")]
    type: Annotated[str, msgspec.Meta(description=TYPE_DOC)]
    detail: Annotated[
        str | None, msgspec.Meta(description="This occurrence, in English (may change).")
    ] = None
    instance: str | None = None
    invalid_params: Annotated[
        list[InvalidParam] | None, msgspec.Meta(description="Each rejected input (400, 422).")
    ] = None


def make_problem(
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    base: str | None = None,
    invalid_params: list[InvalidParam] | None = None,
) -> Problem:
    """The problem of kind `slug` (default: the status's kind); `base` is `PUBLIC_BASE_URL`."""
    kind = kind_for(status, slug)
    title = kind.title if slug is not None else title_for(status)
    return Problem(
        title=title,
        status=status,
        type=type_uri(kind.slug, base),
        detail=detail,
        invalid_params=invalid_params or None,
    )


class BadRequest(HTTPException):
    """A 400 naming every invalid parameter."""

    status_code = 400

    def __init__(self, detail: str, invalid_params: list[InvalidParam]) -> None:
        super().__init__(detail=detail)
        self.invalid_params = invalid_params

    slug: str | None = None  # a kind other than the status's default (problems.KINDS)


def invalid(name: str, reason: str, code: ParamCode, location: str = "query") -> BadRequest:
    return BadRequest(
        f"Invalid parameter {name!r}: {reason}", [InvalidParam(name, reason, code, location)]
    )


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def title_for(status: int) -> str:
    if status in _TITLES:
        return _TITLES[status]
    try:
        return HTTPStatus(status).phrase  # every other status keeps its RFC 9110 name (410 Gone)
    except ValueError:
        return "Error"


def problem_bytes(status: int, detail: str | None = None, base: str | None = None) -> bytes:
    """The encoded body, for the HTTP layer's raw ASGI answers (413, 414, 429, …)."""
    return msgspec.json.encode(make_problem(status, detail, base=base))


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
    slug: str | None = None,
    base: str | None = None,
) -> Response[Problem]:
    body = make_problem(status, detail, slug=slug, base=base, invalid_params=invalid_params)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def public_base(request: Request[Any, Any, Any] | None) -> str | None:
    """`PUBLIC_BASE_URL` of the app serving `request` (None: relative `type` URIs)."""
    settings = getattr(getattr(request, "app", None), "state", {}).get("settings")
    return getattr(settings, "public_base_url", None)


def _param_code(message: str) -> ParamCode:
    lowered = message.lower()
    if "required" in lowered or "missing" in lowered:
        return "required"
    if "length" in lowered:
        return "too_long"
    return "invalid_value"


def _validation_params(exc: ValidationException) -> list[InvalidParam]:
    params: list[InvalidParam] = []
    extra: Any = exc.extra
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            source = str(getattr(item.get("source"), "value", item.get("source")) or "query")
            reason = str(item.get("message") or "invalid value")
            name = str(item.get("key") or "body")
            if source == "header":  # Litestar names the handler's argument: `if_match`
                name = "-".join(word.capitalize() for word in name.split("_"))
            params.append(
                InvalidParam(
                    name=name,
                    reason=reason,
                    code=_param_code(reason),
                    location=source,
                )
            )
    return params


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    base = public_base(request)
    if isinstance(exc, BadRequest):
        return problem_response(
            status, exc.detail, invalid_params=exc.invalid_params, base=base, slug=exc.slug
        )
    if isinstance(exc, ValidationException):
        params = _validation_params(exc)
        # Litestar's own detail echoes the whole URL; name the parameters instead.
        names = ", ".join(p.name for p in params)
        message = f"Invalid {names}" if params else "Invalid request"
        return problem_response(status, message, invalid_params=params, base=base)
    detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else None
    slug = getattr(exc, "problem_slug", None)
    return problem_response(status, detail, headers=headers or None, slug=slug, base=base)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Log the trace server-side; the client gets no internals.
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "The server could not complete the request.",
        base=public_base(request),
    )


def problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


def not_modified_spec() -> ResponseSpec:
    return ResponseSpec(
        data_container=None,
        description="The representation matching `If-None-Match` is still current (no body).",
        generate_examples=False,
    )


# Responses every data endpoint can give, errors documented with their real media type. 304 is
# no error, but every GET can answer it, and this is the one dict the resources share.
COMMON_ERRORS: dict[int, ResponseSpec] = {
    304: not_modified_spec(),
    400: problem_spec("Invalid parameter; `invalid_params` names each one."),
    406: problem_spec("`Accept` allows neither `application/json` nor `application/problem+json`."),
    414: problem_spec("The query string is longer than the server accepts."),
    429: problem_spec(
        "Too many requests from this client; `Retry-After` says when to retry "
        "(`RateLimit-*` headers on every response give the budget)."
    ),
    500: problem_spec("Unexpected error; details are logged server-side, never sent."),
    503: problem_spec("The database is unreachable; `Retry-After` says when to retry."),
}
DETAIL_ERRORS: dict[int, ResponseSpec] = {
    **COMMON_ERRORS,
    404: problem_spec("No record with this id."),
}
