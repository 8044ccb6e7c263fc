"""Agency-scoped editing: a submitter acts for one agency only, in the statuses still theirs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.errors import PermissionDeniedError, ValidationError
from registry.models import AuditEvent, Dependency, InformationSystem
from registry.services.dependencies import add_dependency
from registry.services.systems import SystemInput, create_system, update_system
from tests.conftest import OPERATOR


@pytest.fixture
def agencies(make_agency):
    return (
        make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality"),
        make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality"),
    )


@pytest.fixture
def submitter(make_user, agencies):
    return make_user("submitter", agency_id=agencies[0].id)


def _actor(user) -> Actor:
    return Actor.of(user)


def _form(**overrides):
    data = {
        "name": "Phần mềm quản lý văn bản",
        "description": "Văn bản đến, đi",
        "status": "draft",
        "scope_level": "province",
    }
    data.update(overrides)
    return data


def test_a_submitter_registers_for_their_own_agency_only(client_for, submitter, agencies, session):
    own, other = agencies
    client = client_for("submitter", agency_id=own.id)
    page = client.get("/systems/new").text
    assert f'value="{own.id}" selected' in page or f'<option selected value="{own.id}"' in page
    assert f'value="{other.id}"' not in page.split('name="owner_agency_id"')[1].split("</select>")[0]
    tampered = client.post("/systems/new", data=_form(owner_agency_id=other.id))
    assert tampered.status_code == 422
    assert "Bạn chỉ được đăng ký và sửa hệ thống của cơ quan mình." in tampered.text
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 0
    assert client.post("/systems/new", data=_form(owner_agency_id=own.id)).status_code == 302


def test_a_submitter_cannot_approve_their_own_proposal(client_for, agencies, session):
    own, _other = agencies
    client = client_for("submitter", agency_id=own.id)
    page = client.get("/systems/new").text
    statuses = page.split('name="status"')[1].split("</select>")[0]
    assert 'value="draft"' in statuses  # every proposal starts as a draft, then goes through the workflow
    assert 'value="submitted"' not in statuses and 'value="approved"' not in statuses
    response = client.post("/systems/new", data=_form(owner_agency_id=own.id, status="in_operation"))
    assert response.status_code == 422
    assert "Bạn không thể đặt trạng thái này cho hệ thống" in response.text


def test_editing_another_agencys_system_by_url_is_refused(client_for, make_system, agencies, session):
    own, other = agencies
    theirs = make_system(name="Hệ thống của Nghệ An", owner_agency_id=other.id)
    client = client_for("submitter", agency_id=own.id)
    assert client.get(f"/systems/{theirs.code}/edit").status_code == 403
    post = client.post(f"/systems/{theirs.code}/edit", data=_form(owner_agency_id=other.id, version="1"))
    assert post.status_code == 403
    session.refresh(theirs)
    assert (theirs.name, theirs.version) == ("Hệ thống của Nghệ An", 1)
    assert f'href="/systems/{theirs.code}/edit"' not in client.get(f"/systems/{theirs.code}").text


def test_moving_ones_system_to_another_agency_is_refused(client_for, make_system, agencies, session):
    own, other = agencies
    mine = make_system(name="Hệ thống của Thanh Hóa", owner_agency_id=own.id)
    client = client_for("submitter", agency_id=own.id)
    response = client.post(f"/systems/{mine.code}/edit", data=_form(owner_agency_id=other.id, version="1"))
    assert response.status_code == 422
    session.refresh(mine)
    assert mine.owner_agency_id == own.id


def test_a_submitter_cannot_edit_a_deployed_system_of_their_agency(client_for, make_system, agencies):
    own, _other = agencies
    deployed = make_system(name="Cổng thông tin", owner_agency_id=own.id, status="in_operation")
    client = client_for("submitter", agency_id=own.id)
    assert client.get(f"/systems/{deployed.code}/edit").status_code == 403


def test_dependencies_of_another_agencys_system_cannot_be_changed(client_for, make_system, agencies, session):
    own, other = agencies
    platform = make_system(name="VNeID", is_shared_platform=True)
    theirs = make_system(name="Hệ thống của Nghệ An", owner_agency_id=other.id)
    dependency = add_dependency(
        session, theirs, actor=OPERATOR, target_code=platform.code, kind="authentication"
    )
    client = client_for("submitter", agency_id=own.id)
    added = client.post(
        f"/systems/{theirs.code}/dependencies", data={"target_code": platform.code, "kind": "hosted_on"}
    )
    removed = client.post(f"/systems/{theirs.code}/dependencies/{dependency.id}/delete")
    assert added.status_code == removed.status_code == 403
    assert session.scalar(select(func.count()).select_from(Dependency)) == 1


def test_reviewers_and_auditors_cannot_change_content(client_for, make_system, agencies):
    system = make_system(owner_agency_id=agencies[0].id)
    for role in ("reviewer", "auditor"):
        client = client_for(role)
        assert client.get(f"/systems/{system.code}/edit").status_code == 403
        assert client.post("/systems/new", data=_form(owner_agency_id=agencies[0].id)).status_code == 403
        assert "Đăng ký hệ thống" not in client.get("/systems/").text


def test_services_refuse_too_whatever_the_entry_point(session, make_user, make_system, agencies):
    own, other = agencies
    submitter = _actor(make_user("submitter", agency_id=own.id))
    reviewer = _actor(make_user("reviewer"))
    theirs = make_system(owner_agency_id=other.id)
    with pytest.raises(PermissionDeniedError):
        update_system(session, theirs, SystemInput.from_system(theirs), actor=submitter, expected_version=1)
    with pytest.raises(PermissionDeniedError):
        create_system(session, SystemInput.of(**_form(owner_agency_id=own.id)), actor=reviewer)
    with pytest.raises(ValidationError) as refused:
        create_system(session, SystemInput.of(**_form(owner_agency_id=other.id)), actor=submitter)
    assert "owner_agency_id" in refused.value.errors
    read_only = Actor.of(make_user("admin"), scope="read")
    with pytest.raises(PermissionDeniedError):
        create_system(session, SystemInput.of(**_form(owner_agency_id=own.id)), actor=read_only)
    assert (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("system.%")))
        == 1
    )


def test_admins_may_correct_any_system_and_it_is_audited(client, make_system, agencies, session):
    system = make_system(owner_agency_id=agencies[1].id, status="in_operation")
    response = client.post(
        f"/systems/{system.code}/edit",
        data=_form(owner_agency_id=agencies[1].id, status="in_operation", name="Tên đã sửa", version="1"),
    )
    assert response.status_code == 302
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "system.update"))
    assert event.actor_label == "admin" and event.after["name"] == "Tên đã sửa"
