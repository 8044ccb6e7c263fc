"""The Export menu in a real Chromium: the inventory as of a date, the logs, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import SCREENSHOTS, live_server, portfolio, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_the_export_menu_downloads_the_inventory_as_of_a_date(
    page: Page,
    live_server: str,  # noqa: F811 - the fixture imported above
    portfolio,  # noqa: F811
    make_user,
):
    SCREENSHOTS.mkdir(exist_ok=True)
    make_user("auditor", username="kiemtoan")
    sign_in(page, live_server, "kiemtoan", "/systems/?level=province")
    page.get_by_role("button", name="Xuất dữ liệu").click()
    menu = page.locator(".dropdown-menu.show")
    for label in ("Danh mục tại một ngày trong quá khứ", "Nhật ký quyết định", "Cảnh báo trùng lặp"):
        expect(menu.get_by_text(label, exact=True)).to_be_visible()
    expect(menu.get_by_text("Nhật ký kiểm toán kèm mã băm chuỗi")).to_be_visible()
    page.get_by_label("Danh mục tại một ngày trong quá khứ").fill(datetime.now(UTC).date().isoformat())
    page.screenshot(path=str(SCREENSHOTS / "export-menu.png"), full_page=False)
    with page.expect_download() as download:
        menu.locator("[data-export-as-of]").get_by_role("button", name="CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert "as_of=" in text.splitlines()[0] and "level=province" in text.splitlines()[0]
    assert portfolio.province.code in text and text.count("\n") == 3  # metadata, header, one system


def test_the_as_of_export_without_a_date_says_so_beside_the_field(
    page: Page,
    live_server: str,  # noqa: F811 - the fixture imported above
    portfolio,  # noqa: F811
    make_user,
):
    """It used to do nothing: the required date sat in a menu the submit had closed."""
    SCREENSHOTS.mkdir(exist_ok=True)
    make_user("auditor", username="kiemtoan")
    sign_in(page, live_server, "kiemtoan", "/systems/?level=province")
    for width, height in ((1400, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/systems/?level=province")
        page.get_by_role("button", name="Xuất dữ liệu").click()
        page.locator(".dropdown-menu.show [data-export-as-of]").get_by_role("button", name="XLSX").click()
        field = page.get_by_label("Ngày", exact=True)
        expect(field).to_be_visible()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(page.locator("[data-as-of-error]")).to_have_text("Hãy chọn ngày mà danh mục cần thể hiện.")
        assert "level=province" in page.url
        field.fill("2001-01-01")
        page.get_by_role("button", name="Tải về CSV").click()
        expect(page.locator("[data-as-of-error]")).to_contain_text("Nhật ký kiểm toán bắt đầu từ ngày")
        page.screenshot(path=str(SCREENSHOTS / f"export-as-of-{width}.png"), full_page=True)
        field = page.get_by_label("Ngày", exact=True)
        field.fill(datetime.now(UTC).date().isoformat())
        with page.expect_download() as download:
            page.get_by_role("button", name="Tải về CSV").click()
        text = download.value.path().read_text(encoding="utf-8-sig")
        assert "as_of=" in text.splitlines()[0] and "level=province" in text.splitlines()[0]
