"""Hostile and edge-case writes (issue #11), on every backend, each against its own database:

- no write body produces a 500: deep nesting, NUL and other control characters in any text
  field, blank text, huge or non-finite `value`, wrong types, long strings, invalid UTF-8, empty
  bodies, and a hypothesis fuzz over every write endpoint;
- non-JSON `Content-Type` → 415, `If-Match: *`, empty or no-op merge patches write nothing,
  deleting a referenced record → 409 naming the referrers;
- a detail's ETag moves whenever its body does (embedded names included), and `If-Match`
  compares against that same tag;
- the curated-file loader applies the same text rule as the write API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.auth import create_key
from service.curation.rules import text_problems
from service.db import create_engine
from service.seed import SeedError, load, read_curated
from service.settings import Settings
from tests.conftest import BACKENDS, ROOT, fresh_database, scratch_postgres_url
from tests.test_writes import METRIC

RESOURCES = ("articles", "initiatives", "metrics", "organisations")
ARTICLE_ID = "kua-shan-duo-lian-dang-jian-lian-meng"


class Api:
    """A sync client with an editor key, the database URL, and a valid body per resource."""

    def __init__(self, url: str, client: TestClient[Litestar], token: str) -> None:
        self.url, self.client, self.token = url, client, token
        article = client.get(f"/v1/articles/{ARTICLE_ID}").json()
        self.valid: dict[str, dict[str, Any]] = {
            "organisations": {"name": "加固测试机构", "kind": "other"},
            "initiatives": {"name": "加固测试项目", "kind": "project"},
            "metrics": dict(METRIC),
            "articles": {
                "document": article["document"],
                "kind": "news",
                "headline": article["headline"],
                "span": article["span"],
            },
        }

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = self.headers(**{"Content-Type": "application/json", **headers})
        return self.client.request(method, path, content=content, headers=hdrs)

    def create(self, resource: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        response = self.send("POST", f"/v1/{resource}", body)
        assert response.status_code == 201, response.text
        return response.json(), response.headers["etag"]

    def etag(self, resource: str, record_id: str) -> str:
        response = self.client.get(f"/v1/{resource}/{record_id}")
        assert response.status_code == 200, response.text
        return str(response.headers["etag"])

    def scalar(self, statement: str, **params: Any) -> Any:
        async def run() -> Any:
            engine = create_engine(self.url, pool=False)
            try:
                async with engine.connect() as conn:
                    return await conn.scalar(sa.text(statement), params)
            finally:
                await engine.dispose()

        return asyncio.run(run())


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('hardening') / 'writes.db'}"
    else:
        url = scratch_postgres_url("hardening")
    fresh_database(url)
    asyncio.run(load(url))

    async def key() -> str:
        engine = create_engine(url, pool=False)
        async with engine.begin() as conn:
            _, token = await create_key(conn, "hardening", "editor")
        await engine.dispose()
        return token

    token = asyncio.run(key())
    app = create_app(Settings(database_url=url, rate_limit_per_minute=0))
    with TestClient(app=app) as client:
        yield Api(url, client, token)


def assert_problem(response: Any, status: int, *params: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    names = [p["name"] for p in body.get("invalid_params") or []]
    for param in params:
        assert param in names, body
    return body


def assert_no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == response.status_code


# Every text field of every writable resource, with a value the rules otherwise accept.
TEXT_FIELDS: dict[str, list[str]] = {
    "organisations": ["name", "name_en", "aliases", "notes", "null_reasons"],
    "initiatives": ["name", "name_en", "summary", "aliases", "notes", "null_reasons"],
    "articles": ["headline", "section", "kicker", "subheadline", "byline", "body", "notes"],
    "metrics": ["subject", "subject_en", "raw", "quote", "period", "notes", "null_reasons"],
}


def _with_text(body: dict[str, Any], field: str, text: str) -> dict[str, Any]:
    if field in ("aliases", "notes", "body"):
        return {**body, field: ["ok", text]}
    if field == "null_reasons":
        return {**body, field: {"region": text}}
    return {**body, field: text}


class TestHostileBodies:
    @pytest.mark.parametrize("resource", RESOURCES)
    def test_deep_nesting_is_a_400(self, api: Api, resource: str) -> None:
        deep = b"[" * 30_000 + b"]" * 30_000  # under the 64 KiB body limit
        nested = b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
        for body in (deep, nested):
            assert_problem(api.send("POST", f"/v1/{resource}", body), 400)
            assert_problem(api.send("PATCH", f"/v1/{resource}/x", body, **{"If-Match": "*"}), 400)

    @pytest.mark.parametrize("resource", RESOURCES)
    @pytest.mark.parametrize("text", ["a\u0000b", "\u0000", "x\u001by", "  \t ", "\u3000"])
    def test_control_characters_and_blank_text_are_422_in_every_field(
        self, api: Api, resource: str, text: str
    ) -> None:
        for field in TEXT_FIELDS[resource]:
            body = _with_text(api.valid[resource], field, text)
            response = api.send("POST", f"/v1/{resource}", body)
            problem = assert_problem(response, 422)
            assert any(p["name"].startswith(field) for p in problem["invalid_params"]), problem

    @pytest.mark.parametrize("resource", RESOURCES)
    def test_control_characters_in_a_patch_are_422(self, api: Api, resource: str) -> None:
        record_id = api.client.get(f"/v1/{resource}?limit=1").json()["data"][0]["id"]
        for field in TEXT_FIELDS[resource]:
            body = _with_text({}, field, "bad\u0000text")
            path = f"/v1/{resource}/{record_id}"
            problem = assert_problem(api.send("PATCH", path, body, **{"If-Match": "*"}), 422)
            assert any(p["name"].startswith(field) for p in problem["invalid_params"]), problem
        # A NUL in a key of a mapping, and in a reference (a slug: 400 before any lookup).
        body = {"null_reasons": {"re\u0000gion": "x"}}
        assert_problem(api.send("PATCH", path, body, **{"If-Match": "*"}), 422)
        assert_problem(api.send("PATCH", path, {"region": "\u0000"}, **{"If-Match": "*"}), 400)

    def test_whitespace_only_required_text_is_422(self, api: Api) -> None:
        for resource, field in (
            ("organisations", "name"),
            ("initiatives", "name"),
            ("articles", "headline"),
            ("metrics", "subject"),
            ("metrics", "quote"),
            ("metrics", "raw"),
        ):
            body = {**api.valid[resource], field: " \u3000\n "}
            assert_problem(api.send("POST", f"/v1/{resource}", body), 422, field)

    @pytest.mark.parametrize(
        "value",
        [
            b"1e400",
            b'"1e400"',
            b"1E-16384",
            b'"1E-16384"',
            b'"1e999999999999"',
            b'"NaN"',
            b'"Infinity"',
            b'"-Infinity"',
            b'" 134000000 "',
            b'"1_000"',
            b"123456789012345678901234567890123456789012345",
            b"-0.0000000000000000000001",
            b'""',
        ],
    )
    def test_huge_and_non_finite_values_are_422(self, api: Api, value: bytes) -> None:
        base = json.dumps({k: v for k, v in METRIC.items() if k != "value"}).encode()
        body = base[:-1] + b', "value": ' + value + b"}"
        assert_problem(api.send("POST", "/v1/metrics", body), 422, "value")

    def test_value_may_be_a_number_or_a_string(self, api: Api) -> None:
        for value, subject in ((134000000, "数值一"), ("1.34e8", "数值二")):
            body, _ = api.create("metrics", {**METRIC, "value": value, "subject": subject})
            assert body["value"] == 134000000

    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"null",
            b"[]",
            b'"a string"',
            b"42",
            b"\xff\xfe{}",
            b'{"name": "\xc3\x28", "kind": "other"}',
            b'{"name": "\\ud800", "kind": "other"}',
            b'{"name": "x", "kind": "other"',
            b'{"name": 3, "kind": "other"}',
            b'{"name": ["x"], "kind": "other"}',
            b'{"name": {"a": 1}, "kind": "other"}',
            b'{"name": "x", "kind": "other", "aliases": "not a list"}',
            b'{"name": "x", "kind": "other", "null_reasons": []}',
            b'{"name": "x", "kind": "other", "unknown": 1}',
            json.dumps({"name": "x" * 121, "kind": "other"}).encode(),
            json.dumps({"name": "x", "kind": "other", "name_en": "e" * 201}).encode(),
            json.dumps({"name": "x", "kind": "other", "notes": ["n"] * 51}).encode(),
            json.dumps({"name": "x", "kind": "other", "id": "Not A Slug"}).encode(),
        ],
    )
    def test_malformed_bodies_are_4xx_problems(self, api: Api, body: bytes) -> None:
        response = api.send("POST", "/v1/organisations", body)
        assert 400 <= response.status_code < 500, response.text
        assert_no_server_error(response)

    def test_out_of_range_integers_are_400(self, api: Api) -> None:
        for span in (
            {"start": 10**30, "end": 2},
            {"start": -1, "end": 2},
            {"start": 1.5, "end": 2},
            {"start": "1", "end": 2},
            {"start": 1},
            {"start": 1, "end": 2, "extra": 3},
        ):
            response = api.send("POST", "/v1/metrics", {**METRIC, "span": span})
            assert_problem(response, 400)

    def test_seed_loader_applies_the_same_text_rule(self, tmp_path: Path) -> None:
        assert text_problems({"name": "a\u0000", "notes": [" "]}, ("name",)) == [
            ("name", "contains a control character (NUL or another)"),
            ("notes[0]", "is blank (only whitespace)"),
        ]
        seed = tmp_path / "seed"
        (seed / "curated").mkdir(parents=True)
        (seed / "sources").symlink_to(ROOT / "seed" / "sources")
        (seed / "pending").symlink_to(ROOT / "seed" / "pending")
        for path in (ROOT / "seed" / "curated").glob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            (seed / "curated" / path.name).write_text(
                text.replace("name: 泰隆银行丽水分行", 'name: "泰隆银行\\0丽水分行"'),
                encoding="utf-8",
            )
        with pytest.raises(SeedError) as error:
            read_curated(seed)
        assert any("control character" in p for p in error.value.problems)


# ---------------------------------------------------------------- fuzz

HOSTILE_TEXT = st.sampled_from(
    ["\u0000", "a\u0000", " ", "\t\n", "\u3000", "\x7f", "\ud7ff", "x" * 5000, "1e400", "NaN", ""]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | HOSTILE_TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = sorted({f for fields in TEXT_FIELDS.values() for f in fields} | set(METRIC))


@st.composite
def hostile_requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
    resource = draw(st.sampled_from(RESOURCES))
    method = draw(st.sampled_from(["POST", "PATCH"]))
    kind = draw(st.sampled_from(["mutated", "json", "bytes", "deep"]))
    if kind == "mutated":
        body: Any = dict(draw(st.sampled_from([{}, {"name": "x", "kind": "other"}, METRIC])))
        for _ in range(draw(st.integers(1, 3))):
            body[draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=6))] = draw(JSON_VALUES)
        raw = json.dumps(body).encode()
    elif kind == "json":
        raw = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == "bytes":
        raw = draw(st.binary(max_size=64))
    else:
        depth = draw(st.integers(1, 30_000))
        raw = draw(st.sampled_from([b"[", b'{"a":'])) * depth
    return method, resource, raw


class TestFuzz:
    def test_hostile_bodies_never_give_a_500(self, api: Api) -> None:
        targets = {r: api.client.get(f"/v1/{r}?limit=1").json()["data"][0]["id"] for r in RESOURCES}

        @settings(
            max_examples=100,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=hostile_requests())
        def run(request: tuple[str, str, bytes]) -> None:
            method, resource, raw = request
            path = f"/v1/{resource}" if method == "POST" else f"/v1/{resource}/{targets[resource]}"
            assert_no_server_error(api.send(method, path, raw, **{"If-Match": "*"}))

        run()


# ---------------------------------------------------------------- write rules


class TestWriteRules:
    @pytest.mark.parametrize(
        "content_type",
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/json; charset=latin-1",
            "",
        ],
    )
    def test_non_json_content_type_is_415(self, api: Api, content_type: str) -> None:
        body = json.dumps({"name": "内容类型", "kind": "other"}).encode()
        headers = api.headers(**({"Content-Type": content_type} if content_type else {}))
        response = api.client.post("/v1/organisations", content=body, headers=headers)
        assert_problem(response, 415)
        path = "/v1/organisations/tai-long-yin-hang-li-shui-fen-hang"
        response = api.client.patch(path, content=b"{}", headers={**headers, "If-Match": "*"})
        assert_problem(response, 415)

    def test_merge_patch_media_type_is_accepted_on_patch(self, api: Api) -> None:
        body, etag = api.create("organisations", {"name": "合并补丁", "kind": "other"})
        response = api.send(
            "PATCH",
            f"/v1/organisations/{body['id']}",
            {"name_en": "Merge"},
            **{"Content-Type": "application/merge-patch+json", "If-Match": etag},
        )
        assert response.status_code == 200, response.text

    def test_if_match_star(self, api: Api) -> None:
        body, etag = api.create("organisations", {"name": "星号", "kind": "other"})
        path = f"/v1/organisations/{body['id']}"
        response = api.send("PATCH", path, {"name_en": "Star"}, **{"If-Match": "*"})
        assert response.status_code == 200, response.text
        # A stale tag, a weak form of the current one: no match; a list holding it: a match.
        current = response.headers["etag"]
        assert_problem(api.send("PATCH", path, {"name_en": "x"}, **{"If-Match": etag}), 412)
        weak = {"If-Match": f"W/{current}"}
        assert_problem(api.send("PATCH", path, {"name_en": "x"}, **weak), 412)
        listed = {"If-Match": f'"nope", {current}'}
        assert api.send("PATCH", path, {"name_en": "Listed"}, **listed).status_code == 200
        # RFC 9110 §13.2.1: no record, no precondition to evaluate: 404, with `*` too.
        missing = "/v1/organisations/no-such-organisation"
        assert_problem(api.send("PATCH", missing, {"name_en": "x"}, **{"If-Match": "*"}), 404)
        assert_problem(api.send("DELETE", missing, None, **{"If-Match": "*"}), 404)
        assert_problem(api.send("PATCH", missing, {"name_en": "x"}), 404)
        assert api.send("DELETE", path, None, **{"If-Match": "*"}).status_code == 204
        assert_problem(api.send("PATCH", path, {"name_en": "x"}, **{"If-Match": "*"}), 404)
        response = api.send("POST", f"{path}/restore", None, **{"If-Match": "*"})
        assert response.status_code == 200, response.text
        assert_problem(api.send("POST", f"{path}/restore", None, **{"If-Match": "*"}), 409)
        assert_problem(api.send("PATCH", path, {"name_en": "x"}), 428)

    def _version_and_audit(self, api: Api, record_id: str) -> tuple[int, int]:
        version = api.scalar("SELECT version FROM dataset WHERE id = 1")
        audit = api.scalar("SELECT count(*) FROM change WHERE record_id = :rid", rid=record_id)
        return int(version), int(audit)

    @pytest.mark.parametrize("resource", RESOURCES)
    def test_a_patch_that_changes_nothing_writes_nothing(self, api: Api, resource: str) -> None:
        record = api.client.get(f"/v1/{resource}?limit=1").json()["data"][0]
        path = f"/v1/{resource}/{record['id']}"
        etag = api.etag(resource, record["id"])
        before = self._version_and_audit(api, record["id"])
        same = {"kind": record["kind"]}
        for body in ({}, same):
            response = api.send("PATCH", path, body, **{"If-Match": etag})
            assert response.status_code == 200, response.text
            assert response.headers["etag"] == etag
            assert self._version_and_audit(api, record["id"]) == before
        assert api.etag(resource, record["id"]) == etag

    def test_duplicate_id_is_409(self, api: Api) -> None:
        api.create("organisations", {"id": "chong-fu-id", "name": "重复一", "kind": "other"})
        body = {"id": "chong-fu-id", "name": "重复二", "kind": "other"}
        assert_problem(api.send("POST", "/v1/organisations", body), 409)
        # Seed ids too, for every resource.
        for resource in RESOURCES:
            seed_id = api.client.get(f"/v1/{resource}?limit=1").json()["data"][0]["id"]
            body = {**api.valid[resource], "id": seed_id}
            assert_problem(api.send("POST", f"/v1/{resource}", body), 409)

    def test_deleting_a_referenced_record_is_409_naming_the_referrers(self, api: Api) -> None:
        parent, _ = api.create("organisations", {"name": "上级机构", "kind": "other"})
        child, child_tag = api.create(
            "organisations", {"name": "下级机构", "kind": "other", "parent": parent["id"]}
        )
        base, _ = api.create("metrics", {**METRIC, "id": "base-metric"})
        _growth, growth_tag = api.create(
            "metrics", {**METRIC, "id": "growth-metric", "growth_of": "base-metric"}
        )
        for resource, record_id, referrer in (
            ("organisations", parent["id"], f"organisation {child['id']} (parent)"),
            ("metrics", base["id"], "metric growth-metric (growth_of)"),
            ("articles", METRIC["article"], "metric base-metric (article)"),
        ):
            path = f"/v1/{resource}/{record_id}"
            problem = assert_problem(api.send("DELETE", path, None, **{"If-Match": "*"}), 409)
            assert referrer in problem["detail"], problem
            assert api.client.get(path).status_code == 200
        # Once the referrer is gone, the delete goes through.
        tag = {"If-Match": child_tag}
        assert (
            api.send("DELETE", f"/v1/organisations/{child['id']}", None, **tag).status_code == 204
        )
        path = f"/v1/organisations/{parent['id']}"
        assert api.send("DELETE", path, None, **{"If-Match": "*"}).status_code == 204
        tag = {"If-Match": growth_tag}
        assert api.send("DELETE", "/v1/metrics/growth-metric", None, **tag).status_code == 204
        assert (
            api.send("DELETE", "/v1/metrics/base-metric", None, **{"If-Match": "*"}).status_code
            == 204
        )


# ---------------------------------------------------------------- ETags of details


class TestDetailEtags:
    def _rename(self, api: Api, resource: str, record_id: str, name: str) -> None:
        tag = {"If-Match": api.etag(resource, record_id)}
        response = api.send("PATCH", f"/v1/{resource}/{record_id}", {"name": name}, **tag)
        assert response.status_code == 200, response.text

    def _assert_moved(self, api: Api, path: str, old: str, name: str) -> str:
        response = api.client.get(path, headers={"If-None-Match": old})
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["etag"] != old
        assert name in response.text  # the cached detail was replaced too
        return str(response.headers["etag"])

    def test_renaming_an_embedded_record_moves_every_embedding_detail(self, api: Api) -> None:
        initiatives = api.client.get("/v1/initiatives?limit=100").json()["data"]
        initiative = next(i for i in initiatives if i["organisations"])
        org_id = initiative["organisations"][0]["id"]
        article_id = api.client.get(f"/v1/articles?organisation={org_id}").json()["data"][0]["id"]
        paths = {
            "article": f"/v1/articles/{article_id}",
            "initiative": f"/v1/initiatives/{initiative['id']}",
            "organisation": f"/v1/organisations/{org_id}",
        }
        tags = {name: str(api.client.get(path).headers["etag"]) for name, path in paths.items()}
        for path, tag in zip(paths.values(), tags.values(), strict=True):
            assert api.client.get(path, headers={"If-None-Match": tag}).status_code == 304

        # An organisation's name is embedded in the article (mentions) and the initiative
        # (organisations): both tags move; If-Match with the old one is stale.
        self._rename(api, "organisations", org_id, "改名后的机构")
        article_tag = self._assert_moved(api, paths["article"], tags["article"], "改名后的机构")
        self._assert_moved(api, paths["initiative"], tags["initiative"], "改名后的机构")
        stale = {"If-Match": tags["article"]}
        assert_problem(api.send("PATCH", paths["article"], {"section": "x"}, **stale), 412)
        fresh = {"If-Match": article_tag}
        response = api.send("PATCH", paths["article"], {"section": "要闻"}, **fresh)
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == api.etag("articles", article_id)

        # An initiative's name is embedded in the organisation (initiatives).
        org_tag = api.etag("organisations", org_id)
        self._rename(api, "initiatives", initiative["id"], "改名后的项目")
        self._assert_moved(api, paths["organisation"], org_tag, "改名后的项目")

    def test_shaped_details_move_too(self, api: Api) -> None:
        metric = api.client.get("/v1/metrics?organisation__isnull=false&limit=1").json()["data"][0]
        detail = f"/v1/metrics/{metric['id']}?expand=organisation"
        old = str(api.client.get(detail).headers["etag"])
        self._rename(api, "organisations", metric["organisation"], "展开改名机构")
        self._assert_moved(api, detail, old, "展开改名机构")


class TestHostileKeys:
    @pytest.mark.parametrize(
        "token",
        ["lcp_ZZZZZZZZ_x", "lcp_1234567_x", "lcp_' OR 1=1 --_x", "lcp_" + "a" * 300, "lcp__"],
    )
    def test_malformed_keys_are_401_before_any_lookup(self, api: Api, token: str) -> None:
        body = json.dumps(api.valid["organisations"]).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = api.client.post("/v1/organisations", content=body, headers=headers)
        assert_problem(response, 401)


class TestLimitsFitTheColumns:
    def test_every_text_field_fits_its_column(self) -> None:
        """A string the body accepts is one the table holds: PostgreSQL errors on longer text
        (SQLite would store it), so a declared limit above the column would be a 500."""
        import msgspec

        from service.models import Article, Initiative, Metric, Organisation, table_of
        from service.resources.articles import ArticleIn
        from service.resources.initiatives import InitiativeIn
        from service.resources.metrics import MetricIn
        from service.resources.organisations import OrganisationIn

        for body, model in (
            (ArticleIn, Article),
            (InitiativeIn, Initiative),
            (MetricIn, Metric),
            (OrganisationIn, Organisation),
        ):
            table = table_of(model)
            info = msgspec.inspect.type_info(body)
            assert isinstance(info, msgspec.inspect.StructType)
            for field in info.fields:
                column = table.c.get(field.name)
                if column is None:
                    column = table.c.get(f"{field.name}_id")
                length = getattr(column.type, "length", None) if column is not None else None
                if length is None:
                    continue  # TEXT or JSON: no limit to exceed
                kinds = getattr(field.type, "types", (field.type,))
                limits = [t.max_length for t in kinds if isinstance(t, msgspec.inspect.StrType)]
                where = (body.__name__, field.name, limits, length)
                assert limits, where
                assert all(m is not None and m <= length for m in limits), where
