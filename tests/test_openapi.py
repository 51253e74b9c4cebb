"""The committed spec matches the code, and the app honours its own spec (schemathesis)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.schemas import OpenApiSchema

from service.app import create_app
from service.openapi import SPEC_PATH, render
from service.settings import Settings
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
            for status in ("400",):
                content = op["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], op["operationId"]
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
    app = create_app(Settings(database_url=database_url))
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()
