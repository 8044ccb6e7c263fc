"""The systems list in Chromium: live search, sorting headers, and cards on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.test_browser import SCREENSHOTS, live_server, sign_in  # noqa: F401 - fixtures
from tests.test_system_list import listing  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

ROWS = "table.system-list tbody tr"


def test_the_list_updates_as_one_types_and_keeps_the_address(
    page: Page,
    live_server: str,  # noqa: F811 - the fixture imported above
    listing,  # noqa: F811
    make_user,
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    make_user("auditor", username="reader")
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "reader")
    expect(page.locator(ROWS)).to_have_count(3)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Tìm kiếm").press_sequentially("van ban", delay=30)
    expect(page).to_have_url(re.compile(r"/systems/\?q=van\+ban$"))
    expect(page.locator(ROWS).first).to_contain_text("Văn bản điện tử")
    expect(page.locator(ROWS).last).to_contain_text("Cơ sở dữ liệu nghiên cứu lý luận")
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in place, not reloaded
    expect(page.locator("#results-heading")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#export-menu a").first).to_have_attribute(
        "href", re.compile(r"q=van\+ban&sort=relevance")
    )
    page.screenshot(path=str(SCREENSHOTS / "systems-live-search.png"), full_page=True)

    # A header sorts: the most open findings first, then back the other way.
    page.get_by_role("link", name="Phát hiện đang mở").click()
    expect(page).to_have_url(re.compile(r"sort=-findings"))
    expect(page.locator(ROWS).first).to_contain_text("Quản lý văn thư và bản lưu")
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Phát hiện đang mở")

    page.get_by_label("Tìm kiếm").fill("nghien cuu")
    expect(page.locator(ROWS)).to_have_count(1)
    page.get_by_label("Tìm kiếm").fill("khong co he thong nao nhu the")
    expect(page.locator("#results-heading")).to_contain_text("Không có hệ thống nào")
    expect(page.locator(ROWS)).to_have_count(0)


def test_without_javascript_the_button_still_searches(
    browser: Browser,
    live_server: str,  # noqa: F811
    listing,  # noqa: F811
    make_user,
) -> None:
    make_user("auditor", username="reader")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "reader")
    page.get_by_label("Tìm kiếm").fill("van ban")
    page.get_by_role("button", name="Lọc", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=van\+ban"))
    expect(page.locator(ROWS).first).to_contain_text("Văn bản điện tử")
    context.close()


def test_on_a_phone_each_system_is_a_card(
    page: Page,
    live_server: str,  # noqa: F811
    listing,  # noqa: F811
    make_user,
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    make_user("auditor", username="reader")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "reader", next_path="/systems/?sort=-findings")
    first = page.locator(ROWS).first
    expect(first).to_be_visible()
    assert first.evaluate("row => getComputedStyle(row).display") == "block"
    findings = first.locator("td[data-findings]")
    assert findings.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Phát hiện đang mở: "'
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".table-responsive").evaluate("box => box.scrollWidth - box.clientWidth") <= 0
    page.screenshot(path=str(SCREENSHOTS / "systems-list-phone.png"), full_page=True)


def test_keyboard_focus_and_menu_links_stand_out(
    page: Page,
    live_server: str,  # noqa: F811
    listing,  # noqa: F811
    make_user,
) -> None:
    make_user("auditor", username="reader")
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "reader")
    page.get_by_label("Tìm kiếm").focus()
    page.keyboard.press("Shift+Tab")
    export = page.locator("[data-export-menu]")
    expect(export).to_be_focused()
    ring = export.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert ring == ["solid", "3px", "rgb(10, 58, 130)"]
    page.screenshot(path=str(SCREENSHOTS / "systems-export-focus.png"))
    inactive = page.locator("[data-menu=main] a.nav-link:not(.active)").first
    # 85 % white on the red bar is 7:1; Bootstrap's 55 % was 4.1:1.
    assert inactive.evaluate("a => getComputedStyle(a).color") == "rgba(255, 255, 255, 0.85)"
