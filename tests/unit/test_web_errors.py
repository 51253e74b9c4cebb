"""Problem rendering and the pre-routing target check (service/web/errors.py, guards.py)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from service.web.errors import (
    PROBLEM_MEDIA_TYPE,
    BadRequest,
    InvalidParam,
    handle_http_exception,
    invalid,
    problem_bytes,
    problem_response,
    title_for,
)
from service.web.guards import bad_target


def test_titles() -> None:
    assert title_for(413) == "Content Too Large"
    assert title_for(422) == "Unprocessable Content"
    assert title_for(410) == "Gone"  # not in the table: the RFC 9110 phrase
    assert title_for(599) == "Error"


def test_problem_bytes_omit_absent_members() -> None:
    assert msgspec.json.decode(problem_bytes(429, "slow down")) == {
        "title": "Too Many Requests",
        "status": 429,
        "detail": "slow down",
    }
    assert msgspec.json.decode(problem_bytes(404)) == {"title": "Not Found", "status": 404}


def test_problem_response_media_type_and_empty_params() -> None:
    response = problem_response(400, "bad", invalid_params=[], headers={"X": "1"})
    assert response.media_type == PROBLEM_MEDIA_TYPE
    assert response.status_code == 400
    assert response.content.invalid_params is None
    assert response.headers["X"] == "1"


def _handled(exc: HTTPException) -> dict[str, Any]:
    response = handle_http_exception(None, exc)  # type: ignore[arg-type]
    body: dict[str, Any] = msgspec.to_builtins(response.content)
    return body


def test_bad_request_names_its_parameter() -> None:
    body = _handled(invalid("limit", "must be at most 100"))
    assert body["detail"] == "Invalid parameter 'limit': must be at most 100"
    assert body["invalid_params"] == [
        {"name": "limit", "reason": "must be at most 100", "location": "query"}
    ]
    two = BadRequest("two", [InvalidParam("a", "x"), InvalidParam("b", "y", "path")])
    assert [p["name"] for p in _handled(two)["invalid_params"]] == ["a", "b"]


def test_validation_exception_lists_keys_not_the_url() -> None:
    exc = ValidationException(
        detail="Validation failed for GET http://x/v1?secret",
        extra=[{"key": "limit", "message": "Expected `int`", "source": "query"}],
    )
    body = _handled(exc)
    assert body["detail"] == "Invalid limit"
    assert body["invalid_params"] == [
        {"name": "limit", "reason": "Expected `int`", "location": "query"}
    ]
    assert _handled(ValidationException())["detail"] == "Invalid request"


def test_a_detail_equal_to_the_title_is_dropped() -> None:
    assert "detail" not in _handled(NotFoundException())
    assert _handled(NotFoundException("No article 'x'."))["detail"] == "No article 'x'."


@pytest.mark.parametrize(
    ("raw_path", "query", "problem"),
    [
        (b"/v1/articles", b"q=%E4%B8%BD&a=+b", None),
        (b"/v1/%FF", b"", InvalidParam("path", "percent-escapes that are not UTF-8", "path")),
        (b"/v1/a%00b", b"", InvalidParam("path", "contains a control character", "path")),
        (b"/v1/a?x=%FF", b"", None),  # a raw path with its query: only the path part counts
        (b"/v1", b"q=%C3%28", InvalidParam("q", "percent-escapes that are not UTF-8")),
        (b"/v1", b"a=1&q%0A=1", InvalidParam("q%0A", "contains a control character")),
        (b"/v1", b"q=%C2%85", InvalidParam("q", "contains a control character")),  # C1 NEL
    ],
)
def test_bad_target(raw_path: bytes, query: bytes, problem: InvalidParam | None) -> None:
    scope = {"path": "/ignored", "raw_path": raw_path, "query_string": query}
    assert bad_target(scope) == problem
