"""The reviewing journey in a real Chromium, at desktop and phone width: the queue's legend,
filters and "Take it", an undecided disposition, and a comparison whose drawings name every
system and keep every label inside the picture."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete

from registry.models import DuplicateWarning
from registry.services import workflow
from registry.services.dependencies import add_dependency
from tests.conftest import OPERATOR, proposal_fields
from tests.test_browser import SCREENSHOTS, live_server, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture
def journey(session, make_agency, make_capability, make_system, make_user):
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    province = make_agency(code="TU-SLA", name="Tỉnh ủy Sơn La", level="province", block="locality")
    video = make_capability(code="videoconference", name="Hội nghị truyền hình trực tuyến")
    platform = make_system(
        name="Hệ thống hội nghị truyền hình trực tuyến của các cơ quan Đảng",
        description="Hệ thống hội nghị truyền hình kết nối Trung ương với các tỉnh ủy và điểm cầu các xã.",
        status="in_operation",
        is_shared_platform=True,
        owner_agency_id=central.id,
        capability_ids=[video.id],
    )
    network = make_system(
        name="Mạng máy tính chuyên dùng của các cơ quan Đảng",
        status="in_operation",
        owner_agency_id=central.id,
    )
    proposal = make_system(
        name="Mở rộng hệ thống họp trực tuyến riêng của Tỉnh ủy Sơn La đến 75 xã",
        description="Mua phần mềm họp trực tuyến, thiết bị điểm cầu cho 75 xã; Văn phòng Tỉnh ủy chủ trì.",
        owner_agency_id=province.id,
        scope_level="province",
        estimated_cost_vnd=7_800_000_000,
        overlap_justification="Cần chủ động lịch họp với các xã.",
        **proposal_fields(make_agency, video),
    )
    add_dependency(session, platform, actor=OPERATOR, target_code=network.code, kind="data_exchange")
    add_dependency(session, proposal, actor=OPERATOR, target_code=network.code, kind="data_exchange")
    workflow.transition(session, proposal, "submit", actor=OPERATOR)
    session.execute(delete(DuplicateWarning))
    low, high = sorted([platform.id, proposal.id])
    warning = DuplicateWarning(
        system_a_id=low,
        system_b_id=high,
        score=0.95,
        components={"name": 0.5, "word": 0.3},
        reasons=[{"code": "shared_terms", "terms": ["điểm cầu", "không", "126", "công"]}],
        detector_version="test",
    )
    session.add(warning)
    make_user("reviewer", username="thuongtruc", full_name="Nguyễn Văn Thường")
    session.commit()
    return {"proposal": proposal, "platform": platform, "warning": warning}


def test_queue_review_and_comparison_at_both_widths(page: Page, live_server: str, journey):  # noqa: F811
    SCREENSHOTS.mkdir(exist_ok=True)
    problems: list[str] = []
    # The refused disposition below is answered 422 on purpose; any other error is a problem.
    page.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "422" not in m.text else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    proposal, warning = journey["proposal"], journey["warning"]
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "thuongtruc", "/review/")
    expect(page.get_by_role("heading", name="Hàng chờ thẩm định")).to_be_visible()
    row = page.locator(f"tr[data-queue-row='{proposal.code}']")
    expect(row.locator("[data-risk] .badge")).to_have_text("Cao")
    expect(page.locator("[data-risk-legend]")).to_contain_text("tối đa 60 điểm")
    page.screenshot(path=str(SCREENSHOTS / "review-queue-desktop.png"), full_page=True)

    page.get_by_label("Người thẩm định").select_option("unassigned")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url("**/review/?*assignee=unassigned")
    row.get_by_role("button", name="Tôi nhận").click()
    page.wait_for_url("**/review/?assignee=unassigned")
    expect(page.locator(f"tr[data-queue-row='{proposal.code}']")).to_have_count(0)
    page.goto(f"{live_server}/review/?assignee=mine")
    expect(row).to_contain_text("Nguyễn Văn Thường")

    width, height = SIZES["phone"]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server}/review/")
    expect(page.locator("table.review-queue thead")).to_have_css("position", "absolute")  # stacked cards
    cell = row.locator("td[data-label='Rủi ro (0–100)']")
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width
    page.screenshot(path=str(SCREENSHOTS / "review-queue-phone.png"), full_page=True)

    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server}/review/{proposal.code}")
    select = page.locator(f"#disp-{warning.id}")
    expect(select).to_have_value("")
    expect(page.locator("[data-assignee]")).to_have_text("Đã giao cho Nguyễn Văn Thường.")
    page.get_by_role("button", name="Ghi nhận kết luận").click()
    expect(page.locator(f"#warning-{warning.id} .invalid-feedback").first).to_be_visible()

    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/review/{proposal.code}/compare/{warning.id}")
        marks = page.locator("mark.shared").all_inner_texts()
        assert marks and {m.lower() for m in marks} <= {"điểm cầu"}, marks  # not "không", "công", "126"
        for canvas in ("left-canvas", "right-canvas"):
            expect(page.locator(f"#{canvas}.graph-ready")).to_be_visible()
            labels, outside = page.evaluate(
                """(id) => {
                    const el = document.getElementById(id), cy = el.cy;
                    const w = el.clientWidth, h = el.clientHeight;
                    const outside = cy.nodes().filter(n => {
                        const b = n.renderedBoundingBox({includeLabels: true});
                        return b.x1 < -1 || b.y1 < -1 || b.x2 > w + 1 || b.y2 > h + 1;
                    }).map(n => n.data('label'));
                    return [cy.nodes().map(n => n.data('label')), outside];
                }""",
                canvas,
            )
            assert outside == [], f"{size} {canvas}: labels cut off: {outside}"
            assert all(not label.replace("HTTT-", "").replace("-", "").isdigit() for label in labels), labels
        box = page.locator("#right-canvas").bounding_box()
        assert box is not None and box["x"] + box["width"] <= width  # the second drawing is on screen
        page.locator("#left-canvas").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"review-compare-{size}.png"), full_page=True)
    assert problems == []
