"""People's journeys in a real Chromium: sign in, see one's menus, list, filter, open, register."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from registry.db import get_engine
from registry.factory import create_app
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The same database as ``app``, served with CSRF on, as in production."""
    served = create_app({**app.config, "WTF_CSRF_ENABLED": True, "TESTING": True})
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    get_engine(served).dispose()


@pytest.fixture
def portfolio(make_agency, make_capability, make_system):
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    province = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    docs = make_capability(code="document_management", name="Quản lý văn bản", name_en="Document management")
    platform = make_system(
        name="Hệ thống điều hành tác nghiệp",
        description="Quản lý văn bản và điều hành dùng chung của các cơ quan Đảng.",
        status="in_operation",
        is_shared_platform=True,
        owner_agency_id=central.id,
        capability_ids=[docs.id],
    )
    make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An",
        description="Văn bản đến, văn bản đi của Tỉnh ủy.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=province.id,
        capability_ids=[docs.id],
    )
    make_system(name="Cổng thông tin điện tử", description="Tin tức.", owner_agency_id=central.id)
    return SimpleNamespace(platform=platform, province=province)


def sign_in(page: Page, live_server: str, username: str, next_path: str = "/systems/") -> None:
    page.goto(f"{live_server}{next_path}")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


MENUS = {
    "submitter": ["Hệ thống", "Cơ quan", "Đăng ký hệ thống"],
    "reviewer": ["Hệ thống", "Cơ quan", "Hàng chờ thẩm định"],
    "auditor": ["Hệ thống", "Cơ quan", "Nhật ký kiểm toán"],
    "admin": ["Hệ thống", "Cơ quan", "Đăng ký hệ thống", "Nhật ký kiểm toán", "Người dùng"],
}


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_sees_its_own_menus(page: Page, live_server: str, portfolio, make_user, make_agency, role):
    SCREENSHOTS.mkdir(exist_ok=True)
    agency = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    user = make_user(role, username=f"demo-{role}", agency_id=agency.id if role == "submitter" else None)
    sign_in(page, live_server, user.username)
    expect(page.get_by_role("heading", name="Hệ thống thông tin")).to_be_visible()
    menu = page.locator("[data-menu=main] a.nav-link")
    expect(menu).to_have_text(MENUS[role])
    expect(page.locator(f"[data-account='{user.username}']")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"menus-{role}.png"))
    if role == "auditor":
        page.get_by_role("link", name="Nhật ký kiểm toán").click()
        expect(page.locator("table tbody tr").first).to_contain_text("Tạo tài khoản")
        page.screenshot(path=str(SCREENSHOTS / "audit.png"), full_page=True)
        page.get_by_role("link", name="Kiểm tra chuỗi").click()
        expect(page.get_by_role("status")).to_contain_text("Chuỗi còn nguyên vẹn.")
    page.locator(f"[data-account='{user.username}']").click()
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(page.locator("[data-menu=main] a.nav-link")).to_have_count(0)


def test_wrong_password_in_the_browser(page: Page, live_server: str, make_user) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    user = make_user("reviewer")
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill("not my password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    expect(page.get_by_label("Mật khẩu")).to_have_value("")
    page.screenshot(path=str(SCREENSHOTS / "login-error.png"))


def test_list_filter_open_and_register(page: Page, live_server: str, portfolio, make_user) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    submitter = make_user("submitter", username="nghean", agency_id=portfolio.province.id)
    sign_in(page, live_server, submitter.username)
    expect(page.get_by_role("heading", name="Hệ thống thông tin")).to_be_visible()
    expect(page.locator("table.system-list tbody tr")).to_have_count(3)

    page.get_by_label("Tìm kiếm").fill("van ban")
    page.get_by_label("Cấp phạm vi").select_option("province")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("table.system-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Phần mềm quản lý văn bản Tỉnh ủy Nghệ An")
    page.screenshot(path=str(SCREENSHOTS / "list-filtered.png"), full_page=True)

    page.get_by_role("link", name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phần mềm quản lý văn bản Tỉnh ủy Nghệ An")
    expect(page.get_by_text("Tỉnh ủy Nghệ An", exact=True).first).to_be_visible()
    expect(page.get_by_text("Chưa khai báo").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "detail.png"), full_page=True)

    page.get_by_role("link", name="Đăng ký hệ thống").first.click()
    page.get_by_label("Tên", exact=True).fill("Ứng dụng sổ tay đảng viên Nghệ An")
    page.get_by_label("Cấp phạm vi").select_option("province")
    page.get_by_label("Cơ quan chủ quản").select_option(label="Tỉnh ủy Nghệ An")
    page.get_by_label("Kinh phí dự kiến (đồng)").fill("1.200.000.000")
    page.get_by_role("button", name="Đăng ký", exact=True).click()

    expect(page.get_by_role("alert")).to_contain_text("Hệ thống chưa được lưu")
    expect(page.locator("#description-error")).to_contain_text("Hãy mô tả")
    expect(page.get_by_label("Mô tả", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Kinh phí dự kiến (đồng)")).to_have_value("1.200.000.000")
    page.screenshot(path=str(SCREENSHOTS / "form-errors.png"), full_page=True)

    page.get_by_label("Mô tả", exact=True).fill("Tra cứu văn kiện, sinh hoạt chi bộ trên điện thoại.")
    page.get_by_role("button", name="Đăng ký", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Đã đăng ký hệ thống HTTT-")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ứng dụng sổ tay đảng viên Nghệ An")
    expect(page.get_by_text("1.200.000.000")).to_be_visible()
    expect(page.locator("[data-rule=R1]")).to_contain_text("Không có căn cứ pháp lý")

    # Submitting an incomplete draft shows, on the form, what the review needs.
    page.get_by_role("button", name="Gửi thẩm định").click()
    expect(page.get_by_role("alert").first).to_contain_text("Chưa thể gửi đề xuất")
    expect(page.locator("#legal_basis-error")).to_contain_text("Bắt buộc đối với đề xuất gửi thẩm định")
    page.goto(page.url.replace("/workflow/submit", ""))

    page.get_by_role("link", name="Lịch sử").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Lịch sử của Ứng dụng sổ tay đảng viên Nghệ An"
    )
    expect(page.locator("li.card").first).to_contain_text("nghean")
    page.screenshot(path=str(SCREENSHOTS / "history.png"), full_page=True)


def test_language_switch_in_the_browser(page: Page, live_server: str, portfolio, make_user) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in_en = make_user("auditor")
    page.get_by_label("Username").fill(sign_in_en.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/systems/{portfolio.platform.code}")
    expect(page.get_by_role("heading", name="Governance")).to_be_visible()
    expect(page.get_by_role("link", name="Document management")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
