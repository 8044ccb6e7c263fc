"""People's journeys in a real Chromium: sign in, see one's menus, list, filter, open, register."""

from __future__ import annotations

import re
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


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a searchable multiple choice with the keyboard: type, then Enter."""
    page.get_by_role("combobox", name=label).focus()
    page.keyboard.type(option)
    # The list narrows a moment after the last keystroke; Enter picks the highlighted option.
    expect(page.get_by_role("listbox", name=label).locator(".option.active")).to_have_text(option)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


MENUS = {
    "submitter": ["Tổng quan", "Hệ thống", "Cơ quan", "Báo cáo", "Đăng ký hệ thống", "Nhập dữ liệu"],
    "reviewer": ["Tổng quan", "Hệ thống", "Cơ quan", "Báo cáo", "Hàng chờ thẩm định"],
    "auditor": ["Tổng quan", "Hệ thống", "Cơ quan", "Báo cáo", "Nhật ký kiểm toán"],
    "admin": [
        "Tổng quan",
        "Hệ thống",
        "Cơ quan",
        "Báo cáo",
        "Đăng ký hệ thống",
        "Nhập dữ liệu",
        "Nhật ký kiểm toán",
    ],
}
ANALYSIS = ["Phiếu đánh giá cơ quan", "Trùng lặp", "Sơ đồ phụ thuộc"]


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_sees_its_own_menus(page: Page, live_server: str, portfolio, make_user, make_agency, role):
    SCREENSHOTS.mkdir(exist_ok=True)
    agency = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    user = make_user(role, username=f"demo-{role}", agency_id=agency.id if role == "submitter" else None)
    sign_in(page, live_server, user.username)
    expect(page.get_by_role("heading", name="Hệ thống thông tin")).to_be_visible()
    menu = page.locator("[data-menu=main] a.nav-link")
    expect(menu).to_have_text(MENUS[role])
    page.locator("[data-menu=analysis] button").click()
    expect(page.locator("[data-menu=analysis] a.dropdown-item")).to_have_text(ANALYSIS)
    expect(page.locator(f"[data-account='{user.username}']")).to_be_visible()
    expect(page.locator("[data-menu-item=users]")).to_have_count(1 if role == "admin" else 0)
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


def test_a_duplicate_proposal_is_justified_reviewed_and_rejected(
    page: Page, live_server: str, make_agency, make_capability, make_system, make_user
) -> None:
    """The journey of the review workflow, from the agency's draft to the standing office's decision."""
    SCREENSHOTS.mkdir(exist_ok=True)
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    nghe_an = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    gia_lai = make_agency(code="TU-GLI", name="Tỉnh ủy Gia Lai", level="province", block="locality")
    existing = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An",
        description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc của Tỉnh ủy.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=nghe_an.id,
        capability_ids=[docs.id],
    )
    make_system(
        name="Cổng thông tin điện tử",
        description="Tin tức.",
        status="in_operation",
        owner_agency_id=nghe_an.id,
    )
    hue = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    make_system(
        name="Hệ thống QLVB và điều hành Thành ủy Huế",
        description="Văn bản đến, văn bản đi và hồ sơ công việc của các cơ quan Thành ủy.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=hue.id,
        capability_ids=[docs.id],
    )
    make_user("submitter", username="gialai", agency_id=gia_lai.id)
    make_user("reviewer", username="thuongtruc")

    sign_in(page, live_server, "gialai", "/systems/new")
    page.get_by_label("Tên", exact=True).fill("Phần mềm quản lý văn bản Tỉnh ủy Gia Lai")
    page.get_by_label("Mô tả", exact=True).fill("Quản lý văn bản đến, văn bản đi, hồ sơ công việc.")
    # The live panel shows the province's existing system while the proposal is being typed.
    live = page.locator("#similar-panel [data-similar-item]").first
    # The first query builds the overlap index; on a busy machine that outlasts the default 5 s.
    expect(live).to_contain_text(existing.name, timeout=20_000)
    expect(live.locator("[data-field=reuse]")).to_have_text("Đề xuất dùng lại hệ thống này")
    page.screenshot(path=str(SCREENSHOTS / "form-live-panel.png"), full_page=True)
    page.get_by_label("Cấp phạm vi").select_option("province")
    page.get_by_label("Đơn vị vận hành").select_option(label="Tỉnh ủy Gia Lai")
    choose(page, "Cơ quan sử dụng", "Tỉnh ủy Gia Lai")
    page.get_by_label("Căn cứ pháp lý").fill("Quyết định 204-QĐ/TW")
    page.get_by_label("Nhiệm vụ, yêu cầu phục vụ").fill("Kế hoạch chuyển đổi số 2026 của Tỉnh ủy")
    page.get_by_label("Định hướng sử dụng").fill("Dùng cho các cơ quan Tỉnh ủy")
    page.get_by_label("Cấp độ an toàn").select_option("3")
    page.get_by_label("Số người dùng dự kiến").fill("800")
    choose(page, "Chức năng", "Quản lý văn bản")
    page.get_by_role("button", name="Đăng ký", exact=True).click()
    expect(page.locator("#overlaps")).to_contain_text(existing.name)

    page.get_by_role("button", name="Gửi thẩm định").click()
    expect(page.locator("#overlap_justification-error")).to_contain_text("hãy giải trình")
    page.get_by_label("Giải trình về trùng lặp").fill(
        "Phần mềm của Nghệ An không kết nối được với hệ thống của tỉnh."
    )
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.get_by_role("button", name="Gửi thẩm định").click()
    expect(page.get_by_role("status")).to_contain_text("Đã gửi")
    page.locator("[data-account='gialai']").click()
    page.get_by_role("button", name="Đăng xuất").click()

    sign_in(page, live_server, "thuongtruc", "/review/")
    expect(page.locator("table.review-queue tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Phần mềm quản lý văn bản Tỉnh ủy Gia Lai").click()
    page.get_by_role("button", name="Nhận thẩm định").click()
    page.goto(f"{live_server}/review/{page.url.rstrip('/').split('/')[-1]}")
    page.get_by_role("link", name="So sánh song song").first.click()
    expect(page.locator("mark.shared").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "compare.png"), full_page=True)
    page.go_back()
    warning = page.locator(f"[data-warning='{existing.code}']")
    warning.get_by_label("Kết luận").select_option("confirmed")
    warning.get_by_label("Lý do (bắt buộc)").fill("Cùng chức năng quản lý văn bản, cùng cấp tỉnh.")
    warning.get_by_role("button", name="Ghi nhận kết luận").click()
    expect(page.locator(f"[data-warning='{existing.code}']")).to_contain_text("Xác nhận trùng lặp")
    page.get_by_role("radio", name="Từ chối").check()
    page.locator("#reason").fill("Trùng với phần mềm đang vận hành; hãy dùng lại.")
    page.get_by_label("Hệ thống nên dùng lại (khi từ chối vì trùng lặp)").fill(existing.code)
    page.screenshot(path=str(SCREENSHOTS / "review.png"), full_page=True)
    page.get_by_role("button", name="Ghi nhận quyết định").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi nhận quyết định")
    page.locator("[data-account='thuongtruc']").click()
    page.get_by_role("button", name="Đăng xuất").click()

    sign_in(page, live_server, "gialai", "/notifications/")
    expect(page.locator("[data-notification=reject]")).to_contain_text("Đề xuất của bạn bị từ chối")
    page.locator("[data-notification=reject] a").click()
    expect(page.locator("[data-decision]")).to_contain_text(existing.code)


def test_an_auditor_downloads_the_inventory_as_xlsx(
    page: Page, live_server: str, portfolio, make_user
) -> None:
    import openpyxl

    make_user("auditor", username="kiemtoan")
    sign_in(page, live_server, "kiemtoan", "/systems/?level=province")
    page.locator("[data-export-menu]").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Bảng tính Excel (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as handle:
        book = openpyxl.load_workbook(handle)
    names = [row[1] for row in book["Systems"].iter_rows(min_row=3, values_only=True)]  # under both headers
    assert names == ["Phần mềm quản lý văn bản Tỉnh ủy Nghệ An"]  # the list's filter, applied
    assert dict(book["About"].iter_rows(values_only=True))["exported_by"] == "kiemtoan"


def test_an_agency_imports_its_list_in_two_steps(
    page: Page, live_server: str, portfolio, make_user, make_agency, tmp_path: Path
) -> None:
    """Upload a spreadsheet export, read the preview (one overlap, one bad row), fix, commit."""
    SCREENSHOTS.mkdir(exist_ok=True)
    user = make_user("submitter", username="nghean", agency_id=portfolio.province.id)
    bad = tmp_path / "danh-sach.csv"
    header = "name,description,owner_agency,scope_level,capabilities\n"
    good_row = (
        "Hệ thống quản lý văn bản Tỉnh ủy Nghệ An (mới),"
        '"Văn bản đến, văn bản đi của Tỉnh ủy.",TU-NAN,province,document_management\n'
    )
    bad.write_text(header + good_row + "Cổng thông tin,Tin tức,TU-NAN,galaxy,\n", encoding="utf-8")
    sign_in(page, live_server, user.username, next_path="/imports/")
    expect(page.get_by_role("heading", name="Nhập hệ thống")).to_be_visible()
    # A submitter's rows that name no managing agency can only go to their own.
    expect(page.get_by_label("Cơ quan chủ quản cho các dòng không ghi cơ quan")).to_have_value("TU-NAN")
    page.screenshot(path=str(SCREENSHOTS / "import-form.png"), full_page=True)
    page.get_by_label("Tệp").set_input_files(str(bad))
    page.get_by_role("button", name="Kiểm tra tệp").click()

    expect(page.get_by_role("heading", name="Xem trước khi nhập")).to_be_visible()
    expect(page.locator("[data-import=refused]")).to_be_visible()
    expect(page.locator("[data-table=problems]")).to_contain_text("dòng 3")
    expect(page.locator("[data-table=problems]")).to_contain_text("scope_level")
    expect(page.locator("[data-form=commit]")).to_have_count(0)

    fixed = tmp_path / "danh-sach-da-sua.csv"
    fixed.write_text(header + good_row, encoding="utf-8")
    page.goto(f"{live_server}/imports/")
    page.get_by_label("Tệp").set_input_files(str(fixed))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    expect(page.locator("[data-count=create]")).to_contain_text("1")
    expect(page.locator("[data-table=overlaps]")).to_contain_text("Phần mềm quản lý văn bản Tỉnh ủy Nghệ An")
    expect(page.locator("[data-table=overlaps] td.text-end").first).to_have_text(re.compile(r"^\d{1,3}\s?%$"))
    page.screenshot(path=str(SCREENSHOTS / "import-preview.png"), full_page=True)
    page.get_by_role("button", name="Nhập 1 hệ thống").click()

    expect(page.locator("#job")).to_have_attribute("data-job-state", "succeeded")
    page.get_by_role("link", name="Xem các hệ thống đã nhập").click()
    expect(page.locator("[data-import=done]")).to_be_visible()
    expect(page.locator("[data-count=created]")).to_have_text("1")
    page.locator("[data-list=created-codes] a").first.click()
    expect(page.get_by_role("heading", name="Hệ thống quản lý văn bản Tỉnh ủy Nghệ An (mới)")).to_be_visible()


def test_the_live_panel_shows_the_platform_then_the_agencys_own_system(
    page: Page, live_server: str, portfolio, make_user
) -> None:
    """Typing a proposal: the shared platform comes first ("deploy it instead"), then what the
    proposer's own agency already runs, each labelled; at phone width too."""
    submitter = make_user("submitter", username="nghean", agency_id=portfolio.province.id)
    sign_in(page, live_server, submitter.username)
    for width, height in ((1400, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/systems/new")
        page.get_by_label("Cơ quan chủ quản").select_option(label="Tỉnh ủy Nghệ An")
        page.get_by_label("Tên", exact=True).fill("Phần mềm quản lý văn bản và điều hành Nghệ An")
        page.get_by_label("Mô tả", exact=True).fill("Quản lý văn bản đến, văn bản đi, điều hành công việc.")
        items = page.locator("#similar-panel [data-similar-item]")
        expect(items.first).to_contain_text("Hệ thống điều hành tác nghiệp")
        expect(items.first.locator("[data-field=kind]")).to_have_text(
            "Nền tảng dùng chung: triển khai nền tảng này thay vì xây mới"
        )
        expect(items.nth(1)).to_contain_text("Phần mềm quản lý văn bản Tỉnh ủy Nghệ An")
        expect(items.nth(1).locator("[data-field=kind]")).to_have_text("Cơ quan của bạn đã có hệ thống này")
        expect(items.nth(2).locator("[data-field=kind]")).to_be_hidden()
