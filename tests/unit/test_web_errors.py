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
    make_problem,
    problem_bytes,
    problem_response,
    title_for,
)
from service.web.guards import bad_target
from service.web.problems import KINDS, ProblemError, kind_for, problem_page


def test_titles() -> None:
    assert title_for(413) == "Content Too Large"
    assert title_for(422) == "Unprocessable Content"
    assert title_for(410) == "Gone"  # not in the table: the RFC 9110 phrase
    assert title_for(599) == "Error"


def test_problem_bytes_omit_absent_members() -> None:
    assert msgspec.json.decode(problem_bytes(429, "slow down")) == {
        "title": "Too Many Requests",
        "status": 429,
        "type": "/problems/rate-limited",
        "detail": "slow down",
    }
    assert msgspec.json.decode(problem_bytes(404)) == {
        "title": "Not Found",
        "status": 404,
        "type": "/problems/not-found",
    }


def test_problem_types_are_absolute_under_the_public_base_url() -> None:
    body = msgspec.json.decode(problem_bytes(503, base="https://api.example.org"))
    assert body["type"] == "https://api.example.org/problems/unavailable"
    # A kind of its own, not the status's default, and its title.
    conflict = _handled(ProblemError("id-taken", "The id 'x' is already used."))
    assert conflict["type"] == "/problems/id-taken"
    assert conflict["title"] == "Id Already Used"
    assert conflict["status"] == 409


def test_every_kind_has_a_unique_slug_and_a_page() -> None:
    assert len({k.slug for k in KINDS}) == len(KINDS)
    statuses = {k.status for k in KINDS}
    assert {400, 401, 403, 404, 409, 412, 415, 422, 428, 429, 500, 503} <= statuses
    for kind in KINDS:
        assert kind_for(kind.status, kind.slug) is kind
        assert f"/problems/{kind.slug}" in problem_page(kind)
    # Statuses outside the table still get a type, never about:blank.
    assert make_problem(418).type == "/problems/error"


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
    body = _handled(invalid("limit", "must be at most 100", "out_of_range"))
    assert body["detail"] == "Invalid parameter 'limit': must be at most 100"
    assert body["invalid_params"] == [
        {
            "name": "limit",
            "reason": "must be at most 100",
            "code": "out_of_range",
            "location": "query",
        }
    ]
    assert _handled(invalid("limit", "x", "out_of_range"))["type"] == "/problems/invalid-request"
    two = BadRequest(
        "two",
        [InvalidParam("a", "x", "required"), InvalidParam("b", "y", "invalid_value", "path")],
    )
    assert [p["name"] for p in _handled(two)["invalid_params"]] == ["a", "b"]


def test_validation_exception_lists_keys_not_the_url() -> None:
    exc = ValidationException(
        detail="Validation failed for GET http://x/v1?secret",
        extra=[{"key": "limit", "message": "Expected `int`", "source": "query"}],
    )
    body = _handled(exc)
    assert body["detail"] == "Invalid limit"
    assert body["invalid_params"] == [
        {"name": "limit", "reason": "Expected `int`", "code": "invalid_value", "location": "query"}
    ]
    missing = ValidationException(
        extra=[{"key": "If-Match", "message": "Missing required header", "source": "header"}]
    )
    assert _handled(missing)["invalid_params"][0]["code"] == "required"
    assert _handled(ValidationException())["detail"] == "Invalid request"


def test_a_detail_equal_to_the_title_is_dropped() -> None:
    assert "detail" not in _handled(NotFoundException())
    assert _handled(NotFoundException("No article 'x'."))["detail"] == "No article 'x'."


@pytest.mark.parametrize(
    ("raw_path", "query", "problem"),
    [
        (b"/v1/articles", b"q=%E4%B8%BD&a=+b", None),
        (
            b"/v1/%FF",
            b"",
            InvalidParam("path", "percent-escapes that are not UTF-8", "invalid_encoding", "path"),
        ),
        (
            b"/v1/a%00b",
            b"",
            InvalidParam("path", "contains a control character", "control_character", "path"),
        ),
        (b"/v1/a?x=%FF", b"", None),  # a raw path with its query: only the path part counts
        (
            b"/v1",
            b"q=%C3%28",
            InvalidParam("q", "percent-escapes that are not UTF-8", "invalid_encoding"),
        ),
        (
            b"/v1",
            b"a=1&q%0A=1",
            InvalidParam("q%0A", "contains a control character", "control_character"),
        ),
        (
            b"/v1",
            b"q=%C2%85",
            InvalidParam("q", "contains a control character", "control_character"),
        ),  # C1 NEL
    ],
)
def test_bad_target(raw_path: bytes, query: bytes, problem: InvalidParam | None) -> None:
    scope = {"path": "/ignored", "raw_path": raw_path, "query_string": query}
    assert bad_target(scope) == problem
