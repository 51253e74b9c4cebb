"""The figure rules of seed/FORMAT.md enforced: the loader refuses a curated file that breaks
one, naming file, record and rule; the write API answers 422 naming the field and the rule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from service.seed import SEED_DIR, SeedError, read_curated
from tests.test_writes import METRIC, METRIC_QUOTE, Env, assert_problem, env

__all__ = ["env"]  # the write API's fixture, one seeded database per backend

PAGE_08 = "lishui-2022-08-page.yaml"
PAGE_12 = "lishui-2022-12-page.yaml"
GROWTH = "- id: qiang-cun-gong-si-li-run-tong-bi-zeng-zhang\n"
PROFIT = "- id: qiang-cun-gong-si-li-run\n"


def curated_copy(tmp_path: Path, file: str, anchor: str, old: str, new: str) -> Path:
    """The seed dir with `old` replaced by `new` in the first record after `anchor`."""
    seed = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed, ignore=shutil.ignore_patterns("sources"))
    (seed / "sources").symlink_to(SEED_DIR / "sources")
    path = seed / "curated" / file
    text = path.read_text(encoding="utf-8")
    at = text.index(anchor)
    assert old in text[at:], old
    path.write_text(text[:at] + text[at:].replace(old, new, 1), encoding="utf-8")
    return seed


@pytest.mark.parametrize(
    ("file", "anchor", "old", "new", "line"),
    [
        (
            PAGE_12,
            "- id: sui-chang-cun-ji-ji-ti-jing-ji-zong-shou-ru\n",
            "cumulative: true",
            "cumulative: false",
            "lishui-2022-12-page.yaml:metric sui-chang-cun-ji-ji-ti-jing-ji-zong-shou-ru: "
            "[cumulative-cutoff] period '截至11月底' is a running total: cumulative true",
        ),
        (
            PAGE_08,
            GROWTH,
            "  notes:\n  - 累计 qualifies the profit; the growth rate itself is a year-on-year "
            "comparison.\n",
            "  notes: []\n",
            f"{PAGE_08}:metric qiang-cun-gong-si-li-run-tong-bi-zeng-zhang: [cumulative-marker] "
            "累计 in the sentence",
        ),
        (
            PAGE_08,
            GROWTH,
            "period: 上半年",
            "period: 全年",
            f"{PAGE_08}:metric qiang-cun-gong-si-li-run-tong-bi-zeng-zhang: [list-period] "
            "period '全年' is not the one its sentence states (['上半年'])",
        ),
        (
            PAGE_08,
            GROWTH,
            "period: 上半年",
            "period: null\n  period_null_reason: a growth rate",
            f"{PAGE_08}:metric qiang-cun-gong-si-li-run-tong-bi-zeng-zhang: [list-period] "
            "period null but the sentence states ['上半年']",
        ),
        (
            PAGE_08,
            GROWTH,
            "period: 上半年",
            "period: 年均",
            f"{PAGE_08}:metric qiang-cun-gong-si-li-run-tong-bi-zeng-zhang: [rate-not-period] "
            "period '年均' is a rate",
        ),
        (
            PAGE_08,
            "- id: qiang-cun-lian-meng-fu-gai-xiang-zhen\n",
            "  raw: 173个\n  value: '173'\n  unit: 个",
            "  raw: 173个乡\n  value: '173'\n  unit: 乡",
            f"{PAGE_08}:metric qiang-cun-lian-meng-fu-gai-xiang-zhen: [unit-counts] unit '乡' is "
            "a place noun",
        ),
        (
            PAGE_08,
            PROFIT,
            "notes: []",
            "notes: ['raw is 2亿元']",
            f"{PAGE_08}:metric qiang-cun-gong-si-li-run: [note-agrees] note says raw '2亿元' but "
            "the record has '1.34亿元'",
        ),
    ],
)
def test_the_loader_refuses_a_broken_figure_rule(
    tmp_path: Path, file: str, anchor: str, old: str, new: str, line: str
) -> None:
    with pytest.raises(SeedError) as error:
        read_curated(curated_copy(tmp_path, file, anchor, old, new))
    assert any(problem.startswith(line) for problem in error.value.problems), error.value.problems


def test_the_current_curated_data_keeps_every_rule() -> None:
    assert read_curated().tables["metric"]


# ---------------------------------------------------------------- the write API


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"period": "截至6月底"}, "cumulative", "cumulative-cutoff"),
        ({"cumulative": False}, "cumulative", "cumulative-marker"),
        ({"period": "每年"}, "period", "rate-not-period"),
        ({"period": "全年"}, "period", "list-period"),
        ({"notes": ["unit is 个"]}, "notes", "note-agrees"),
    ],
)
async def test_a_write_breaking_a_figure_rule_is_422_naming_field_and_rule(
    env: Env, changes: dict[str, Any], field: str, rule: str
) -> None:
    body = {**METRIC, "subject": f"figure rule {rule}", **changes}
    if rule == "cumulative-cutoff":
        body["cumulative"] = False
    response = await env.client.post("/v1/metrics", json=body, headers=env.auth())
    problem = assert_problem(response, 422, field)
    reasons = [p["reason"] for p in problem["invalid_params"] if p["name"] == field]
    assert any(r.startswith(f"[{rule}] ") for r in reasons), problem


async def test_unit_counts_on_a_write(env: Env) -> None:
    """9县 reads as unit 县 (the parser's reading, so only the figure rule objects)."""
    body = {
        **METRIC,
        "subject": "figure rule unit-counts",
        "kind": "count",
        "raw": "9县",
        "value": "9",
        "unit": "县",
        "cumulative": False,
        "period": "目前",
        "quote": "目前,全市9县(市、区)和173个乡镇(街道)全覆盖组建实体化运作的强村公司联盟",
        "span": {"start": 398, "end": 438},
    }
    response = await env.client.post("/v1/metrics", json=body, headers=env.auth())
    problem = assert_problem(response, 422, "unit")
    assert [p["reason"][:13] for p in problem["invalid_params"]] == ["[unit-counts]"], problem
    created, _ = await env.create("metrics", {**body, "raw": "9", "unit": None})
    assert created["period"] == "目前"


async def test_a_patch_is_checked_against_its_sentence(env: Env) -> None:
    created, etag = await env.create("metrics", {**METRIC, "subject": "figure rule patch"})
    for patch, rule in (
        ({"notes": ["; unit 个"]}, "note-agrees"),
        ({"period": None}, "list-period"),
    ):
        response = await env.client.patch(
            f"/v1/metrics/{created['id']}", json=patch, headers=env.auth(**{"If-Match": etag})
        )
        problem = assert_problem(response, 422)
        assert any(p["reason"].startswith(f"[{rule}] ") for p in problem["invalid_params"]), problem


# ---------------------------------------------------------------- what a figure counts


async def test_the_normalised_unit_is_derived_and_rederived_by_a_patch(env: Env) -> None:
    """名 counts people: unit_normalised 人; a patch to another unit derives it again."""
    body = {
        **METRIC,
        "subject": "normalised unit",
        "kind": "count",
        "raw": "182家",
        "value": "182",
        "unit": "家",
        "quote": METRIC_QUOTE,
    }
    created, etag = await env.create("metrics", body)
    assert (created["unit_normalised"], created["counted"]) == ("家", None)
    patch = {"raw": "182", "value": "182", "unit": None}
    response = await env.client.patch(
        f"/v1/metrics/{created['id']}", json=patch, headers=env.auth(**{"If-Match": etag})
    )
    assert response.status_code == 200, response.text
    assert response.json()["unit_normalised"] is None


async def test_a_counted_noun_fixes_the_normalised_unit_and_needs_a_note(env: Env) -> None:
    body = {
        **METRIC,
        "subject": "counted noun",
        "kind": "count",
        "raw": "182",
        "value": "182",
        "unit": None,
        "counted": "强村公司",
        "unit_normalised": "家",
    }
    response = await env.client.post("/v1/metrics", json=body, headers=env.auth())
    problem = assert_problem(response, 422, "unit_normalised")
    assert any(p["reason"].startswith("[normalised-unit] ") for p in problem["invalid_params"])
    created, etag = await env.create("metrics", {**body, "notes": ["182家 names companies"]})
    assert (created["unit_normalised"], created["counted"]) == ("家", "强村公司")
    response = await env.client.patch(
        f"/v1/metrics/{created['id']}",
        json={"notes": ["182家: the classifier 家 counts companies"]},
        headers=env.auth(**{"If-Match": etag}),
    )
    assert response.json()["unit_normalised"] == "家", response.text
    wrong = {**METRIC, "subject": "derived unit", "unit_normalised": "个"}
    response = await env.client.post("/v1/metrics", json=wrong, headers=env.auth())
    assert_problem(response, 422, "unit_normalised")


async def test_a_rate_carries_its_marker_and_basis(env: Env) -> None:
    body = {**METRIC, "subject": "rate", "per": "上半年", "per_basis": ["year"]}
    response = await env.client.post("/v1/metrics", json=body, headers=env.auth())
    problem = assert_problem(response, 422)
    reasons = [p["reason"] for p in problem["invalid_params"]]
    assert any(r.startswith("[rate-not-period] ") for r in reasons), problem
    body = {**METRIC, "subject": "rate", "per": "每亩", "per_basis": ["mu"]}
    response = await env.client.post("/v1/metrics", json=body, headers=env.auth())
    assert_problem(response, 422, "per")
    response = await env.client.post(
        "/v1/metrics", json={**body, "per_basis": ["acre"]}, headers=env.auth()
    )
    assert response.status_code == 400, response.text


async def test_the_curated_figures_serve_what_they_count(env: Env) -> None:
    nine = (await env.client.get("/v1/metrics/qiang-cun-lian-meng-fu-gai-xian")).json()
    assert (nine["unit"], nine["unit_normalised"], nine["counted"]) == (None, "个", "县(市、区)")
    rate = (await env.client.get("/v1/metrics/xian-du-xiang-mu-jun-zeng-shou")).json()
    assert (rate["per"], rate["per_basis"]) == ("亩均", ["mu"])
    people = (await env.client.get("/v1/metrics", params={"unit_normalised": "人"})).json()
    assert {m["unit"] for m in people["data"]} >= {"名"}, people
    facet = (await env.client.get("/v1/metrics", params={"facet": "unit_normalised"})).json()
    assert any(v["value"] == "人" for v in facet["facets"]["unit_normalised"]), facet


async def test_a_fuller_name_is_curator_knowledge_and_searchable(env: Env) -> None:
    org = (await env.client.get("/v1/organisations/zhong-gong-li-shui-shi-wei")).json()
    assert org["name"] == "市委"
    assert org["fuller_name"]["name"] == "中共丽水市委"
    assert org["fuller_name"]["basis"] == "curator_knowledge"
    found = (await env.client.get("/v1/search", params={"q": "杭州师范大学"})).json()["data"]
    assert any(hit["id"] == "hang-shi-da" for hit in found), found
    fuller = {"name": "测试名称全称", "basis": "curator_knowledge", "note": "test"}
    body = {"name": "测试名称", "kind": "company", "fuller_name": {**fuller, "name": "测试名称"}}
    response = await env.client.post("/v1/organisations", json=body, headers=env.auth())
    assert_problem(response, 422, "fuller_name")
    created, _ = await env.create("organisations", {**body, "fuller_name": fuller})
    assert created["fuller_name"] == fuller
    bad = {**body, "name": "测试名称二", "fuller_name": {**fuller, "basis": "text"}}
    response = await env.client.post("/v1/organisations", json=bad, headers=env.auth())
    assert response.status_code == 400, response.text
