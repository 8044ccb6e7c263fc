import pytest
from sqlalchemy import delete, select

from registry.models import DuplicateWarning, InformationSystem
from registry.services.overlaps import (
    PortfolioIndex,
    check_system,
    describe_reason,
    portfolio_records,
    scan_portfolio,
    warnings_for,
)
from registry.services.systems import SystemInput, update_system
from registry.services.vectors import VectorTable
from similarity import DETECTOR_VERSION
from tests.conftest import OPERATOR


def fresh_index(session) -> PortfolioIndex:
    """An index of its own, as another worker process would have."""
    return PortfolioIndex(VectorTable(session.get_bind()))


@pytest.fixture
def documents(make_agency, make_capability, make_system):
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    nan = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    hue = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    first = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An",
        description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc của Tỉnh ủy.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=nan.id,
        capability_ids=[docs.id],
    )
    second = make_system(
        name="Hệ thống QLVB và điều hành Thành ủy Huế",
        description="Văn bản đến, văn bản đi và hồ sơ công việc của các cơ quan Thành ủy.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=hue.id,
        capability_ids=[docs.id],
    )
    portal = make_system(
        name="Cổng thông tin điện tử Đảng bộ tỉnh",
        description="Tin tức, tuyên truyền, văn kiện.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=nan.id,
    )
    return first, second, portal


def _pair(warning):
    return {warning.system_a_id, warning.system_b_id}


def test_records_carry_what_the_engine_needs(session, documents, make_system):
    first, _second, _portal = documents
    make_system(name="Hệ thống cũ", status="retired")
    records = {r["id"]: r for r in portfolio_records(session)}
    assert len(records) == 3  # the retired system is not live
    assert records[first.id]["capabilities"] == ["document_management"]
    assert records[first.id]["level"] == "province"
    assert records[first.id]["depends_on"] == []


def test_saving_a_near_copy_stores_its_warning_at_once(session, documents):
    first, second, _portal = documents
    assert [_pair(w) for w in warnings_for(session, second)] == [{first.id, second.id}]


def test_scan_stores_warnings_with_their_evidence(session, documents):
    first, second, portal = documents
    session.execute(delete(DuplicateWarning))  # stored by the saves already; the scan stores them anew
    report = scan_portfolio(session)
    assert report.systems == 3 and report.created == 1
    warning = session.scalar(select(DuplicateWarning))
    assert _pair(warning) == {first.id, second.id}
    assert warning.score >= 0.6 and warning.disposition == "open"
    assert warning.detector_version == DETECTOR_VERSION
    assert {"name", "word", "plain", "capabilities"} <= set(warning.components)
    assert {r["code"] for r in warning.reasons} >= {"shared_capabilities", "same_level"}


def test_rescanning_updates_numbers_but_keeps_decisions(session, documents):
    first, second, _portal = documents
    scan_portfolio(session)
    warning = session.scalar(select(DuplicateWarning))
    warning.disposition, warning.disposition_reason = "justified", "Khác đối tượng phục vụ"
    session.commit()
    again = scan_portfolio(session)
    assert (again.created, again.updated, again.removed) == (0, 1, 0)
    session.expire_all()
    assert session.scalar(select(DuplicateWarning)).disposition == "justified"


def test_an_edit_that_removes_the_overlap_clears_the_open_warning(app, session, documents):
    first, second, _portal = documents
    index = fresh_index(session)
    assert [_pair(w) for w in check_system(session, first, index)] == [{first.id, second.id}]
    data = SystemInput.from_system(second)
    data.name, data.description, data.capability_ids = "Hệ thống hội nghị truyền hình", "Họp trực tuyến", []
    update_system(session, second, data, actor=OPERATOR, expected_version=second.version)
    assert check_system(session, second, index) == []
    assert warnings_for(session, first) == []


def test_every_worker_sees_saves_made_by_another(session, documents):
    first, _second, portal = documents
    worker_a, worker_b = fresh_index(session), fresh_index(session)
    worker_a.current(session)
    worker_b.current(session)
    data = SystemInput.from_system(portal)
    data.name = "Phần mềm quản lý văn bản đi, văn bản đến của Ban Tuyên giáo"
    data.description = "Quản lý văn bản đến, văn bản đi, hồ sơ công việc."
    update_system(session, portal, data, actor=OPERATOR, expected_version=portal.version)
    check_system(session, portal, worker_a)  # the save is handled by worker A…
    matches = worker_b.current(session).query({"name": "quản lý văn bản đến đi"}, k=3)  # …B catches up
    assert portal.id in [m["id"] for m in matches]


def test_retiring_a_system_drops_its_open_warnings(session, documents):
    first, second, _portal = documents
    scan_portfolio(session)
    data = SystemInput.from_system(second)
    data.status = "retired"
    update_system(session, second, data, actor=OPERATOR, expected_version=second.version)
    check_system(session, second, fresh_index(session))
    assert warnings_for(session, first) == []


def test_the_detail_page_shows_overlaps_with_reasons_in_vietnamese(client, session, documents):
    first, second, _portal = documents
    scan_portfolio(session)
    html = client.get(f"/systems/{first.code}").text
    assert "Có thể trùng lặp" in html
    assert second.name in html
    assert "Cả hai cùng khai báo chức năng: Quản lý văn bản" in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "vi",
            "Hệ thống riêng của địa phương, trong khi nền tảng dùng chung Sổ tay (HTTT-2020-000001) "
            "đã đảm nhận việc này",
        ),
        ("en", "A local system for a job the shared platform Sổ tay (HTTT-2020-000001) already does"),
    ],
)
def test_reasons_are_translated(app, lang, expected):
    platform = InformationSystem(id=7, code="HTTT-2020-000001", name="Sổ tay")
    with app.test_request_context(f"/?lang={lang}"):
        text = describe_reason({"code": "duplicates_central_platform", "platform": 7}, {7: platform}, {})
    assert text == expected


def test_unknown_reason_codes_fall_back_to_the_engine_message(app):
    with app.test_request_context("/"):
        assert describe_reason({"code": "new_signal", "message": "Something new"}, {}, {}) == "Something new"


def test_registering_a_duplicate_through_the_form_warns_at_once(client, session, documents, make_agency):
    first, _second, _portal = documents
    owner = make_agency(code="TU-GLI", name="Tỉnh ủy Gia Lai", level="province", block="locality")
    response = client.post(
        "/systems/new",
        data={
            "name": "Phần mềm quản lý văn bản Tỉnh ủy Gia Lai",
            "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc.",
            "status": "draft",
            "scope_level": "province",
            "owner_agency_id": owner.id,
            "capability_ids": [first.capabilities[0].id],
        },
    )
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).text
    assert "Có thể trùng lặp" in detail and first.name in detail


def test_scan_command(app, documents):
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    assert "3 systems compared; 1 overlapping pairs: 0 new warnings, 1 updated" in result.output
