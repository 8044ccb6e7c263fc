"""The dashboard in a real Chromium: figures, a bar that opens its list, the table, a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import SCREENSHOTS, live_server, sign_in  # noqa: F401 - fixtures
from tests.test_dashboard import portfolio  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_the_dashboard_opens_the_list_behind_a_bar(
    page: Page,
    live_server: str,  # noqa: F811 - the fixture imported above
    portfolio,  # noqa: F811
    make_user,
):
    SCREENSHOTS.mkdir(exist_ok=True)
    make_user("auditor", username="kiemtoan")
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "kiemtoan", "/")
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    expect(page.locator('[data-figure="systems"]')).to_have_text("5")
    status = page.locator('[data-chart="status"]')
    status.get_by_text("Xem số liệu dạng bảng").click()
    expect(status.get_by_role("row", name="Đang vận hành 3")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)
    status.locator('a.bar-row[data-bar="in_operation"]').click()
    expect(page).to_have_url(f"{live_server}/systems/?status=in_operation")
    expect(page.locator("table.system-list tbody tr")).to_have_count(3)


def test_the_dashboard_fits_a_phone(
    page: Page,
    live_server: str,  # noqa: F811
    portfolio,  # noqa: F811
    make_user,
):
    SCREENSHOTS.mkdir(exist_ok=True)
    make_user("reviewer", username="thuongtruc")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "thuongtruc", "/")
    expect(page.get_by_role("heading", name="Đề xuất chờ lâu nhất")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
