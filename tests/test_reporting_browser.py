"""In Chromium: a submitter files their agency's part of a round; the standing office sees it done."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from registry.services import reporting
from registry.services.reporting import RoundInput
from tests.conftest import OPERATOR
from tests.test_browser import SCREENSHOTS, live_server, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture
def round_world(session, make_agency, make_system, make_user):
    own = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    other = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    systems = [
        make_system(
            name="Cổng thông tin điện tử Tỉnh ủy Thanh Hóa",
            description="Tin tức, văn bản chỉ đạo của Tỉnh ủy.",
            owner_agency_id=own.id,
            status="in_operation",
            target_users=3000,
        ),
        make_system(
            name="Hệ thống quản lý hồ sơ đảng viên Thanh Hóa",
            description="Quản lý hồ sơ đảng viên của Đảng bộ tỉnh.",
            owner_agency_id=own.id,
            status="in_operation",
        ),
    ]
    make_system(name="Quản lý văn bản Nghệ An", owner_agency_id=other.id, status="in_operation")
    make_user("submitter", username="thanhhoa", agency_id=own.id)
    make_user("reviewer", username="thuongtruc")
    round_ = reporting.open_round(
        session,
        RoundInput(
            title="Báo cáo sử dụng quý III/2026",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            deadline=date.today() + timedelta(days=10),
            agency_ids=(own.id, other.id),
        ),
        actor=OPERATOR,
    )
    session.commit()
    return round_, systems


@pytest.mark.parametrize("size", list(SIZES))
def test_a_submitter_files_a_round_in_the_browser(page: Page, live_server: str, round_world, size):  # noqa: F811
    SCREENSHOTS.mkdir(exist_ok=True)
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    round_, systems = round_world
    sign_in(page, live_server, "thanhhoa", next_path="/reporting/")
    expect(page.get_by_role("heading", name="Đợt báo cáo", exact=True)).to_be_visible()
    page.get_by_role("link", name="Phần của cơ quan bạn").click()
    expect(page.get_by_role("heading", name="Tỉnh ủy Thanh Hóa", exact=True)).to_be_visible()
    expect(page.locator("[data-progress-text]")).to_contain_text("0/2 hệ thống đã xác nhận")

    for index, system in enumerate(systems):
        item = page.locator(f"[data-system='{system.code}']")
        item.get_by_role("button", name="Xác nhận hồ sơ").click()
        item = page.locator(f"[data-system='{system.code}']")
        expect(item.locator("[data-attested]")).to_contain_text("Xác nhận đúng")
        item.get_by_role("link", name="Báo cáo sử dụng").click()
        expect(page.get_by_label("Từ ngày")).to_have_value("2026-07-01")
        page.get_by_label("Người dùng thực tế").fill(f"{1200 + index * 300}")
        page.get_by_label("Số giao dịch", exact=True).fill("45.000")
        page.get_by_label("Chi phí vận hành (đồng)").fill("350.000.000")
        if index == 0:
            page.screenshot(path=str(SCREENSHOTS / f"reporting-usage-form-{size}.png"), full_page=True)
        page.get_by_role("button", name="Lưu báo cáo sử dụng").click()
        expect(page.get_by_role("status").first).to_contain_text("Đã lưu báo cáo sử dụng")

    expect(page.locator("[data-progress-text]")).to_contain_text("2/2 hệ thống đã xác nhận")
    expect(page.locator("[data-progress-text]")).to_contain_text("Hoàn thành lúc")
    expect(page.get_by_role("progressbar", name="Tiến độ của cơ quan")).to_have_attribute("value", "100")
    page.screenshot(path=str(SCREENSHOTS / f"reporting-agency-{size}.png"), full_page=True)

    page.goto(f"{live_server}/systems/{systems[0].code}")
    chart = page.locator("[data-usage-chart] svg[data-series='active_users']")
    expect(chart).to_be_visible()
    page.locator("#usage").scroll_into_view_if_needed()
    page.locator("#usage").screenshot(path=str(SCREENSHOTS / f"reporting-system-usage-{size}.png"))

    page.context.clear_cookies()
    sign_in(page, live_server, "thuongtruc", next_path=f"/reporting/{round_.id}")
    row = page.locator("[data-agency='TU-THA']")
    expect(row.locator("[data-state]")).to_have_text("Đã hoàn thành")
    expect(page.locator("[data-agency='TU-NAN'] [data-state]")).to_have_text("Chưa bắt đầu")
    expect(page.locator("[data-count='not_reported'] .fs-4")).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / f"reporting-round-{size}.png"), full_page=True)
