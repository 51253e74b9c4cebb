"""Conditional requests and merge patches at the edges the other tests leave open: entity-tag
lists without spaces and weak tags in If-None-Match (RFC 9110 §13.1.2, weak comparison),
nested merge patches (RFC 7386) and patch values of the wrong shape."""

from __future__ import annotations

from tests.helpers import Client
from tests.test_writes import Env, env  # noqa: F401  (the writable app fixture)


async def tag_of(client: Client, url: str) -> str:
    response = await client.get(url)
    assert response.status_code == 200
    return response.headers["etag"]


async def test_if_none_match_lists_and_weak_tags(client: Client) -> None:
    url = "/v1/regions/li-shui-shi"
    tag = await tag_of(client, url)
    for header, status in (
        (f'"other",{tag}', 304),  # a list needs no space after the comma
        (f'"other" , {tag}', 304),
        (f"W/{tag}", 304),  # If-None-Match compares weakly
        ('"other"', 200),
        (f'W/"x{tag[1:]}', 200),
    ):
        response = await client.get(url, headers={"If-None-Match": header})
        assert response.status_code == status, header


async def test_nested_merge_patch_keeps_siblings(env: Env) -> None:  # noqa: F811
    body, tag = await env.create(
        "organisations",
        {"name": "合并补丁测试", "kind": "company", "null_reasons": {"region": "unknown"}},
    )
    path = f"/v1/organisations/{body['id']}"
    patched = await env.client.patch(
        path, json={"null_reasons": {"parent": "none"}}, headers=env.auth(**{"If-Match": tag})
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["null_reasons"] == {"region": "unknown", "parent": "none"}
    # Removing a key that is not there is no error.
    again = await env.client.patch(
        path,
        json={"null_reasons": {"name_en": None}},
        headers=env.auth(**{"If-Match": patched.headers["etag"]}),
    )
    assert again.status_code == 200, again.text
    assert again.json()["null_reasons"] == {"region": "unknown", "parent": "none"}
    # An object where a string belongs is a client error, not a crash.
    wrong = await env.client.patch(
        path, json={"name_en": {"x": "y"}}, headers=env.auth(**{"If-Match": "*"})
    )
    assert wrong.status_code == 400, wrong.text
