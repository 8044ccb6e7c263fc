"""The browsable API documentation in a real Chromium, under the registry's strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import SCREENSHOTS, live_server, portfolio, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_the_docs_render_every_operation_and_try_one_out(
    page: Page,
    live_server: str,  # noqa: F811
    portfolio,  # noqa: F811
    make_user,
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    user = make_user("auditor")
    sign_in(page, live_server, user.username, next_path="/account/")
    page.get_by_role("link", name="Tài liệu API").click()
    expect(page).to_have_url(re.compile(r"/api/v1/docs$"))
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    document = page.request.get(f"{live_server}/api/v1/openapi.json").json()
    expected = sum(len(item) for item in document["paths"].values())
    expect(operations).to_have_count(expected)
    expect(page.locator('.opblock-summary-path[data-path="/api/v1/systems/{code}"]').first).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))

    # "Try it out" sends the session cookie: the auditor lists the portfolio.
    listing = page.locator("#operations-systems-systems_list")
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    expect(listing.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    assert problems == []
