"""The pages at the problem `type` URIs: `GET /problems` (every kind and `invalid_params` code)
and `GET /problems/{slug}` (one kind), HTML made from the table in service/web/problems.py."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, MediaType, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

from service.web.errors import problem_spec
from service.web.problems import BY_SLUG, KINDS, PROBLEMS_PATH, problem_page, problems_index

ProblemSlug = Annotated[
    str,
    PathParameter(
        name="slug",
        description="A problem type's slug: the last segment of a problem's `type`.",
        max_length=64,
        schema_extra={"enum": [kind.slug for kind in KINDS]},
    ),
]
_RATE_LIMITED = {
    429: problem_spec("Too many requests from this client; `Retry-After` says when to retry.")
}
_PAGE_RESPONSES = {
    **_RATE_LIMITED,
    400: problem_spec("The slug is longer than any problem type's."),
    404: problem_spec("No problem type of this name."),
}


class ProblemTypesController(Controller):
    """`GET /problems` and `GET /problems/{slug}`: what each problem `type` URI names."""

    path = PROBLEMS_PATH
    tags = ["Problems"]

    @get(
        "/",
        operation_id="listProblemTypes",
        summary="List the problem types",
        description="Every problem `type` this API answers with, and the `invalid_params` codes.",
        media_type=MediaType.HTML,
        responses=_RATE_LIMITED,
        sync_to_thread=False,
    )
    def index(self) -> str:
        return problems_index()

    @get(
        "/{slug:str}",
        operation_id="getProblemType",
        summary="Describe one problem type",
        description="The page a problem's `type` URI points to: its status, title and what a "
        "client should do.",
        media_type=MediaType.HTML,
        responses=_PAGE_RESPONSES,
        raises=[NotFoundException],
        sync_to_thread=False,
    )
    def page(self, slug: ProblemSlug) -> str:
        kind = BY_SLUG.get(slug)
        if kind is None:
            raise NotFoundException(f"No problem type {slug!r}; see /problems.")
        return problem_page(kind)
