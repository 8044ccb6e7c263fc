import re

import pytest
from sqlmodel import select

from registry.models import InformationSystem
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR, csrf_token_of


def _form(system_or_none=None, **overrides):
    data = {
        "name": "Phần mềm quản lý văn bản",
        "description": "Văn bản đến, văn bản đi",
        "status": "draft",
        "scope_level": "province",
    }
    data.update(overrides)
    return data


def test_home_is_the_dashboard(client):
    response = client.get("/")
    assert response.status_code == 200 and 'data-chart="status"' in response.get_data(as_text=True)


def test_list_shows_systems_and_counts(client, make_system):
    make_system(name="Sổ tay đảng viên điện tử", is_shared_platform=True)
    response = client.get("/systems/")
    assert response.status_code == 200
    assert "Sổ tay đảng viên điện tử" in response.text
    assert "Hiển thị 1–1 trong 1 hệ thống" in response.text
    assert "Nền tảng dùng chung" in response.text


def test_list_filters_from_the_query_string(client, make_system):
    make_system(name="Cổng thông tin điện tử", status="in_operation")
    make_system(name="Ứng dụng hội nghị truyền hình")
    response = client.get("/systems/?q=hoi+nghi&status=draft")
    assert "Ứng dụng hội nghị truyền hình" in response.text
    assert "Cổng thông tin điện tử" not in response.text


def test_list_warns_about_bad_filters_instead_of_failing(client):
    response = client.get("/systems/?status=bogus&per_page=7")
    assert response.status_code == 200
    assert "Trạng thái không hợp lệ trong bộ lọc đã được bỏ qua." in response.text


def test_detail_shows_governance_and_flags_what_is_missing(client, make_system, make_agency):
    operator = make_agency(name="Cục Bưu điện Trung ương")
    system = make_system(
        name="Hệ thống hội nghị truyền hình",
        status="in_operation",
        operator_agency_id=operator.id,
        legal_basis="Quyết định 204-QĐ/TW",
        estimated_cost_vnd=12_500_000_000,
    )
    response = client.get(f"/systems/{system.code}")
    assert response.status_code == 200
    text = response.text
    for expected in ("Cục Bưu điện Trung ương", "Quyết định 204-QĐ/TW", "12.500.000.000", "Chưa khai báo"):
        assert expected in text
    assert "Chưa có báo cáo sử dụng" in text


def test_unknown_system_is_a_readable_404(client):
    response = client.get("/systems/HTTT-2020-999999")
    assert response.status_code == 404
    assert "không tồn tại" in response.text


def test_create_shows_each_error_next_to_its_field_then_succeeds(client, make_agency, session):
    owner = make_agency(name="Tỉnh ủy Nghệ An")
    response = client.post(
        "/systems/new", data=_form(name="  ", estimated_cost_vnd="12,5 tỷ", owner_agency_id=owner.id)
    )
    assert response.status_code == 422
    assert session.scalar(select(InformationSystem.id)) is None
    html = response.text
    name_error = re.search(r'id="name-error"[^>]*>([^<]+)<', html)
    cost_error = re.search(r'id="estimated_cost_vnd-error"[^>]*>([^<]+)<', html)
    assert name_error and name_error.group(1) == "Hãy nhập tên hệ thống."
    assert cost_error and "số nguyên" in cost_error.group(1)
    assert 'aria-describedby="name-error"' in html
    assert "Phần mềm quản lý văn bản" not in html  # the blank name was not replaced by anything
    assert "Văn bản đến, văn bản đi" in html  # what was typed is kept

    response = client.post(
        "/systems/new", data=_form(estimated_cost_vnd="12.500.000", owner_agency_id=owner.id)
    )
    assert response.status_code == 302
    system = session.scalar(select(InformationSystem))
    assert system.estimated_cost_vnd == 12_500_000
    assert response.headers["Location"].endswith(f"/systems/{system.code}")


def test_create_proposal_lists_missing_governance_fields(client, make_agency):
    owner = make_agency()
    response = client.post("/systems/new", data=_form(status="submitted", owner_agency_id=owner.id))
    assert response.status_code == 422
    assert response.text.count("Bắt buộc đối với đề xuất gửi thẩm định") >= 7


def test_garbage_in_selects_is_an_error_not_a_crash(client, make_agency):
    owner = make_agency()
    response = client.post(
        "/systems/new",
        data={
            **_form(owner_agency_id=owner.id),
            "user_agency_ids": ["abc"],
            "operating_rules_date": "31/02/2024",
        },
    )
    assert response.status_code == 422
    assert "Có lựa chọn không hợp lệ." in response.text
    assert "Ngày không hợp lệ." in response.text


def test_edit_saves_and_bumps_the_version(client, make_system, session):
    system = make_system()
    page = client.get(f"/systems/{system.code}/edit")
    assert 'name="version" type="hidden" value="1"' in page.text
    response = client.post(
        f"/systems/{system.code}/edit",
        data=_form(
            name="Tên mới", owner_agency_id=system.owner_agency_id, scope_level="central", version="1"
        ),
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(InformationSystem, system.id).version == 2


def test_stale_edit_is_refused_with_a_clear_message(client, make_system, session):
    system = make_system()
    other = SystemInput.from_system(system)
    other.purpose = "Sửa bởi người khác"
    update_system(session, system, other, actor=OPERATOR, expected_version=1)
    session.commit()

    response = client.post(
        f"/systems/{system.code}/edit",
        data=_form(
            name="Bản của tôi", owner_agency_id=system.owner_agency_id, scope_level="central", version="1"
        ),
    )
    assert response.status_code == 409
    assert "Người khác đã thay đổi hệ thống này" in response.text
    assert "Bản của tôi" in response.text  # the user's work is not lost
    assert 'name="version" type="hidden" value="2"' in response.text
    assert f'href="/systems/{system.code}"' in response.text
    session.expire_all()
    stored = session.get(InformationSystem, system.id)
    assert (stored.name, stored.purpose) == ("Hệ thống quản lý văn bản và điều hành", "Sửa bởi người khác")


def test_dependencies_can_be_added_and_removed_from_the_detail_page(client, make_system):
    vneid = make_system(name="VNeID", is_shared_platform=True)
    app_system = make_system(name="Sổ tay đảng viên")
    response = client.post(
        f"/systems/{app_system.code}/dependencies",
        data={"target_code": "HTTT-1999-000009", "kind": "authentication"},
    )
    assert response.status_code == 422
    assert "Không có hệ thống nào mang mã HTTT-1999-000009." in response.text
    response = client.post(
        f"/systems/{app_system.code}/dependencies", data={"target_code": vneid.code, "kind": "authentication"}
    )
    assert response.status_code == 302
    detail = client.get(f"/systems/{app_system.code}").text
    assert "VNeID" in detail
    dependency_id = re.search(r"/dependencies/(\d+)/delete", detail).group(1)
    assert client.post(f"/systems/{app_system.code}/dependencies/{dependency_id}/delete").status_code == 302
    assert "/delete" not in client.get(f"/systems/{app_system.code}").text


def test_english_on_request_and_remembered(client):
    response = client.get("/lang/en?next=/systems/")
    assert response.status_code == 302 and response.headers["Location"] == "/systems/"
    assert "Information systems" in client.get("/systems/").text
    client.get("/lang/vi")
    assert "Hệ thống thông tin" in client.get("/systems/").text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_language_switch_is_not_an_open_redirect(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.headers["Location"] == "/systems/"


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_forms_without_a_csrf_token_are_refused_and_write_nothing(csrf_app, client_for, make_agency, session):
    client = client_for("admin")
    owner = make_agency()
    response = client.post("/systems/new", data=_form(owner_agency_id=owner.id))
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.text
    assert session.scalar(select(InformationSystem.id)) is None


def test_forms_with_a_csrf_token_work(csrf_app, client_for, make_agency):
    client = client_for("admin")
    owner = make_agency()
    token = csrf_token_of(client.get("/systems/new").text)
    response = client.post("/systems/new", data=_form(owner_agency_id=owner.id, csrf_token=token))
    assert response.status_code == 302


def test_empty_optional_fields_as_browsers_send_them_are_accepted(client, make_agency):
    owner = make_agency()
    blanks = dict.fromkeys(
        ("purpose", "operating_rules_date", "security_level", "hosting", "target_users"), ""
    )
    response = client.post(
        "/systems/new", data=_form(owner_agency_id=owner.id, operator_agency_id="", **blanks)
    )
    assert response.status_code == 302


def test_agency_tree_counts_systems_below_each_agency(client, make_agency, make_system):
    province = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    commune = make_agency(
        code="DU-HUE-X",
        name="Đảng ủy phường Thuận Hóa",
        level="commune",
        block="locality",
        parent_id=province.id,
    )
    make_system(owner_agency_id=province.id)
    make_system(owner_agency_id=commune.id)
    make_system(owner_agency_id=commune.id)
    html = client.get("/agencies/").text
    assert "Thành ủy Huế" in html and "Đảng ủy phường Thuận Hóa" in html
    assert "3 hệ thống" in html and "2 hệ thống" in html
    assert "/systems/?agency=TU-HUE&amp;agency_role=owner" in html


def test_the_agency_filter_lists_communes_only_when_chosen(client, make_agency):
    province = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    make_agency(
        code="DU-HUE-X",
        name="Đảng ủy phường Thuận Hóa",
        level="commune",
        block="locality",
        parent_id=province.id,
    )
    assert '<option value="TU-HUE">' in client.get("/systems/").text
    assert "DU-HUE-X" not in client.get("/systems/").text
    assert '<option value="DU-HUE-X" selected>' in client.get("/systems/?agency=DU-HUE-X").text
