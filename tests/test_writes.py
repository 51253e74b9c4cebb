"""Curator write API: auth, create / merge-patch / soft delete / restore, optimistic concurrency,
validation, soft-delete visibility, the audit trail and the seed-vs-curator-edit rule.

Runs against its own freshly migrated and seeded database per backend (SQLite file; PostgreSQL
database `<suite db>_writes` made afresh next to the suite's), never the shared one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth import create_key, revoke_key
from service.db import create_engine
from service.seed import load
from service.settings import Settings
from tests.conftest import BACKENDS, fresh_database, scratch_postgres_url
from tests.helpers import Client

METRIC_QUOTE = "上半年,182家县、乡强村公司累计实现利润1.34亿元"
METRIC: dict[str, Any] = {
    "article": "kua-shan-duo-lian-dang-jian-lian-meng",
    "subject": "182家县、乡强村公司累计实现利润",
    "kind": "money",
    "raw": "1.34亿元",
    "value": "134000000",
    "unit": "元",
    "cumulative": True,
    "period": "上半年",
    "region": "li-shui-shi",
    "quote": METRIC_QUOTE,
    "span": {"start": 475, "end": 502},
}


class Env:
    def __init__(self, url: str, client: Client, keys: dict[str, str]) -> None:
        self.url, self.client, self.keys = url, client, keys

    def auth(self, who: str = "editor", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", **extra}

    async def create(self, resource: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        response = await self.client.post(f"/v1/{resource}", json=body, headers=self.auth())
        assert response.status_code == 201, response.text
        return response.json(), response.headers["etag"]

    async def etag(self, resource: str, record_id: str) -> str:
        response = await self.client.get(f"/v1/{resource}/{record_id}")
        assert response.status_code == 200, response.text
        return response.headers["etag"]


@pytest.fixture(scope="module", params=BACKENDS)
async def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('writes') / 'writes.db'}"
    else:
        url = await asyncio.to_thread(scratch_postgres_url, "writes")
    await asyncio.to_thread(fresh_database, url)
    await load(url)
    engine = create_engine(url, pool=False)
    keys: dict[str, str] = {}
    async with engine.begin() as conn:
        _, keys["editor"] = await create_key(conn, "alice", "editor")
        _, keys["other"] = await create_key(conn, "bob", "editor")
        _, keys["reader"] = await create_key(conn, "rita", "reader")
        revoked_id, keys["revoked"] = await create_key(conn, "mallory", "editor")
        await revoke_key(conn, revoked_id)
    await engine.dispose()
    app: Litestar = create_app(Settings(database_url=url, rate_limit_per_minute=0))
    async with AsyncTestClient(app=app) as client:
        yield Env(url, client, keys)


def assert_problem(response: Any, status: int, *params: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    names = [p["name"] for p in body.get("invalid_params") or []]
    for param in params:
        assert param in names, body
    return body


class TestAuth:
    async def test_no_key_is_401_with_challenge(self, env: Env) -> None:
        response = await env.client.post("/v1/organisations", json={"name": "x", "kind": "other"})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_bad_and_revoked_keys_are_401(self, env: Env) -> None:
        for token in (
            "lcp_00000000_nope",
            "garbage",
            env.keys["revoked"],
            env.keys["editor"] + "x",
        ):
            response = await env.client.post(
                "/v1/organisations",
                json={"name": "x", "kind": "other"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert_problem(response, 401)

    async def test_reader_key_is_403(self, env: Env) -> None:
        response = await env.client.post(
            "/v1/organisations", json={"name": "x", "kind": "other"}, headers=env.auth("reader")
        )
        assert_problem(response, 403)

    async def test_auth_comes_before_body_validation(self, env: Env) -> None:
        response = await env.client.patch("/v1/metrics/whatever", content=b"{not json")
        assert_problem(response, 401)

    async def test_reads_stay_public(self, env: Env) -> None:
        assert (await env.client.get("/v1/organisations?limit=1")).status_code == 200


class TestCreate:
    async def test_create_organisation_with_derived_id(self, env: Env) -> None:
        body, etag = await env.create(
            "organisations", {"name": "测试共富合作社", "kind": "company", "region": "li-shui-shi"}
        )
        assert body["id"] == "ce-shi-gong-fu-he-zuo-she"
        assert etag.startswith(f'"organisations:{body["id"]}:r1-')
        assert await env.etag("organisations", body["id"]) == etag
        again = await env.client.get(
            f"/v1/organisations/{body['id']}", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304
        found = await env.client.get("/v1/search", params={"q": "测试共富合作社"})
        assert [h["id"] for h in found.json()["data"]] == [body["id"]]

    async def test_a_written_record_is_found_across_scripts_and_by_pinyin(self, env: Env) -> None:
        body, _ = await env.create(
            "organisations",
            {"name": "測試雲和農業聯社", "kind": "company", "region": "li-shui-shi"},
        )
        for q in ("测试云和农业联社", "測試雲和", "ceshiyunhe", "ＣＥＳＨＩ 农业"):
            found = (await env.client.get("/v1/search", params={"q": q})).json()["data"]
            assert [h["id"] for h in found] == [body["id"]], q
            assert found[0]["score"] > 0

    async def test_create_metric_id_collision_gets_suffix(self, env: Env) -> None:
        body, _ = await env.create("metrics", {**METRIC, "subject": "强村公司利润"})
        assert body["id"] == "qiang-cun-gong-si-li-run-2"
        assert body["document"] == "lishui-2022-08-page"
        assert body["value"] == 134000000

    async def test_money_without_a_currency_unit_says_why(self, env: Env) -> None:
        """`currency` is null for lack of data only on money whose raw names no currency."""
        body, _ = await env.create(
            "metrics",
            {**METRIC, "id": "money-no-currency", "raw": "1.34亿", "unit": None},
        )
        assert (body["value"], body["unit_code"], body["currency"]) == (134000000, None, None)
        assert body["null_reasons"] == {
            "currency": "An amount of money, but the source names no currency unit."
        }

    async def test_client_supplied_id(self, env: Env) -> None:
        body, _ = await env.create(
            "initiatives", {"id": "ce-shi-xiang-mu", "name": "测试项目", "kind": "project"}
        )
        assert body["id"] == "ce-shi-xiang-mu"
        response = await env.client.post(
            "/v1/initiatives",
            json={"id": "ce-shi-xiang-mu", "name": "另一个", "kind": "project"},
            headers=env.auth(),
        )
        assert_problem(response, 409)  # ids are never reused


class TestValidation:
    async def post(self, env: Env, resource: str, body: dict[str, Any]) -> Any:
        return await env.client.post(f"/v1/{resource}", json=body, headers=env.auth())

    async def test_bad_span(self, env: Env) -> None:
        response = await self.post(env, "metrics", {**METRIC, "span": {"start": 476, "end": 503}})
        assert_problem(response, 422, "span")

    async def test_value_must_match_the_parser(self, env: Env) -> None:
        response = await self.post(env, "metrics", {**METRIC, "value": "13400000", "unit": "个"})
        assert_problem(response, 422, "value", "unit")

    async def test_raw_must_occur_in_quote(self, env: Env) -> None:
        response = await self.post(
            env, "metrics", {**METRIC, "raw": "2.5亿元", "value": "250000000"}
        )
        assert_problem(response, 422, "raw")

    async def test_unknown_references(self, env: Env) -> None:
        response = await self.post(
            env, "metrics", {**METRIC, "region": "nowhere", "organisation": "no-such-org"}
        )
        assert_problem(response, 422, "region", "organisation")
        response = await self.post(env, "organisations", {"name": "某", "kind": "alien"})
        assert_problem(response, 422, "kind")

    async def test_duplicate_name(self, env: Env) -> None:
        response = await self.post(
            env, "organisations", {"name": "泰隆银行丽水分行", "kind": "bank"}
        )
        assert_problem(response, 422, "name")

    async def test_wrong_types_and_unknown_fields_are_400(self, env: Env) -> None:
        response = await self.post(env, "organisations", {"name": 3, "kind": "bank"})
        assert_problem(response, 400)
        response = await self.post(env, "organisations", {"name": "某某", "kind": "bank", "nme": 1})
        assert_problem(response, 400)


class TestPatch:
    async def test_merge_patch(self, env: Env) -> None:
        body, etag = await env.create(
            "organisations",
            {"name": "补丁测试", "kind": "company", "aliases": ["甲"], "notes": ["n"]},
        )
        rid = body["id"]
        response = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"name_en": "Patch Test", "aliases": None, "null_reasons": {"region": "unknown"}},
            headers=env.auth(**{"If-Match": etag}),
        )
        assert_problem(response, 400)  # aliases is not nullable: a type error
        response = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"name_en": "Patch Test", "aliases": [], "null_reasons": {"region": "unknown"}},
            headers=env.auth(**{"If-Match": etag}),
        )
        assert response.status_code == 200, response.text
        patched = response.json()
        assert patched["name_en"] == "Patch Test"
        assert patched["aliases"] == []
        assert patched["notes"] == ["n"]
        assert patched["null_reasons"] == {"region": "unknown"}
        assert response.headers["etag"].startswith(f'"organisations:{rid}:r2-')
        assert await env.etag("organisations", rid) == response.headers["etag"]
        response = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"null_reasons": {"region": None}},
            headers=env.auth(**{"If-Match": response.headers["etag"]}),
        )
        assert response.json()["null_reasons"] == {}

    async def test_patch_metric_rechecks_the_parser(self, env: Env) -> None:
        _body, etag = await env.create("metrics", {**METRIC, "id": "patch-metric"})
        response = await env.client.patch(
            "/v1/metrics/patch-metric", json={"value": 1}, headers=env.auth(**{"If-Match": etag})
        )
        assert_problem(response, 422, "value")
        assert await env.etag("metrics", "patch-metric") == etag  # nothing written

    async def test_missing_if_match_is_428(self, env: Env) -> None:
        body, _ = await env.create("organisations", {"name": "无条件", "kind": "other"})
        response = await env.client.patch(
            f"/v1/organisations/{body['id']}", json={"name_en": "x"}, headers=env.auth()
        )
        assert_problem(response, 428)
        response = await env.client.delete(f"/v1/organisations/{body['id']}", headers=env.auth())
        assert_problem(response, 428)

    async def test_stale_if_match_is_412(self, env: Env) -> None:
        body, etag = await env.create("organisations", {"name": "过期", "kind": "other"})
        rid = body["id"]
        first = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"name_en": "a"},
            headers=env.auth(**{"If-Match": etag}),
        )
        assert first.status_code == 200
        second = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"name_en": "b"},
            headers=env.auth(**{"If-Match": etag}),
        )
        assert_problem(second, 412)
        assert second.headers["etag"] == first.headers["etag"]

    async def test_concurrent_editors_never_overwrite_each_other(self, env: Env) -> None:
        body, etag = await env.create("organisations", {"name": "并发", "kind": "other"})
        rid = body["id"]
        responses = await asyncio.gather(
            *(
                env.client.patch(
                    f"/v1/organisations/{rid}",
                    json={"name_en": who},
                    headers=env.auth(who, **{"If-Match": etag}),
                )
                for who in ("editor", "other")
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 412]
        winner = next(r for r in responses if r.status_code == 200).json()["name_en"]
        current = (await env.client.get(f"/v1/organisations/{rid}")).json()
        assert current["name_en"] == winner


class TestDeleteAndRestore:
    async def test_soft_deleted_records_are_hidden_everywhere_until_restored(
        self, env: Env
    ) -> None:
        org, org_etag = await env.create(
            "organisations", {"name": "软删除测试机构", "kind": "other"}
        )
        metric, metric_etag = await env.create(
            "metrics", {**METRIC, "id": "soft-delete-metric", "organisation": org["id"]}
        )
        rid = org["id"]
        # Still referenced by a live metric: refused, naming it, until the metric is gone.
        response = await env.client.delete(
            f"/v1/organisations/{rid}", headers=env.auth(**{"If-Match": org_etag})
        )
        assert "metric soft-delete-metric (organisation)" in assert_problem(response, 409)["detail"]
        response = await env.client.delete(
            f"/v1/metrics/{metric['id']}", headers=env.auth(**{"If-Match": metric_etag})
        )
        assert response.status_code == 204
        response = await env.client.delete(
            f"/v1/organisations/{rid}", headers=env.auth(**{"If-Match": org_etag})
        )
        assert response.status_code == 204
        tombstone = response.headers["etag"]
        assert (await env.client.get(f"/v1/organisations/{rid}")).status_code == 404
        listed = (
            await env.client.get("/v1/organisations", params={"id__in": rid, "count": "exact"})
        ).json()
        assert listed["data"] == []
        assert listed["total"]["value"] == 0
        found = (await env.client.get("/v1/search", params={"q": "软删除测试机构"})).json()
        assert found["data"] == []
        # Writes may not reference it, and a second delete is a 404.
        response = await env.client.post(
            "/v1/metrics", json={**METRIC, "organisation": rid}, headers=env.auth()
        )
        assert_problem(response, 422, "organisation")
        response = await env.client.delete(
            f"/v1/organisations/{rid}", headers=env.auth(**{"If-Match": tombstone})
        )
        assert_problem(response, 404)

        response = await env.client.post(
            f"/v1/organisations/{rid}/restore", headers=env.auth(**{"If-Match": org_etag})
        )
        assert_problem(response, 412)
        response = await env.client.post(
            f"/v1/organisations/{rid}/restore", headers=env.auth(**{"If-Match": tombstone})
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"].startswith(f'"organisations:{rid}:r3-')
        assert (await env.client.get(f"/v1/organisations/{rid}")).status_code == 200
        found = (await env.client.get("/v1/search", params={"q": "软删除测试机构"})).json()
        assert [h["id"] for h in found["data"]] == [rid]


class TestChanges:
    async def test_audit_trail_prints_metric_values_exactly(self, env: Env) -> None:
        """A metric's `value` in `/v1/changes` is the exact number, as on the record itself."""
        since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
        body, _ = await env.create("metrics", {**METRIC, "id": "audit-value-metric"})
        assert b'"value":134000000,' in (await env.client.get(f"/v1/metrics/{body['id']}")).content
        response = await env.client.get("/v1/changes", params={"since": since, "limit": 100})
        assert b'"value":134000000,' in response.content
        assert b'"value":134000000.0' not in response.content
        mine = [c for c in response.json()["data"] if c["record_id"] == "audit-value-metric"]
        assert mine[0]["after"]["value"] == 134000000
        assert mine[0]["after"]["currency"] == "CNY"

    async def test_audit_trail_pages_in_order(self, env: Env) -> None:
        body, etag = await env.create("organisations", {"name": "审计测试", "kind": "other"})
        rid = body["id"]
        response = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"name_en": "Audit"},
            headers=env.auth(**{"If-Match": etag}),
        )
        assert response.status_code == 200
        everything = (await env.client.get("/v1/changes", params={"limit": 100})).json()["data"]
        mine = [c for c in everything if c["record_id"] == rid]
        assert [c["action"] for c in mine] == ["create", "update"]
        assert mine[0]["before"] is None
        assert mine[0]["after"]["name"] == "审计测试"
        assert mine[1]["before"]["name_en"] is None
        assert mine[1]["after"]["name_en"] == "Audit"
        # Who wrote is curator-only: not in the public feed, in /v1/curation/changes.
        assert "actor" not in mine[1]
        private = await env.client.get(
            "/v1/curation/changes", params={"limit": 100}, headers=env.auth("reader")
        )
        assert private.status_code == 200, private.text
        assert private.headers["cache-control"] == "private, no-store"
        theirs = [c for c in private.json()["data"] if c["record_id"] == "shen-ji-ce-shi"]
        assert theirs[1]["actor"]["name"] == "alice"
        assert {k: v for k, v in theirs[1].items() if k != "actor"} == mine[1]
        assert mine[1]["revision"] == 2

        # Paging one at a time gives the same sequence, ascending.
        ids: list[int] = []
        url: str | None = "/v1/changes?limit=1"
        while url:
            page = (await env.client.get(url)).json()
            ids += [c["id"] for c in page["data"]]
            url = page["links"]["next"]
        assert ids == [c["id"] for c in everything] == sorted(ids)

        after = (await env.client.get("/v1/changes", params={"since": mine[0]["id"]})).json()
        assert after["data"][0]["id"] == mine[1]["id"]
        since_time = (
            await env.client.get(
                "/v1/changes", params={"since": "2000-01-01T00:00:00Z", "limit": 100}
            )
        ).json()
        assert [c["id"] for c in since_time["data"]] == [c["id"] for c in everything]
        bad = await env.client.get("/v1/changes", params={"since": "yesterday"})
        assert_problem(bad, 400, "since")
        # Past the 32-bit ids of PostgreSQL: no change is after it (once a 500 there).
        beyond = await env.client.get("/v1/changes", params={"since": "999999999999999999"})
        assert (beyond.status_code, beyond.json()["data"]) == (200, []), beyond.text


class TestSeedVersusCuratorEdits:
    async def test_loader_keeps_curator_edits_and_reports_conflicts(
        self, env: Env, tmp_path: Path
    ) -> None:
        rid = "tai-long-yin-hang-li-shui-fen-hang"
        etag = await env.etag("organisations", rid)
        response = await env.client.patch(
            f"/v1/organisations/{rid}",
            json={"name_en": "Tailong Bank (curated)"},
            headers=env.auth(**{"If-Match": etag}),
        )
        assert response.status_code == 200
        created, _ = await env.create("organisations", {"name": "仅API创建", "kind": "other"})

        report = await load(env.url)
        assert any(rid in line and "name_en" in line for line in report.conflicts), report.conflicts
        assert "conflict" in report.summary()
        kept = (await env.client.get(f"/v1/organisations/{rid}")).json()
        assert kept["name_en"] == "Tailong Bank (curated)"
        assert (await env.client.get(f"/v1/organisations/{created['id']}")).status_code == 200
        # A second run is still a no-op apart from the same report.
        again = await load(env.url)
        assert not again.changed
        assert again.conflicts == report.conflicts

        forced = await load(env.url, force=True)
        assert forced.changed
        assert not forced.conflicts
        await asyncio.sleep(1.1)  # the HTTP layer re-reads the dataset version once a second
        restored = await env.client.get(f"/v1/organisations/{rid}")
        assert restored.json()["name_en"] == "Tailong Bank Lishui Branch"
        assert restored.headers["etag"].startswith(f'"organisations:{rid}:r3-')
        assert (await env.client.get(f"/v1/organisations/{created['id']}")).status_code == 404
