"""Issue #18, the contract: safe retries (`Idempotency-Key`), problem types and `invalid_params`
codes, the public and curator-only change feeds, and what the OpenAPI document promises (order,
tags, security, headers, `If-Match`).

Runs against its own freshly migrated and seeded database per backend (SQLite file; PostgreSQL
`<suite db>_writes`, made afresh), like tests/test_writes.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import IntegrityError

from service.app import create_app
from service.auth import Curator, create_key
from service.curation import idempotency, ops
from service.curation.idempotency import Claim, Replay
from service.db import create_engine
from service.models import IdempotencyKey, table_of
from service.openapi import SPEC_PATH
from service.resources.registry import RESOURCES, WRITABLE
from service.seed import load
from service.settings import Settings
from service.web.layer import data_version
from service.web.problems import KINDS, PARAM_CODES
from tests.conftest import BACKENDS, fresh_database, scratch_postgres_url
from tests.helpers import Client

keys_table = table_of(IdempotencyKey)


class Env:
    def __init__(self, url: str, client: Client, tokens: dict[str, str], ids: dict[str, str]):
        self.url, self.client, self.tokens, self.ids = url, client, tokens, ids

    def auth(self, who: str = "editor", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    async def post(self, body: dict[str, Any], key: str | None, who: str = "editor") -> Any:
        headers = self.auth(who, **({"Idempotency-Key": key} if key is not None else {}))
        return await self.client.post("/v1/organisations", json=body, headers=headers)

    async def changes_of(self, record_id: str) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/changes", params={"limit": 100, "count": "none"})
        return [c for c in response.json()["data"] if c["record_id"] == record_id]


@pytest.fixture(scope="module", params=BACKENDS)
async def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('contract') / 'contract.db'}"
    else:
        url = await asyncio.to_thread(scratch_postgres_url, "writes")
    await asyncio.to_thread(fresh_database, url)
    await load(url)
    engine = create_engine(url, pool=False)
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    async with engine.begin() as conn:
        for who, role in (("editor", "editor"), ("other", "editor"), ("reader", "reader")):
            ids[who], tokens[who] = await create_key(conn, f"{who}-name", role)
    await engine.dispose()
    app: Litestar = create_app(Settings(database_url=url, rate_limit_per_minute=0))
    async with AsyncTestClient(app=app) as client:
        yield Env(url, client, tokens, ids)


def organisation(name: str) -> dict[str, Any]:
    return {"name": name, "kind": "company", "region": "li-shui-shi"}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- Idempotency-Key


class TestIdempotency:
    async def test_a_retry_gets_the_same_response_and_creates_nothing(self, env: Env) -> None:
        body = organisation("幂等测试合作社")
        first = await env.post(body, "retry-1")
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        again = await env.post(body, "retry-1")
        assert again.status_code == 201
        assert again.content == first.content  # byte for byte: same id, same representation
        assert again.headers["idempotent-replayed"] == "true"
        for name in ("etag", "location"):
            assert again.headers[name] == first.headers[name]
        record_id = first.json()["id"]
        assert first.headers["location"] == f"/v1/organisations/{record_id}"
        assert [c["action"] for c in await env.changes_of(record_id)] == ["create"]
        # Without a key, the same body is a new request: refused as a duplicate name.
        assert (await env.post(body, None)).status_code == 422

    async def test_the_same_key_with_another_body_is_422(self, env: Env) -> None:
        assert (await env.post(organisation("幂等另一个"), "reused")).status_code == 201
        reused = problem(await env.post(organisation("幂等第三个"), "reused"), 422)
        assert reused["type"] == "/problems/idempotency-key-reused"
        # Keys belong to their API key: another curator's "reused" is another request.
        assert (
            await env.post(organisation("幂等第三个"), "reused", who="other")
        ).status_code == 201

    async def test_concurrent_duplicates_create_once(self, env: Env) -> None:
        body = organisation("并发幂等合作社")
        responses = await asyncio.gather(*(env.post(body, "concurrent") for _ in range(4)))
        assert [r.status_code for r in responses] == [201] * 4
        assert len({r.content for r in responses}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
        record_id = responses[0].json()["id"]
        assert [c["action"] for c in await env.changes_of(record_id)] == ["create"]

    async def test_overlapping_transactions_replay_the_winner(self, env: Env) -> None:
        """The mechanism itself, with the first writer held open inside its transaction: the
        second waits for it (the version bump serialises writers), finds its key and replays."""
        # An engine of this test's event loop (the app's belongs to the test client's).
        engine, version = create_engine(env.url, pool=False), data_version(env.client.app)
        resource = next(r for r in WRITABLE if r.name == "organisations")
        claim = Claim(env.ids["editor"], "overlap", idempotency.fingerprint("POST", "/x", b"{}"))
        stored = idempotency.Stored(201, b'{"id": "x"}', {"ETag": '"t"'})
        curator = Curator(env.ids["editor"], "editor-name", "editor")
        decoded = resource.write.in_type(**organisation("重叠事务合作社"))  # type: ignore[union-attr]

        async def write(hold: float) -> ops.Written:
            async def operation(conn: Any) -> ops.Written:
                await idempotency.claim_key(conn, claim)
                written = await ops.create(conn, resource, decoded, curator)
                await idempotency.store(conn, claim, stored)
                await asyncio.sleep(hold)
                return written

            return await ops.write_transaction(engine, version, operation)

        first = asyncio.create_task(write(0.5))
        await asyncio.sleep(0.1)  # the first holds the writer lock now
        with pytest.raises(Replay) as replay:
            await write(0)
        assert replay.value.stored == stored
        assert (await first).record_id == "chong-die-shi-wu-he-zuo-she"
        await engine.dispose()

    async def test_the_unique_constraint_stops_a_second_row(self, env: Env) -> None:
        engine = create_engine(env.url, pool=False)
        row = {
            "owner": env.ids["other"],
            "key": "unique",
            "fingerprint": "0" * 64,
            "status": 201,
            "response_body": "{}",
            "response_headers": {},
            "created_at": datetime.now(UTC),
        }
        async with engine.begin() as conn:
            await conn.execute(sa.insert(keys_table).values(row))
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.insert(keys_table).values(row))
        await engine.dispose()

    async def test_an_error_is_not_stored_so_a_fixed_retry_runs(self, env: Env) -> None:
        blank = problem(await env.post(organisation(" "), "fix-then-retry"), 422)
        assert blank["invalid_params"][0]["code"] == "blank"
        fixed = await env.post(organisation("修正后重试"), "fix-then-retry")
        assert fixed.status_code == 201, fixed.text

    async def test_keys_expire_after_24_hours(self, env: Env) -> None:
        assert (await env.post(organisation("过期键一"), "expiring")).status_code == 201
        engine = create_engine(env.url, pool=False)
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(keys_table)
                .where(keys_table.c.key == "expiring")
                .values(created_at=datetime.now(UTC) - timedelta(hours=25))
            )
        # Expired: the key names a new request, and the old row is purged.
        assert (await env.post(organisation("过期键二"), "expiring")).status_code == 201
        async with engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).where(keys_table.c.key == "expiring")
            )
        await engine.dispose()
        assert count == 1

    async def test_restore_is_idempotent_too(self, env: Env) -> None:
        created = await env.post(organisation("恢复幂等"), None)
        record_id = created.json()["id"]
        path = f"/v1/organisations/{record_id}"
        deleted = await env.client.delete(path, headers=env.auth(**{"If-Match": "*"}))
        assert deleted.status_code == 204
        headers = env.auth(**{"If-Match": "*", "Idempotency-Key": "restore-1"})
        first = await env.client.post(f"{path}/restore", headers=headers)
        assert first.status_code == 200, first.text
        again = await env.client.post(f"{path}/restore", headers=headers)
        assert again.status_code == 200  # not 409 "not deleted": the stored response
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"

    @pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
    async def test_a_malformed_key_is_400(self, env: Env, key: str) -> None:
        response = await env.client.post(
            "/v1/organisations",
            json=organisation("坏键"),
            headers=env.auth() | {"Idempotency-Key": key},
        )
        body = problem(response, 400)
        assert body["type"] == "/problems/invalid-request"
        assert body["invalid_params"][0]["name"] == "Idempotency-Key"
        assert body["invalid_params"][0]["code"] in PARAM_CODES


# ---------------------------------------------------------------- problem types and codes


class TestProblems:
    @pytest.mark.parametrize(
        ("url", "status", "kind", "param", "code"),
        [
            ("/v1/metrics?valeu=3", 400, "invalid-request", "valeu", "unknown_parameter"),
            ("/v1/metrics?limit=500", 400, "invalid-request", "limit", "out_of_range"),
            ("/v1/metrics?cursor=abc", 400, "invalid-request", "cursor", "invalid_cursor"),
            ("/v1/metrics?sort=-price", 400, "invalid-request", "sort", "not_allowed"),
            ("/v1/metrics?limit=1&limit=2", 400, "invalid-request", "limit", "repeated"),
            ("/v1/metrics?value__gt=1e999", 400, "invalid-request", "value__gt", "out_of_range"),
            ("/v1/changes?since=yesterday", 400, "invalid-request", "since", "invalid_value"),
            ("/v1/metrics?subject=%00", 400, "invalid-request", "subject", "control_character"),
            ("/v1/metrics/no-such-id", 404, "not-found", None, None),
        ],
    )
    async def test_reads(
        self, env: Env, url: str, status: int, kind: str, param: str | None, code: str | None
    ) -> None:
        body = problem(await env.client.get(url), status)
        assert body["type"] == f"/problems/{kind}"
        if param is not None:
            assert {"name": param, "code": code}.items() <= body["invalid_params"][0].items(), body

    async def test_writes(self, env: Env) -> None:
        post = env.client.post
        typed = problem(await post("/v1/organisations", json={"name": 3}, headers=env.auth()), 400)
        assert typed["invalid_params"][0]["code"] == "invalid_type"
        extra = organisation("多余字段") | {"colour": "red"}
        unknown = problem(await post("/v1/organisations", json=extra, headers=env.auth()), 400)
        assert unknown["invalid_params"][0]["code"] == "unknown_field"
        rules = {"name": "规则", "kind": "nope", "region": "no-such-region"}
        broken = problem(await post("/v1/organisations", json=rules, headers=env.auth()), 422)
        assert broken["type"] == "/problems/validation-failed"
        codes = {p["name"]: p["code"] for p in broken["invalid_params"]}
        assert codes == {"kind": "not_allowed", "region": "unknown_reference"}
        assert problem(await post("/v1/organisations", json={}), 401)["type"] == (
            "/problems/unauthenticated"
        )
        reader = await post("/v1/organisations", json={}, headers=env.auth("reader"))
        assert problem(reader, 403)["type"] == "/problems/forbidden"
        taken = organisation("编号已用") | {"id": "li-shui-shi-ren-min-zheng-fu"}
        first = await post("/v1/organisations", json=taken, headers=env.auth())
        assert first.status_code in (201, 409)
        again = await post("/v1/organisations", json=taken, headers=env.auth())
        assert problem(again, 409)["type"] == "/problems/id-taken"
        path = "/v1/organisations/bian-hao-yi-yong"
        missing = await env.client.patch(path, json={}, headers=env.auth())
        assert problem(missing, 404)["type"] == "/problems/not-found"

    async def test_conditional_kinds(self, env: Env) -> None:
        created = (await env.post(organisation("条件类型"), None)).json()
        path = f"/v1/organisations/{created['id']}"
        no_tag = await env.client.patch(path, json={}, headers=env.auth())
        assert problem(no_tag, 428)["type"] == "/problems/precondition-required"
        stale = await env.client.patch(path, json={}, headers=env.auth(**{"If-Match": '"x"'}))
        assert problem(stale, 412)["type"] == "/problems/precondition-failed"
        live = await env.client.post(f"{path}/restore", headers=env.auth(**{"If-Match": "*"}))
        assert problem(live, 409)["type"] == "/problems/not-deleted"

    async def test_every_type_has_its_page(self, env: Env) -> None:
        index = await env.client.get("/problems")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        for kind in KINDS:
            assert f'href="/problems/{kind.slug}"' in index.text
            page = await env.client.get(f"/problems/{kind.slug}")
            assert page.status_code == 200, kind.slug
            assert str(kind.status) in page.text
        for code in PARAM_CODES:
            assert f"<code>{code}</code>" in index.text
        unknown = problem(await env.client.get("/problems/no-such-kind"), 404)
        assert unknown["type"] == "/problems/not-found"

    async def test_types_are_absolute_under_the_public_base_url(self, env: Env) -> None:
        settings = Settings(
            database_url=env.url,
            rate_limit_per_minute=0,
            public_base_url="https://data.example.org",
        )
        async with AsyncTestClient(app=create_app(settings)) as client:
            handled = problem(await client.get("/v1/metrics?valeu=1"), 400)  # by the app
            assert handled["type"] == "https://data.example.org/problems/invalid-request"
            edge = problem(await client.get("/v1/metrics?x=%FF"), 400)  # by the edge
            assert edge["type"] == "https://data.example.org/problems/invalid-request"
            assert edge["invalid_params"][0]["code"] == "invalid_encoding"


# ---------------------------------------------------------------- changes


class TestChangesSplit:
    async def test_public_feed_says_what_and_when_not_who(self, env: Env) -> None:
        created = (await env.post(organisation("公开变更"), None)).json()
        response = await env.client.get("/v1/changes", params={"limit": 100})
        assert response.status_code == 200
        for change in response.json()["data"]:
            assert "actor" not in change
        text = response.text
        for who in ("editor", "other", "reader"):
            assert env.ids[who] not in text
            assert f"{who}-name" not in text
        mine = await env.changes_of(created["id"])
        assert set(mine[0]) == {
            "id",
            "at",
            "resource",
            "record_id",
            "action",
            "revision",
            "before",
            "after",
        }

    async def test_curator_feed_needs_a_key_and_names_it(self, env: Env) -> None:
        created = (await env.post(organisation("私有变更"), None, who="other")).json()
        url = "/v1/curation/changes?limit=100&resource=organisations"
        for who in ("editor", "reader"):
            response = await env.client.get(url, headers=env.auth(who))
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "private, no-store"
            mine = [c for c in response.json()["data"] if c["record_id"] == created["id"]]
            assert mine[0]["actor"] == {"key_id": env.ids["other"], "name": "other-name"}
        # Never replayed from the response cache to a client without a key.
        anonymous = problem(await env.client.get(url), 401)
        assert anonymous["type"] == "/problems/unauthenticated"
        bad = await env.client.get(url, headers={"Authorization": "Bearer lcp_00000000_x"})
        assert bad.status_code == 401

    async def test_curator_feed_pages_with_its_own_cursor(self, env: Env) -> None:
        first = await env.client.get("/v1/curation/changes?limit=1", headers=env.auth())
        cursor = first.json()["page"]["next_cursor"]
        assert cursor is not None
        assert first.headers["link"].endswith('rel="next"')
        # A cursor of one feed is not valid on the other.
        public = await env.client.get("/v1/changes", params={"limit": 1, "cursor": cursor})
        assert problem(public, 400)["invalid_params"][0]["code"] == "invalid_cursor"


# ---------------------------------------------------------------- the OpenAPI document


class TestSpec:
    async def test_served_and_committed_spec_agree_on_order(self, env: Env) -> None:
        served = (await env.client.get("/schema/openapi.json")).json()
        committed = json.loads(SPEC_PATH.read_text())
        assert list(served["paths"]) == list(committed["paths"])
        for path, item in committed["paths"].items():
            assert list(served["paths"][path]) == list(item), path

    def test_operations_are_ordered_list_detail_writes(self) -> None:
        spec = json.loads(SPEC_PATH.read_text())
        order = [(p, m) for p, item in spec["paths"].items() for m in item]
        for resource in RESOURCES:
            base = f"/v1/{resource.name}"
            detail = f"{base}/{{{resource.singular}_id}}"
            expected = [(base, "get"), (detail, "get")]
            if resource.write is not None:
                expected += [
                    (base, "post"),
                    (detail, "patch"),
                    (detail, "delete"),
                    (f"{detail}/restore", "post"),
                ]
            seen = [op for op in order if op in expected]
            by_tag: dict[str, list[tuple[str, str]]] = {}
            for path, method in seen:
                by_tag.setdefault(spec["paths"][path][method]["tags"][0], []).append((path, method))
            reads = by_tag.pop(resource.tag)
            assert reads == expected[:2], resource.name
            if resource.write is not None:
                assert by_tag == {f"{resource.tag} (curation)": expected[2:]}, resource.name
        tags = [t["name"] for t in spec["tags"]]
        for resource in WRITABLE:
            assert tags.index(resource.tag) < tags.index(f"{resource.tag} (curation)")

    def test_security_if_match_idempotency_and_headers(self) -> None:
        spec = json.loads(SPEC_PATH.read_text())
        headers = spec["components"]["headers"]
        for path, item in spec["paths"].items():
            for method, op in item.items():
                writes = method != "get" or path.startswith("/v1/curation")
                assert (op["security"] == [{"bearerAuth": []}]) is writes, (path, method)
                params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}
                if (path.endswith("_id}") and method in ("patch", "delete")) or path.endswith(
                    "/restore"
                ):
                    assert params["If-Match"]["required"] is True, (path, method)
                if method == "post":
                    assert params["Idempotency-Key"]["required"] is False
                for status, response in op["responses"].items():
                    declared = response.get("headers", {})
                    if status in ("429", "503"):
                        assert "Retry-After" in declared, (path, method, status)
                    if status == "201":
                        assert "Location" in declared
                    if status == "401":
                        assert "WWW-Authenticate" in declared
                    if int(status) >= 400:
                        assert "X-Request-ID" in declared
                    for ref in declared.values():
                        if "$ref" in ref:
                            assert ref["$ref"].removeprefix("#/components/headers/") in headers
                ok = op["responses"].get("200", {})
                page = ok.get("content", {}).get("application/json", {}).get("schema", {})
                forms = [page, *page.get("anyOf", [])]  # the full form and, under fields=, sparse
                if any(form.get("$ref", "").endswith("Page") for form in forms):
                    assert "Link" in ok["headers"], op["operationId"]
                else:
                    assert "Link" not in ok.get("headers", {}), op["operationId"]

    def test_problem_types_are_documented(self) -> None:
        spec = json.loads(SPEC_PATH.read_text())
        problem_schema = spec["components"]["schemas"]["Problem"]
        assert "type" in problem_schema["required"]
        for kind in KINDS:
            assert f"`{kind.slug}`" in problem_schema["properties"]["type"]["description"]
        page = spec["paths"]["/problems/{slug}"]["get"]
        slug = next(p for p in page["parameters"] if p["name"] == "slug")
        assert slug["schema"]["enum"] == [k.slug for k in KINDS]
        code = spec["components"]["schemas"]["InvalidParam"]["properties"]["code"]
        assert set(code["enum"]) == set(PARAM_CODES)
        assert "code" in spec["components"]["schemas"]["InvalidParam"]["required"]
