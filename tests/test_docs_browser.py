"""End to end in headless Chromium: Swagger UI runs a real request, ReDoc lists the operations.

Both pages must work offline: every request the browser makes goes to the service itself.
Screenshots land in `tests/artifacts/` (gitignored) for a human to look at.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Flags for Chromium on a machine whose only network is loopback (no background fetches).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


@pytest.fixture
def page(browser: Browser, live_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    # blob: URLs of this origin are in-page (ReDoc's search worker); anything else is remote,
    # unless the page's Content-Security-Policy stopped it before it left the browser.
    local = (live_url, "blob:" + live_url, "data:")
    foreign: list[str] = []
    blocked: set[str] = set()
    page.on(
        "request",
        lambda request: None if request.url.startswith(local) else foreign.append(request.url),
    )
    page.on(
        "requestfailed",
        lambda request: blocked.add(request.url) if request.failure == "csp" else None,
    )
    try:
        yield page
    finally:
        context.close()
    escaped = [url for url in foreign if url not in blocked]
    assert not escaped, f"the page reached outside the service (CDN, fonts?): {escaped}"


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _operation_summaries(live_url: str) -> list[str]:
    spec = _get(live_url + "/schema/openapi.json")
    return [op["summary"] for item in spec["paths"].values() for op in item.values()]


def clear_example_filters(block: Locator) -> None:
    """Empty the filter inputs that Swagger UI pre-fills from the parameters' examples.

    Left as they are, `region=X` and `region__not=X` are both sent and the page is empty; a
    person trying the endpoint clears them the same way.
    """
    for row in block.locator("tr[data-param-name]").all():
        name = row.get_attribute("data-param-name")
        if name in {"limit", "sort", "count", "cursor"}:
            continue
        cell = row.locator("td.parameters-col_description")
        remove = cell.locator("button.json-schema-form-item-remove")
        while remove.count():
            remove.first.click()
        for field in cell.locator("input[type=text]").all():
            field.fill("")
        for select in cell.locator("select:not(.examples-select-element)").all():
            if select.evaluate("e => e.multiple"):
                # Untouched (no example), it is not sent: selecting every value would filter out
                # the records where the field is null (`unit_code__in`, `qualifier_code__in`).
                if not select.evaluate("e => e.selectedOptions.length"):
                    continue
                # An emptied multi-select is [] to Swagger UI, which fails minItems; every value
                # of a pre-filled one (facet, fields, expand) is the same as the default.
                options = select.locator("option").all()
                select.select_option([o.get_attribute("value") or "" for o in options])
            else:
                select.select_option("")


def test_swagger_ui_executes_a_list_request(page: Page, live_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    first_page = _get(live_url + "/v1/metrics")["data"]
    page.goto(live_url + "/docs")

    # The operation list: one block per operation in the spec.
    page.locator(".opblock").first.wait_for()
    summaries = _operation_summaries(live_url)
    assert page.locator(".opblock").count() == len(summaries)
    block = page.locator("#operations-Metrics-listMetrics")
    block.locator(".opblock-summary").first.click()

    # "Try it out" (already on when tryItOutEnabled is set) and "Execute".
    try_out = block.locator("button.try-out__btn")
    if try_out.count() and try_out.first.inner_text().strip() == "Try it out":
        try_out.first.click()
    clear_example_filters(block)
    block.locator("button.execute").click()

    body = block.locator(".live-responses-table .response-col_description pre.microlight").first
    body.wait_for()
    text = body.inner_text()
    assert "1.34亿元" in text  # a known seeded figure (强村公司利润)
    assert first_page[0]["id"] in text
    request_url = block.locator(".request-url pre").first.inner_text()
    assert request_url.startswith(live_url + "/v1/metrics"), request_url
    status = block.locator(".live-responses-table .response .response-col_status").first
    assert status.inner_text().strip().startswith("200")
    block.locator(".live-responses-table").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "swagger-ui-execute.png"), full_page=False)


def test_redoc_lists_the_operations(page: Page, live_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(live_url + "/docs/redoc")
    summaries = _operation_summaries(live_url)
    # ReDoc renders a menu entry (`get` + summary) and an h2 per operation once the spec loads.
    menu = page.get_by_role("menuitem")
    menu.filter(has_text=summaries[-1]).first.wait_for()
    entries = " ".join(menu.all_text_contents())
    headings = {text.strip() for text in page.locator("h2").all_text_contents()}
    for summary in summaries:
        assert summary in entries, summary
        assert summary in headings, summary
    assert page.get_by_text("Lishui Common Prosperity Open Data API").first.is_visible()
    page.get_by_role("menuitem").filter(has_text="List metrics").first.click()
    page.screenshot(path=str(ARTIFACTS / "redoc.png"), full_page=False)
