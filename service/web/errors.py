"""RFC 9457 problem details: the one error format of the API, its handlers and its specs."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("service.errors")


class InvalidParam(msgspec.Struct):
    """One rejected input: which parameter, where, and why."""

    name: str
    reason: str
    location: str = "query"


class Problem(msgspec.Struct, omit_defaults=True):
    """An error response (RFC 9457)."""

    title: str
    status: int
    type: str = "about:blank"
    detail: str | None = None
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = None


class BadRequest(HTTPException):
    """A 400 naming every invalid parameter."""

    status_code = 400

    def __init__(self, detail: str, invalid_params: list[InvalidParam]) -> None:
        super().__init__(detail=detail)
        self.invalid_params = invalid_params


def invalid(name: str, reason: str, location: str = "query") -> BadRequest:
    return BadRequest(
        f"Invalid parameter {name!r}: {reason}", [InvalidParam(name, reason, location)]
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


def problem_bytes(status: int, detail: str | None = None) -> bytes:
    """The encoded body, for the HTTP layer's raw ASGI answers (413, 414, 429, …)."""
    return msgspec.json.encode(Problem(title=title_for(status), status=status, detail=detail))


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        title=title_for(status),
        status=status,
        detail=detail,
        invalid_params=invalid_params or None,
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation_params(exc: ValidationException) -> list[InvalidParam]:
    params: list[InvalidParam] = []
    extra: Any = exc.extra
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            source = item.get("source") or "query"
            params.append(
                InvalidParam(
                    name=str(item.get("key") or "body"),
                    reason=str(item.get("message") or "invalid value"),
                    location=str(getattr(source, "value", source)),
                )
            )
    return params


def handle_http_exception(
    _request: Request[Any, Any, Any], exc: HTTPException
) -> Response[Problem]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, BadRequest):
        return problem_response(status, exc.detail, invalid_params=exc.invalid_params)
    if isinstance(exc, ValidationException):
        params = _validation_params(exc)
        # Litestar's own detail echoes the whole URL; name the parameters instead.
        names = ", ".join(p.name for p in params)
        return problem_response(
            status, f"Invalid {names}" if params else "Invalid request", invalid_params=params
        )
    detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else None
    return problem_response(status, detail, headers=headers or None)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Log the trace server-side; the client gets no internals.
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "The server could not complete the request."
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
