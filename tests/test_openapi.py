"""The committed spec matches the code, and the app honours its own spec (schemathesis)."""

from __future__ import annotations

import asyncio
import os
from typing import Any, cast

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckFunction
from schemathesis.config import HttpBearerAuthConfig
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    unsupported_method,
    use_after_free,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from service.app import create_app
from service.auth import create_key
from service.db import create_engine
from service.openapi import SPEC_PATH, render
from service.seed import load
from service.settings import Settings
from tests.conftest import fresh_database, scratch_postgres_url
from tests.helpers import Client, get_json

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"))


class TestOpenAPIDocument:
    def test_committed_spec_matches_generated(self) -> None:
        assert SPEC_PATH.read_bytes() == render(), (
            "openapi/v1.json is stale: run `make openapi` and commit the result"
        )

    async def test_served_spec(self, client: Client) -> None:
        spec = await get_json(client, "/schema/openapi.json")
        assert spec["openapi"].startswith("3.1")
        operations = [op for path in spec["paths"].values() for op in path.values()]
        assert all(op.get("operationId") for op in operations)
        for op in operations:
            # Every documented error is problem+json, and every data GET documents the
            # errors the HTTP layer can give (service/web/) and conditional GETs.
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (
                        op["operationId"],
                        status,
                    )
        data_operations = [
            (method, op)
            for path, item in spec["paths"].items()
            if path.startswith("/v1")
            for method, op in item.items()
        ]
        for method, op in data_operations:
            # Writes (service/curation/) are never conditional GETs: no 304, but auth errors.
            # Reads declare `security: []`; curator-only reads need a key but are no writes.
            keyed = bool(op.get("security"))
            writes = keyed and method != "get"
            expected = {"400", "406", "414", "429", "503"} | (
                {"401", "403", "422"} if writes else {"401"} if keyed else {"304"}
            )
            assert expected <= set(op["responses"]), op["operationId"]
        yaml_response = await client.get("/schema/openapi.yaml")
        assert yaml_response.status_code == 200

    async def test_swagger_ui_is_served_locally(self, client: Client) -> None:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert "/static/swagger-ui/swagger-ui-bundle.js" in page.text
        assert "http" not in page.text.replace("http-equiv", "")  # no CDN
        bundle = await client.get("/static/swagger-ui/swagger-ui-bundle.js")
        assert bundle.status_code == 200


@pytest.fixture(scope="session")
def api_schema(database_url: str) -> OpenApiSchema:
    # A separate app instance: schemathesis drives it from its own event loop.
    app = create_app(Settings(database_url=database_url, rate_limit_per_minute=0))
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


WRITE_PATHS = tuple(f"/v1/{r}" for r in ("articles", "initiatives", "metrics", "organisations"))


def exempt_checks(case: schemathesis.Case[Any]) -> list[CheckFunction]:
    """The only checks skipped, and only for the requests that make them inapplicable."""
    query = case.query or {}
    exempt: list[CheckFunction] = []
    if "cursor" in query:
        # Only the server can mint a valid (signed) cursor, which no schema can express: a
        # generated one is rightly a 400, so "valid data is accepted" does not apply.
        exempt.append(positive_data_acceptance)
    if case.path.startswith(WRITE_PATHS):
        # Litestar 2.x lists only some methods in `Allow` when GET shares a path with the
        # curator writes (POST/PATCH/DELETE, service/writes.py); fixed only in Litestar 3.
        exempt += [allow_header_conformance, unsupported_method]
    if "fields" in query:
        # A sparse fieldset omits the other fields by design (documented on `fields`).
        exempt.append(response_schema_conformance)
    return exempt


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(excluded_checks=exempt_checks(case))


STATEFUL_STEPS = int(os.environ.get("SCHEMATHESIS_STATEFUL_STEPS", "6"))


def test_api_sequences_conform_to_its_schema(api_schema: OpenApiSchema) -> None:
    """Stateful phase: chains calls along links schemathesis infers (list → detail by id)."""

    class Sequences(api_schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(
            self,
            response: Any,
            case: schemathesis.Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=exempt_checks(case),
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Sequences.run(
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


# ---------------------------------------------------------------- with a write key

WRITE_EXAMPLES = int(os.environ.get("SCHEMATHESIS_WRITE_EXAMPLES", "10"))


WRITE_TABLES = ("metric", "article", "initiative", "organisation")  # referrers first
SELF_REFERENCES = {"metric": "growth_of_id", "initiative": "parent_id", "organisation": "parent_id"}


class WriteDatabase:
    """A seeded database of the write runs' own, with an editor key, that can drop whatever
    the runs created: Hypothesis replays a sequence and expects the same answers (a second
    create with the same name would be a 422 where the first was a 201)."""

    def __init__(self, url: str) -> None:
        self.url = url
        fresh_database(url)
        asyncio.run(load(url))
        self.token, self.seed_ids = asyncio.run(self._setup())

    async def _setup(self) -> tuple[str, dict[str, list[str]]]:
        engine = create_engine(self.url, pool=False)
        async with engine.begin() as conn:
            _, token = await create_key(conn, "schemathesis", "editor")
            ids = {
                t: list(await conn.scalars(sa.text(f"SELECT id FROM {t}"))) for t in WRITE_TABLES
            }
        await engine.dispose()
        return token, ids

    def reset(self) -> None:
        async def run() -> None:
            engine = create_engine(self.url, pool=False)
            async with engine.begin() as conn:
                for table in WRITE_TABLES:
                    seed: Any = sa.bindparam("seed", self.seed_ids[table], expanding=True)
                    created = "id NOT IN :seed"
                    if table in SELF_REFERENCES:
                        column = SELF_REFERENCES[table]
                        statement = f"UPDATE {table} SET {column} = NULL WHERE {created}"
                        await conn.execute(sa.text(statement).bindparams(seed))
                    await conn.execute(
                        sa.text(f"DELETE FROM {table} WHERE {created}").bindparams(seed)
                    )
                    search = sa.text(
                        "DELETE FROM search_entry WHERE resource = :resource "
                        "AND record_id NOT IN :seed"
                    ).bindparams(seed)
                    await conn.execute(search, {"resource": f"{table}s"})
            await engine.dispose()

        asyncio.run(run())


@pytest.fixture(scope="session")
def write_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> WriteDatabase:
    """The write operations create, change and delete records the rest of the suite reads:
    they get a database of their own."""
    if database_url.startswith("sqlite"):
        return WriteDatabase(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'w.db'}")
    return WriteDatabase(scratch_postgres_url("schemathesis"))


@pytest.fixture(scope="session")
def write_schema(write_database: WriteDatabase) -> OpenApiSchema:
    """The write operations, driven with a real editor key."""
    app = create_app(Settings(database_url=write_database.url, rate_limit_per_minute=0))
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    # Through the spec's security scheme, not a bare header: every phase (coverage too) then
    # knows the key is the configured one, and `ignored_auth` probes without it and with a bad
    # one instead of taking a 201 for "generated auth accepted".
    schema.config.auth.openapi.schemes["bearerAuth"] = HttpBearerAuthConfig(
        bearer=write_database.token
    )
    return cast(OpenApiSchema, schema.include(method=["POST", "PATCH", "DELETE"]))


write_schema_param = schemathesis.pytest.from_fixture("write_schema")


@write_schema_param.include(method=["POST", "PATCH", "DELETE"]).parametrize()
@settings(
    max_examples=WRITE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_writes_conform_to_their_schema(case: schemathesis.Case[Any]) -> None:
    """All checks on every write operation, authorised (exemptions: `exempt_checks` only)."""
    case.call_and_validate(excluded_checks=exempt_checks(case))


def test_write_sequences_conform_to_their_schema(
    write_schema: OpenApiSchema, write_database: WriteDatabase
) -> None:
    """Stateful: create → update → delete → restore along the operations' OpenAPI links, each
    step carrying the previous response's `ETag` as `If-Match`; every sequence starts from the
    seed data."""

    class Sequences(write_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            write_database.reset()
            self.restored: set[str] = set()

        def validate_response(
            self,
            response: Any,
            case: schemathesis.Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            excluded = exempt_checks(case)
            path = case.formatted_path
            if path in self.restored:
                # `use_after_free` takes a DELETE as final; a soft delete is undone by
                # `POST …/restore`, which the check does not see as re-creating the record.
                excluded.append(use_after_free)
            if path.endswith("/restore") and response.status_code == 200:
                self.restored.add(path.removesuffix("/restore"))
            elif case.method.upper() == "DELETE" and response.status_code == 204:
                self.restored.discard(path)  # deleted again: the check applies again
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=excluded,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Sequences.run(
        settings=settings(
            max_examples=WRITE_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
