"""Scorecards in a real Chromium: the ranking, one agency's scorecard and its print view, at
desktop and phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import SCREENSHOTS, live_server, sign_in

pytestmark = pytest.mark.browser
__all__ = ["live_server"]  # the fixture, imported for pytest

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def communes(make_agency, make_system):
    province = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    for number, name in enumerate(("Đảng ủy xã Hưng Nguyên", "Đảng ủy phường Vinh", "Đảng ủy xã Nam Đàn")):
        commune = make_agency(
            code=f"DU-NAN-{number}", name=name, level="commune", block="locality", parent_id=province.id
        )
        for _ in range(2 - number):  # the last commune registers nothing
            make_system(
                name=f"Phần mềm một cửa {name}",
                description="Tiếp nhận và trả kết quả hồ sơ.",
                status="in_operation",
                scope_level="commune",
                owner_agency_id=commune.id,
                legal_basis="Quyết định 204-QĐ/TW",
                target_users=100,
                active_users=40 * (number + 1),
                estimated_cost_vnd=120_000_000,
            )
    return province


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_open_the_ranking_a_scorecard_and_its_print_view(
    page: Page, live_server: str, make_user, communes, viewport
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    size = "desktop" if viewport is DESKTOP else "phone"
    page.set_viewport_size(viewport)
    user = make_user("reviewer")
    sign_in(page, live_server, user.username, next_path="/scorecards?level=commune")

    expect(page.get_by_role("heading", name="Phiếu đánh giá cơ quan")).to_be_visible()
    rows = page.locator("[data-ranking] tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.last).to_contain_text("Chưa đăng ký hệ thống")
    expect(rows.first.locator("td").first).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / f"scorecards-ranking-{size}.png"), full_page=True)
    rows.first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"scorecards-ranking-{size}-table.png"))

    page.get_by_role("link", name="Đảng ủy phường Vinh").click()
    expect(page.get_by_role("heading", name="Đảng ủy phường Vinh")).to_be_visible()
    figure = "[data-figures] [data-indicator={}] [data-value]".format
    expect(page.locator(figure("active_user_rate"))).to_have_text("80,0%")  # 80 of 100 target users
    expect(page.locator(figure("usage_reporting"))).to_have_text("0,0%")  # in operation, never reported
    expect(page.get_by_text("Cách tính từng chỉ số")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"scorecards-detail-{size}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"scorecards-detail-{size}-first-screen.png"))

    page.get_by_role("link", name="Trang để in").click()
    expect(page.get_by_role("button", name="In")).to_be_visible()
    expect(page.locator("[data-menu=main]")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / f"scorecards-print-screen-{size}.png"), full_page=True)

    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="In")).to_be_hidden()
    expect(page.get_by_role("heading", name="Định nghĩa")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"scorecards-print-{size}.png"), full_page=True)
    if size == "desktop":
        pdf = page.pdf(format="A4", print_background=True)
        assert _pages(pdf) == 1  # the scorecard and its definitions fit one A4 sheet


def _pages(pdf: bytes) -> int:
    """How many pages Chromium printed: counts page objects, not the page tree."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
