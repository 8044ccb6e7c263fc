"""The dependency explorer in a real Chromium: draw, recolour, refocus by clicking, change the hops,
and the small picture on a system's page, at desktop and phone width."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from registry.services.dependencies import add_dependency
from tests.conftest import OPERATOR
from tests.test_browser import SCREENSHOTS, live_server, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture
def neighbourhood(session, make_agency, make_capability, make_system):
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    province = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    docs = make_capability(code="document_management", name="Quản lý văn bản", name_en="Document management")
    platform = make_system(
        name="Hệ thống điều hành tác nghiệp dùng chung của các cơ quan Đảng",
        status="in_operation",
        is_shared_platform=True,
        owner_agency_id=central.id,
        capability_ids=[docs.id],
    )
    vneid = make_system(
        name="VNeID", status="in_operation", is_shared_platform=True, owner_agency_id=central.id
    )
    local = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An",
        status="in_operation",
        scope_level="province",
        owner_agency_id=province.id,
        capability_ids=[docs.id],
    )
    portal = make_system(
        name="Cổng thông tin điện tử Tỉnh ủy Nghệ An",
        status="in_operation",
        scope_level="province",
        owner_agency_id=province.id,
    )
    deployment = make_system(
        name="Điều hành tác nghiệp triển khai tại Tỉnh ủy Nghệ An",
        status="in_operation",
        scope_level="province",
        owner_agency_id=province.id,
        instance_of_id=platform.id,
    )
    for source, target, kind in (
        (local, vneid, "authentication"),
        (portal, local, "data_exchange"),
        (deployment, vneid, "authentication"),
    ):
        add_dependency(session, source, actor=OPERATOR, target_code=target.code, kind=kind)
    session.commit()
    return SimpleNamespace(platform=platform, vneid=vneid, local=local, portal=portal, deployment=deployment)


def click_node(page: Page, canvas: str, code: str) -> None:
    """Click where Cytoscape drew the node: its rendered position inside the canvas."""
    x, y = page.evaluate(
        "([canvas, code]) => { const p = document.getElementById(canvas).cy.getElementById(code)"
        ".renderedPosition(); return [p.x, p.y]; }",
        [canvas, code],
    )
    box = page.locator(f"#{canvas}").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_explore_refocus_and_the_small_picture(page: Page, live_server: str, neighbourhood, make_user):  # noqa: F811
    SCREENSHOTS.mkdir(exist_ok=True)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    make_user("reviewer", username="thuongtruc")
    n = neighbourhood
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "thuongtruc", f"/graph/?focus={n.local.code}&hops=2")
    expect(page.get_by_role("heading", name="Sơ đồ phụ thuộc")).to_be_visible()
    expect(page.locator("#graph-canvas.graph-ready")).to_be_visible()
    drawn = page.evaluate("() => document.getElementById('graph-canvas').cy.nodes().map(n => n.id())")
    assert set(drawn) == {n.local.code, n.vneid.code, n.portal.code, n.deployment.code}  # platform: 3 hops
    # The list says the same for screen readers, overlays included.
    expect(page.locator("[data-graph-list] tbody tr")).to_have_count(4)
    row = page.locator(f"[data-graph-list] tr[data-node='{n.local.code}']")
    expect(row).to_contain_text("Trùng nền tảng Trung ương (R6)")
    expect(page.locator(f"[data-graph-list] tr[data-node='{n.portal.code}']")).to_contain_text(
        "Biệt lập (R7)"
    )
    page.screenshot(path=str(SCREENSHOTS / "graph-explorer-desktop.png"))

    page.locator("label[for=colour-level]").click()
    expect(page.locator("ul[data-legend=level]")).to_be_visible()
    expect(page.locator("ul[data-legend=status]")).to_be_hidden()
    colours = page.evaluate(
        "() => Object.fromEntries(document.getElementById('graph-canvas').cy.nodes('.system')"
        ".map(n => [n.data('agency_level'), n.data('colour')]))"
    )
    assert colours["central"] != colours["province"]

    click_node(page, "graph-canvas", n.vneid.code)
    page.wait_for_url(f"**/graph/?focus={n.vneid.code}&hops=2")
    expect(page.locator("#graph-canvas.graph-ready")).to_be_visible()
    focus = page.evaluate("() => document.getElementById('graph-canvas').cy.nodes('.focus').map(n => n.id())")
    assert focus == [n.vneid.code]

    page.get_by_label("Số bước").select_option("1")
    page.wait_for_url(f"**/graph/?focus={n.vneid.code}&hops=1")
    expect(page.locator("[data-graph-list] tbody tr")).to_have_count(3)

    width, height = SIZES["phone"]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server}/graph/?focus={n.local.code}&hops=2")
    expect(page.locator("#graph-canvas.graph-ready")).to_be_visible()
    canvas = page.locator("#graph-canvas").bounding_box()
    assert canvas is not None and canvas["width"] <= width
    page.screenshot(path=str(SCREENSHOTS / "graph-explorer-phone.png"))

    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/systems/{n.local.code}")
        picture = page.locator("[data-small-graph] .graph-ready")
        expect(picture).to_be_visible()
        picture.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"graph-small-{size}.png"))
    page.get_by_role("link", name="Xem vùng kết nối rộng hơn").click()
    page.wait_for_url(f"**/graph/?focus={n.local.code}&hops=2")
    assert problems == []
