"""The submitter's proposing journey in a real Chromium: a refused submission completed and
sent in one step, the matches under the name field on a phone, the searchable multiple choices
with the keyboard only, and the same choices as plain selects without JavaScript."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from registry.models import InformationSystem
from registry.services.systems import SystemInput
from tests.test_browser import SCREENSHOTS, choose, live_server, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def setting(make_agency, make_capability, make_system, make_user):
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    nghe_an = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    gia_lai = make_agency(code="TU-GLI", name="Tỉnh ủy Gia Lai", level="province", block="locality")
    operator = make_agency(code="TTCNTT", name="Trung tâm Công nghệ thông tin")
    existing = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An",
        description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc của Tỉnh ủy.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=nghe_an.id,
        capability_ids=[docs.id],
    )
    draft = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Gia Lai",
        description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc.",
        scope_level="province",
        owner_agency_id=gia_lai.id,
        operator_agency_id=operator.id,
        mandate="Kế hoạch chuyển đổi số 2026 của Tỉnh ủy",
        usage_orientation="Dùng cho các cơ quan Tỉnh ủy",
        security_level=3,
        target_users=800,
        capability_ids=[docs.id],
    )
    make_user("submitter", username="gialai", agency_id=gia_lai.id)
    return SimpleNamespace(
        existing=existing, draft=draft, gia_lai=gia_lai, nghe_an=nghe_an, operator=operator
    )


def _saved(session, code: str) -> InformationSystem:
    session.expire_all()
    return session.scalars(select(InformationSystem).where(InformationSystem.code == code)).one()


def test_a_refused_submission_is_completed_and_sent_in_one_step(
    page: Page,
    live_server: str,  # noqa: F811 - the fixture imported above
    setting,
    session,
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    draft = setting.draft
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "gialai", f"/systems/{draft.code}")
    page.get_by_role("button", name="Gửi thẩm định").click()

    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Chưa thể gửi đề xuất")
    expect(alert).not_to_contain_text("chưa được lưu")
    expect(alert.get_by_role("link", name="Căn cứ pháp lý")).to_be_visible()
    # The warnings that stand, and beside them the justification they call for.
    standing = page.locator("#standing-warnings")
    expect(standing.locator(f"[data-standing='{setting.existing.code}']")).to_be_visible()
    expect(standing.get_by_label("Giải trình về trùng lặp")).to_be_visible()
    expect(page.locator("#overlap_justification-error")).to_contain_text("hãy giải trình")
    expect(page.get_by_role("button", name="Lưu và gửi thẩm định")).to_be_visible()
    expect(page.locator("#legal_basis-review")).to_have_text("cần để thẩm định")
    page.screenshot(path=str(SCREENSHOTS / "propose-blocked-desktop.png"), full_page=True)

    # Fix one field only: the save is kept, and what still blocks is named next to its field.
    page.get_by_label("Căn cứ pháp lý").fill("Quyết định 204-QĐ/TW")
    page.get_by_role("button", name="Lưu và gửi thẩm định").click()
    expect(page.get_by_role("alert").first).to_contain_text("Các thay đổi của bạn đã được lưu.")
    expect(page.locator("#user_agency_ids-error")).to_contain_text("Bắt buộc")
    expect(page.locator("#legal_basis-error")).to_have_count(0)
    assert _saved(session, draft.code).legal_basis == "Quyết định 204-QĐ/TW"
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "propose-blocked-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})

    choose(page, "Cơ quan sử dụng", "Tỉnh ủy Gia Lai")
    page.get_by_label("Giải trình về trùng lặp").fill(
        "Phần mềm của Nghệ An không kết nối được với hệ thống của tỉnh."
    )
    page.get_by_role("button", name="Lưu và gửi thẩm định").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu và gửi thẩm định")
    expect(page.get_by_role("heading", level=1)).to_have_text(draft.name)
    saved = _saved(session, draft.code)
    assert saved.status == "submitted" and saved.overlap_justification
    assert SystemInput.from_system(saved).user_agency_ids == [setting.gia_lai.id]


def test_on_a_phone_the_matches_show_under_the_name_field(
    page: Page,
    live_server: str,  # noqa: F811
    setting,
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "gialai", "/systems/new")
    name = page.get_by_label("Tên", exact=True)
    name.fill("Phần mềm quản lý văn bản Tỉnh ủy Gia Lai mới")
    page.get_by_label("Mô tả", exact=True).fill("Quản lý văn bản đến, văn bản đi, hồ sơ công việc.")
    summary = page.locator("#similar-summary")
    # The first query builds the overlap index; on a busy machine that outlasts the default 5 s.
    expect(summary.locator("[data-similar-count]")).not_to_have_text("–", timeout=20_000)
    expect(summary).to_be_visible()
    name_box, summary_box = name.bounding_box(), summary.bounding_box()
    assert name_box and summary_box and 0 <= summary_box["y"] - (name_box["y"] + name_box["height"]) < 40
    assert int(summary.locator("[data-similar-count]").inner_text()) >= 1
    # It only shows: a button above the save button would take the Enter key of the fields.
    expect(summary.locator("[data-similar-item]").first).to_be_attached()
    expect(summary.locator("button")).to_have_count(0)
    # Typing further down the form, the summary stays in sight.
    page.get_by_label("Mục đích").fill("Điều hành công việc")
    page.evaluate("window.scrollTo(0, 900)")
    page.wait_for_timeout(300)
    gone, stuck = name.bounding_box(), summary.bounding_box()
    assert gone and gone["y"] + gone["height"] < 0, gone  # the name field is out of sight
    assert stuck and -1 <= stuck["y"] < 10, stuck
    summary.locator("summary").click()
    expect(summary.locator("[data-similar-item]").filter(has_text=setting.existing.name)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "propose-phone-summary.png"))
    # On a wide screen the side panel shows the matches instead.
    page.set_viewport_size({"width": 1400, "height": 900})
    expect(summary).to_be_hidden()
    expect(page.locator("#similar-panel [data-similar-item]").first).to_be_visible()


def test_the_searchable_choices_work_with_the_keyboard_only(
    page: Page,
    live_server: str,  # noqa: F811
    setting,
    session,
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "gialai", "/systems/new")
    page.get_by_label("Tên", exact=True).fill("Cổng dịch vụ công Tỉnh ủy Gia Lai")
    page.get_by_label("Mô tả", exact=True).fill("Tiếp nhận hồ sơ trực tuyến.")
    page.get_by_label("Cấp phạm vi").select_option("province")
    page.get_by_label("Đơn vị vận hành").focus()
    page.keyboard.press("Tab")
    box = page.get_by_role("combobox", name="Cơ quan sử dụng")
    expect(box).to_be_focused()
    # What describes the plain select (needed for review, its help) describes the search box.
    expect(box).to_have_attribute(
        "aria-describedby", re.compile(r"^user_agency_ids-review user_agency_ids-help\s*$")
    )
    expect(page.locator("#user_agency_ids-help")).to_contain_text("Gõ để tìm")
    page.keyboard.type("Nghệ")
    listbox = page.get_by_role("listbox", name="Cơ quan sử dụng")
    expect(listbox.get_by_role("option", name="Tỉnh ủy Nghệ An")).to_be_visible()
    expect(listbox.get_by_role("option", name="Tỉnh ủy Gia Lai")).to_have_count(0)
    active = listbox.locator(".option.active")
    expect(active).to_have_text("Tỉnh ủy Nghệ An")
    page.keyboard.press("Enter")
    page.keyboard.type("Trung tâm")
    expect(active).to_have_text("Trung tâm Công nghệ thông tin")
    page.keyboard.press("Enter")
    page.keyboard.type("Gia Lai")
    expect(active).to_have_text("Tỉnh ủy Gia Lai")
    page.keyboard.press("Enter")
    page.keyboard.press("Backspace")  # removes the last choice
    page.keyboard.press("Escape")
    chosen = page.locator("#user_agency_ids").evaluate("s => Array.from(s.selectedOptions, o => o.text)")
    assert chosen == ["Tỉnh ủy Nghệ An", "Trung tâm Công nghệ thông tin"]
    page.keyboard.press("Tab")  # on to the next field, in the order of the form
    expect(page.get_by_label("Căn cứ pháp lý")).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / "propose-searchable-select.png"))
    page.get_by_role("button", name="Đăng ký", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Đã đăng ký hệ thống")
    code = page.url.rstrip("/").split("/")[-1]
    saved = SystemInput.from_system(_saved(session, code))
    assert sorted(saved.user_agency_ids) == sorted([setting.nghe_an.id, setting.operator.id])


def test_without_javascript_the_choices_are_plain_selects_posting_the_same_values(
    browser: Browser,
    live_server: str,  # noqa: F811
    setting,
    session,
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, "gialai", "/systems/new")
        agencies = page.get_by_label("Cơ quan sử dụng")
        expect(agencies).to_be_visible()
        expect(page.locator("#user_agency_ids-help")).to_contain_text("Giữ phím Ctrl")
        page.get_by_label("Tên", exact=True).fill("Cổng dịch vụ công Tỉnh ủy Gia Lai")
        page.get_by_label("Mô tả", exact=True).fill("Tiếp nhận hồ sơ trực tuyến.")
        page.get_by_label("Cấp phạm vi").select_option("province")
        agencies.select_option(label=["Tỉnh ủy Nghệ An", "Trung tâm Công nghệ thông tin"])
        page.get_by_role("button", name="Đăng ký", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Đã đăng ký hệ thống")
        code = page.url.rstrip("/").split("/")[-1]
        saved = SystemInput.from_system(_saved(session, code))
        assert sorted(saved.user_agency_ids) == sorted([setting.nghe_an.id, setting.operator.id])
    finally:
        context.close()
