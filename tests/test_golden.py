"""Wire format pinned byte for byte: one detail record per resource, and one export as CSV and
NDJSON, against files in tests/golden/ (numbers, nulls, spans, key order, escaping).

Both database backends must produce the same bytes. After an intended change of the wire
format, regenerate the files and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py

List envelopes are not pinned here (their links depend on the deployment's base URL).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Client

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXPORT = "/v1/metrics?article=kua-shan-duo-lian-dang-jian-lian-meng&sort=-value"

# file name -> (URL, media type). Records chosen for nulls with reasons, non-integral and
# integral numbers, spans, repairs, contributors, mentions and nested regions.
PINNED = {
    "article.json": ("/v1/articles/kua-shan-duo-lian-dang-jian-lian-meng", "application/json"),
    "document.json": ("/v1/documents/lishui-2022-08-page", "application/json"),
    "initiative.json": ("/v1/initiatives/gong-fu-gong-fang", "application/json"),
    "metric.json": (
        "/v1/metrics/qiang-cun-gong-si-li-run-tong-bi-zeng-zhang",
        "application/json",
    ),
    "metric-integral.json": ("/v1/metrics/qiang-cun-gong-si-li-run", "application/json"),
    "organisation.json": (
        "/v1/organisations/tai-long-yin-hang-li-shui-fen-hang",
        "application/json",
    ),
    "region.json": ("/v1/regions/li-shui-jing-kai-qu", "application/json"),
    "metrics-export.csv": (f"{EXPORT}&format=csv", "text/csv; charset=utf-8"),
    "metrics-export.ndjson": (f"{EXPORT}&format=ndjson", "application/x-ndjson"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
async def test_wire_bytes_are_pinned(client: Client, name: str) -> None:
    url, media_type = PINNED[name]
    response = await client.get(url)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == media_type
    path = GOLDEN / name
    if UPDATE and (not path.exists() or path.read_bytes() != response.content):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(response.content)
    assert path.exists(), f"missing {path}: run UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_bytes()
    assert response.content == expected, _first_difference(response.content, expected)


async def test_export_by_accept_header_is_the_same_bytes(client: Client) -> None:
    pairs = (("metrics-export.csv", "text/csv"), ("metrics-export.ndjson", "application/x-ndjson"))
    for name, accept in pairs:
        response = await client.get(EXPORT, headers={"Accept": accept})
        assert response.content == (GOLDEN / name).read_bytes(), name


def _first_difference(got: bytes, expected: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    return f"first difference at byte {at}: got {got[at - 40 : at + 40]!r}, pinned {expected[at - 40 : at + 40]!r}"


async def test_integral_values_print_without_a_fraction(client: Client) -> None:
    detail = await client.get("/v1/metrics/qiang-cun-gong-si-li-run")
    assert b'"value":134000000,' in detail.content
    export = await client.get("/v1/metrics?id__in=dang-jian-lian-meng-shu-liang&format=csv")
    assert ",682,个," in export.text
