"""People and places: read-only resources loaded from seed/pending/, served with the same list
contract as the others (the oracle tests cover their filters, sorts, facets and search)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth import create_key
from service.db import create_engine
from service.seed import SeedError, load, read_curated
from service.settings import Settings
from tests.conftest import BACKENDS, fresh_database, scratch_postgres_url
from tests.helpers import Client, all_pages, get_json

ROOT = Path(__file__).resolve().parents[1]


async def document_texts(client: Client) -> dict[str, str]:
    docs = await all_pages(client, "/v1/documents")
    return {d["id"]: (await get_json(client, f"/v1/documents/{d['id']}"))["text"] for d in docs}


async def article_documents(client: Client) -> dict[str, str]:
    return {a["id"]: a["document"] for a in await all_pages(client, "/v1/articles")}


@pytest.mark.parametrize("resource", ["people", "places", "recognitions"])
async def test_every_mention_is_the_source_text_at_its_span(client: Client, resource: str) -> None:
    texts, documents = await document_texts(client), await article_documents(client)
    records = await all_pages(client, f"/v1/{resource}")
    assert records
    for record in records:
        detail = await get_json(client, f"/v1/{resource}/{record['id']}")
        assert detail["mentions"], record["id"]
        for mention in detail["mentions"]:
            text = texts[documents[mention["article"]]]
            span = mention["span"]
            assert text[span["start"] : span["end"]] == mention["quote"], mention


async def test_person_detail(client: Client) -> None:
    person = await get_json(client, "/v1/people/hu-xian-ping")
    assert person["name"] == "胡显平"
    assert person["titles"] == ["庆元县委常委", "宣传部长"]
    assert {(o["id"], o["title"]) for o in person["organisations"]} == {
        ("zhong-gong-qing-yuan-xian-wei", "庆元县委常委"),
        ("qing-yuan-xian-wei-xuan-chuan-bu", "宣传部长"),
    }
    assert [m["quote"] for m in person["mentions"]] == ["胡显平", "胡显平"]


async def test_place_detail_lists_what_the_text_places_there(client: Client) -> None:
    texts, documents = await document_texts(client), await article_documents(client)
    place = await get_json(client, "/v1/places/sun-keng-cun")
    assert place["kind"] == "village"
    placed = {(r["resource"], r["id"]) for r in place["records"]}
    assert ("metrics", "mao-zhen-xing-nian-ling") in placed
    for record in place["records"]:
        span = record["span"]
        assert texts[documents[record["article"]]][span["start"] : span["end"]] == record["quote"]
        await get_json(client, f"/v1/{record['resource']}/{record['id']}")  # each one resolves


@pytest.mark.parametrize("resource", ["metrics", "initiatives", "organisations"])
async def test_place_filter_finds_what_the_text_places_there(client: Client, resource: str) -> None:
    """`place=` on each linked resource is exactly the place's `records` of that resource, and
    `place__not=` the rest."""
    for place in await all_pages(client, "/v1/places"):
        detail = await get_json(client, f"/v1/places/{place['id']}")
        expected = {r["id"] for r in detail["records"] if r["resource"] == resource}
        found = await all_pages(client, f"/v1/{resource}?place={place['id']}")
        assert {r["id"] for r in found} == expected, place["id"]
    everything = await all_pages(client, f"/v1/{resource}")
    outside = await all_pages(client, f"/v1/{resource}?place__not=sun-keng-cun")
    inside = await all_pages(client, f"/v1/{resource}?place=sun-keng-cun")
    assert len(outside) + len(inside) == len(everything)


async def test_recognitions_name_their_recipients(client: Client) -> None:
    body = await get_json(client, "/v1/recognitions?recipient=liu-dong-gong-xiao-gong-fu-che")
    assert {r["id"] for r in body["data"]} == {
        "quan-guo-xian-yu-liu-tong-liu-da-dian-xing-an-li",
        "quan-guo-nong-ye-she-hui-hua-fu-wu-dian-xing-an-li",
    }
    for recognition in await all_pages(client, "/v1/recognitions"):
        assert recognition["recipients"], recognition["id"]
        for ref in recognition["recipients"]:
            await get_json(client, f"/v1/{ref['resource']}/{ref['id']}")
        if recognition["awarder"] is None:
            assert "awarder" in recognition["null_reasons"], recognition["id"]


async def test_organisation_relations_are_typed_and_quoted(client: Client) -> None:
    texts = await document_texts(client)
    seen_roles = set()
    for organisation in await all_pages(client, "/v1/organisations"):
        detail = await get_json(client, f"/v1/organisations/{organisation['id']}")
        for relation in detail["relations"]:
            span = relation["span"]
            assert texts[relation["document"]][span["start"] : span["end"]] == relation["quote"]
            await get_json(client, f"/v1/{relation['resource']}/{relation['id']}")
            seen_roles.add((relation["resource"], relation["role"]))
    assert {
        ("initiatives", "endorser"),
        ("metrics", "subject"),
        ("metrics", "source"),
    } <= seen_roles
    alliance = await get_json(client, "/v1/organisations/long-quan-shou-hu-hong-se-gen-mai")
    assert {
        "resource": "initiatives",
        "id": "ting-jin-zhi-lu-shi-fan-dai",
        "role": "lead",
    }.items() <= alliance["relations"][0].items() or any(
        (r["id"], r["role"]) == ("ting-jin-zhi-lu-shi-fan-dai", "lead")
        for r in alliance["relations"]
    )


async def test_a_null_parent_says_why(client: Client) -> None:
    for place in await all_pages(client, "/v1/places"):
        assert (place["parent"] is None) == ("parent" in place["null_reasons"]), place["id"]


async def test_places_expand_and_sub_region_filter(client: Client) -> None:
    body = await get_json(client, "/v1/places?expand=parent,region&limit=100")
    for place in body["data"]:
        assert place["expanded"]["region"]["id"] == place["region"]
        if place["parent"]:
            assert place["expanded"]["parent"]["id"] == place["parent"]
    inside_city = await all_pages(client, "/v1/places?region=li-shui-shi")
    assert len(inside_city) == len(body["data"])  # every county lies in the city


async def test_meta_documents_the_new_resources(client: Client) -> None:
    meta = await get_json(client, "/v1/meta")
    names = {r["name"] for r in meta["resources"]}
    assert {"people", "places"} <= names
    assert {e["value"] for e in meta["enumerations"]["place_kinds"]} >= {"village", "township"}


# ---------------------------------------------------------------- the loader's rules


def seed_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    seed = tmp_path / "seed"
    shutil.copytree(ROOT / "seed", seed, ignore=shutil.ignore_patterns("sources"))
    (seed / "sources").symlink_to(ROOT / "seed" / "sources")
    path = seed / "pending" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return seed


@pytest.mark.parametrize(
    ("file", "old", "new", "says"),
    [
        ("places.yaml", "  kind: township", "  kind: hamlet", "places.yaml:places zhang-xi-xiang"),
        ("places.yaml", "span: [4025, 4028]", "span: [4024, 4027]", "zhang-xi-xiang"),
        ("people.yaml", "id: fu-dan-da-xue", "id: no-such-university", "unknown organisation"),
        ("people.yaml", "name: 刘伟", 'name: "刘\\0伟"', "control character"),
        ("place-links.yaml", "id: mao-zhen-xing-nian-ling", "id: nope", "unknown metrics record"),
        ("people.yaml", "  titles:\n", "  title:\n", "people.yaml:people"),
        ("organisation-roles.yaml", "  role: endorser", "  role: admirer", "organisation_roles"),
        ("recognitions.yaml", "  level: national", "  level: galactic", "recognitions.yaml"),
        ("metric-organisations.yaml", "  role: subject", "  role: object", "metric_organisations"),
    ],
)
def test_the_loader_names_file_record_and_rule(
    tmp_path: Path, file: str, old: str, new: str, says: str
) -> None:
    with pytest.raises(SeedError) as error:
        read_curated(seed_copy(tmp_path, file, old, new))
    assert any(says in problem for problem in error.value.problems), error.value.problems


# ---------------------------------------------------------------- soft-deleted links


@pytest.fixture(scope="module", params=BACKENDS)
async def writer(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('places') / 'places.db'}"
    else:
        url = await asyncio.to_thread(scratch_postgres_url, "places")
    await asyncio.to_thread(fresh_database, url)
    await load(url)
    engine = create_engine(url, pool=False)
    async with engine.begin() as conn:
        _, token = await create_key(conn, "alice", "editor")
    await engine.dispose()
    app: Litestar = create_app(Settings(database_url=url, rate_limit_per_minute=0))
    async with AsyncTestClient(app=app) as client:
        yield client, {"Authorization": f"Bearer {token}"}


async def test_a_deleted_record_leaves_the_place(writer: tuple[Client, dict[str, str]]) -> None:
    client, auth = writer
    metric = "/v1/metrics/mao-zhen-xing-nian-ling"
    etag = (await client.get(metric)).headers["etag"]
    deleted = await client.delete(metric, headers=auth | {"If-Match": etag})
    assert deleted.status_code == 204, deleted.text
    place: dict[str, Any] = (await client.get("/v1/places/sun-keng-cun")).json()
    assert ("metrics", "mao-zhen-xing-nian-ling") not in {
        (r["resource"], r["id"]) for r in place["records"]
    }


async def test_display_names_drop_quotation_marks(client: Client) -> None:
    """Each display name the second reading wrote down (seed/pending/names.yaml) is served, and a
    name without quotation marks is its own display name."""
    import yaml

    names = yaml.safe_load((ROOT / "seed" / "pending" / "names.yaml").read_text(encoding="utf-8"))
    expected = {(n["resource"], n["id"]): n["display_name"] for n in names["display_names"]}
    for resource in ("organisations", "initiatives"):
        for record in await all_pages(client, f"/v1/{resource}"):
            want = expected.get((resource, record["id"]), record["name"])
            assert record["display_name"] == want, record["id"]
    found = await get_json(client, "/v1/organisations?q=龙泉守护红色根脉党建联盟")
    assert "long-quan-shou-hu-hong-se-gen-mai" in {o["id"] for o in found["data"]}
