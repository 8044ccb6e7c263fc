"""The Duplicates page in a real Chromium, at desktop and phone width: a drawing and a table
per cluster, and the way from a cluster to the comparison of one of its pairs."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from registry.models import DuplicateWarning
from tests.conftest import only_these_warnings
from tests.test_browser import SCREENSHOTS, live_server, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

FEEDBACK_APPS = (
    (
        "TP-HNI",
        "Thành ủy Hà Nội",
        "Đảng ủy phường Hoàn Kiếm",
        "Ứng dụng phản ánh hiện trường phường Hoàn Kiếm",
        260,
    ),
    (
        "TP-DNG",
        "Thành ủy Đà Nẵng",
        "Đảng ủy phường Hải Châu",
        "Phần mềm tiếp nhận phản ánh phường Hải Châu",
        140,
    ),
    ("TP-HCM", "Thành ủy Thành phố Hồ Chí Minh", "Đảng ủy phường Sài Gòn", "App Sài Gòn phản ánh", 300),
    (
        "TP-HPG",
        "Thành ủy Hải Phòng",
        "Đảng ủy phường Lê Chân",
        "Ứng dụng “Lê Chân trực tuyến” – phản ánh hiện trường",
        210,
    ),
    (
        "TI-LCI",
        "Tỉnh ủy Lào Cai",
        "Đảng ủy phường Sa Pa",
        "Sa Pa phản ánh – ứng dụng tiếp nhận phản ánh",
        None,
    ),
)


@pytest.fixture
def clusters_world(session, make_agency, make_capability, make_system):
    feedback = make_capability(
        code="citizen_feedback", name="Phản ánh hiện trường", name_en="Citizen feedback"
    )
    documents = make_capability(
        code="document_management", name="Quản lý văn bản", name_en="Document management"
    )
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    platform = make_system(
        name="Hệ thống điều hành tác nghiệp của các cơ quan Đảng",
        is_shared_platform=True,
        status="in_operation",
        owner_agency_id=central.id,
        capability_ids=[documents.id],
    )
    apps = []
    for code, province_name, commune_name, name, cost in FEEDBACK_APPS:
        province = make_agency(code=code, name=province_name, level="province", block="locality")
        commune = make_agency(
            code=f"{code}-X", name=commune_name, level="commune", block="locality", parent_id=province.id
        )
        apps.append(
            make_system(
                name=name,
                owner_agency_id=commune.id,
                scope_level="commune",
                status="in_operation",
                estimated_cost_vnd=cost * 1_000_000 if cost else None,
                capability_ids=[feedback.id],
            )
        )
    offices = []
    for code, name in (
        ("TI-THA", "Tỉnh ủy Thanh Hóa"),
        ("TI-NAN", "Tỉnh ủy Nghệ An"),
        ("TI-BNH", "Tỉnh ủy Bắc Ninh"),
    ):
        owner = make_agency(code=code, name=name, level="province", block="locality")
        offices.append(
            make_system(
                name=f"Phần mềm quản lý văn bản {name}",
                owner_agency_id=owner.id,
                scope_level="province",
                estimated_cost_vnd=2_500_000_000,
                capability_ids=[documents.id],
            )
        )

    def warn(a, b, score, disposition="open"):
        return DuplicateWarning(
            system_a_id=min(a.id, b.id),
            system_b_id=max(a.id, b.id),
            score=score,
            components={},
            reasons=[],
            detector_version="t",
            disposition=disposition,
        )

    pairs = [(a, b) for i, a in enumerate(apps) for b in apps[i + 1 :]]
    only_these_warnings(
        session,
        *(warn(a, b, 0.62 + 0.035 * n, "confirmed" if n == 0 else "open") for n, (a, b) in enumerate(pairs)),
        *(warn(a, b, 0.9) for i, a in enumerate(offices) for b in offices[i + 1 :]),
        warn(offices[0], platform, 0.8),
        warn(offices[1], platform, 0.75),
    )
    return apps, offices, platform


@pytest.mark.parametrize(("width", "height", "name"), [(1400, 900, "desktop"), (390, 844, "phone")])
def test_the_clusters_page_draws_each_cluster_and_leads_to_the_comparison(
    page: Page,
    live_server: str,  # noqa: F811 - the fixture imported above
    clusters_world,
    make_user,
    width,
    height,
    name,
):
    SCREENSHOTS.mkdir(exist_ok=True)
    apps, offices, platform = clusters_world
    make_user("reviewer", username="thuongtruc")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, "thuongtruc", "/review/clusters")
    expect(page.get_by_role("heading", name="Cụm trùng lặp")).to_be_visible()
    feedback = page.locator("section.cluster").filter(
        has=page.get_by_role("heading", name="Phản ánh hiện trường")
    )
    expect(feedback).to_have_count(1)
    expect(feedback).to_contain_text("5 cơ quan tại 5 tỉnh đã xây dựng cùng một hệ thống")
    expect(feedback).to_contain_text("910.000.000")  # the four recorded costs, in Vietnamese money
    drawing = feedback.locator("svg[role=group]")
    expect(drawing).to_be_visible()
    expect(drawing.locator("circle")).to_have_count(5)
    expect(drawing.locator("line")).to_have_count(10)
    expect(feedback.locator("table tbody tr")).to_have_count(5)
    offices_cluster = page.locator("section.cluster").filter(
        has=page.get_by_role("heading", name="Quản lý văn bản")
    )
    expect(offices_cluster.get_by_role("link", name=platform.name)).to_be_visible()
    box = drawing.bounding_box()
    assert box is not None and box["width"] <= width and box["height"] > 100
    page.screenshot(path=str(SCREENSHOTS / f"clusters-{name}.png"), full_page=True)
    feedback.screenshot(path=str(SCREENSHOTS / f"clusters-{name}-one.png"))

    feedback.get_by_text("So sánh từng cặp").click()
    feedback.locator("details a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("So sánh")
