"""The submitter's proposing journey on the web: save and submit in one step, required marks
that follow the rules, a standing warning justified beside it, and the password typed twice."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from registry.errors import ValidationError
from registry.models import AuditEvent, DuplicateWarning, InformationSystem
from registry.services import workflow
from registry.services.systems import SystemInput, required_fields, validate_system_input
from tests.conftest import PASSWORD, only_these_warnings, proposal_fields, sign_in


@pytest.fixture
def province(make_agency):
    return make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")


@pytest.fixture
def submitter(client_for, province):
    return client_for("submitter", username="thanhhoa", agency_id=province.id)


def _posted(system: InformationSystem, **overrides) -> dict[str, object]:
    """What the edit form posts for ``system`` as it is stored, with ``overrides``."""
    data = SystemInput.from_system(system)
    values: dict[str, object] = {
        "name": data.name,
        "description": data.description,
        "status": data.status,
        "scope_level": data.scope_level or "",
        "owner_agency_id": data.owner_agency_id,
        "operator_agency_id": data.operator_agency_id or "",
        "user_agency_ids": data.user_agency_ids,
        "capability_ids": data.capability_ids,
        "legal_basis": data.legal_basis or "",
        "mandate": data.mandate or "",
        "usage_orientation": data.usage_orientation or "",
        "security_level": data.security_level or "",
        "target_users": data.target_users or "",
        "overlap_justification": data.overlap_justification or "",
        "version": system.version,
    }
    values.update(overrides)
    return values


def _actions(session, system) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.system_id == system.id).order_by(AuditEvent.id)
        )
    )


def test_save_and_submit_sends_a_completed_proposal_in_one_step(
    submitter, session, province, make_system, make_agency, make_capability
):
    fields = proposal_fields(make_agency, make_capability())
    draft = make_system(
        name="Ứng dụng sổ tay đảng viên",
        owner_agency_id=province.id,
        scope_level="province",
        **{**fields, "legal_basis": None},
    )
    response = submitter.post(
        f"/systems/{draft.code}/edit",
        data=_posted(draft, legal_basis="Quyết định 204-QĐ/TW", and_submit="1"),
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/systems/{draft.code}")
    session.expire_all()
    saved = session.get(InformationSystem, draft.id)
    assert (saved.status, saved.legal_basis) == ("submitted", "Quyết định 204-QĐ/TW")
    assert _actions(session, saved)[-2:] == ["system.update", "system.submit"]
    assert "Đã lưu và gửi thẩm định" in submitter.get(f"/systems/{draft.code}").text


def test_a_refused_submission_keeps_the_save_and_names_each_blocking_field(
    submitter, session, province, make_system
):
    draft = make_system(name="Bản nháp sơ sài", owner_agency_id=province.id, scope_level="province")
    response = submitter.post(
        f"/systems/{draft.code}/edit",
        data=_posted(draft, legal_basis="Quyết định 204-QĐ/TW", mandate="", and_submit="1"),
    )
    # A success: the request commits the save although the submission was refused.
    assert response.status_code == 200
    page = response.text
    assert "Các thay đổi của bạn đã được lưu." in page and "chưa được lưu" not in page
    blockers = re.search(
        r'<div class="alert alert-warning" role="alert" id="submit-blockers">(.*?)</div>', page, re.S
    )
    assert blockers is not None
    for name in ("mandate", "operator_agency_id", "user_agency_ids", "capability_ids", "target_users"):
        assert f'href="#{name}"' in blockers.group(1)
        assert f'id="{name}-error"' in page
    assert 'href="#legal_basis"' not in blockers.group(1) and 'id="legal_basis-error"' not in page
    assert 'name="and_submit"' in page and 'name="version" type="hidden" value="2"' in page
    session.expire_all()
    saved = session.get(InformationSystem, draft.id)
    assert (saved.status, saved.legal_basis, saved.version) == ("draft", "Quyết định 204-QĐ/TW", 2)
    assert _actions(session, saved)[-1] == "system.update"


def test_an_invalid_save_and_submit_saves_nothing(submitter, session, province, make_system):
    draft = make_system(name="Bản nháp", owner_agency_id=province.id, scope_level="province")
    response = submitter.post(
        f"/systems/{draft.code}/edit", data=_posted(draft, name="", legal_basis="QĐ 1", and_submit="1")
    )
    assert response.status_code == 422 and "Hệ thống chưa được lưu" in response.text
    session.expire_all()
    assert session.get(InformationSystem, draft.id).legal_basis is None


def _warnings(proposal, others, detector="test"):
    return [
        DuplicateWarning(
            system_a_id=min(proposal.id, other.id),
            system_b_id=max(proposal.id, other.id),
            score=0.9,
            reasons=[{"code": "similar_names", "value": 0.8}],
            detector_version=detector,
        )
        for other in others
    ]


def test_the_refused_submit_button_shows_the_standing_warnings_beside_the_justification(
    submitter, session, province, make_system, make_agency, make_capability, monkeypatch
):
    fields = proposal_fields(make_agency, make_capability())
    proposal = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Thanh Hóa",
        owner_agency_id=province.id,
        scope_level="province",
        **fields,
    )
    others = [
        make_system(name=f"Phần mềm quản lý văn bản {n}", status="in_operation", scope_level="province")
        for n in ("Nghệ An", "Huế")
    ]
    only_these_warnings(session, *_warnings(proposal, others))
    # The submit refreshes the warnings: keep the hand-made ones as the engine's answer.
    monkeypatch.setattr(workflow, "refresh_overlaps", lambda *args, **kwargs: None)
    response = submitter.post(f"/systems/{proposal.code}/workflow/submit")
    assert response.status_code == 422
    page = response.text
    assert "Chưa thể gửi đề xuất" in page and "chưa được lưu" not in page
    assert 'name="and_submit"' in page and "Lưu và gửi thẩm định" in page
    # Once under the form, once under the justification, for a phone where the panel comes last.
    assert page.count('name="and_submit"') == 2
    standing = page[page.index('id="standing-warnings"') :]
    for other in others:
        assert f'data-standing="{other.code}"' in standing
    # The justification is asked for once, beside the warnings, with its error.
    assert page.count('name="overlap_justification"') == 1
    assert standing.index('data-standing="') < standing.index('name="overlap_justification"')
    assert 'id="overlap_justification-error"' in standing
    assert "2 cảnh báo còn hiệu lực" in page  # the phone summary under the name field


@pytest.mark.parametrize("status", ["draft", "submitted", "in_operation"])
def test_the_rules_refuse_exactly_the_fields_marked_required(session, status):
    blank = SystemInput.of(status=status)
    with pytest.raises(ValidationError) as refused:
        validate_system_input(session, blank)
    assert set(refused.value.errors) == required_fields(status)


def _marks(page: str) -> tuple[set[str], set[str]]:
    required = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="(\w+)"[^>]*\brequired\b', page))
    required |= set(re.findall(r'<(?:input|select|textarea)[^>]*\brequired\b[^>]*\bid="(\w+)"', page))
    for_review = set(re.findall(r'id="(\w+)-review"', page))
    return required, for_review


def test_a_drafts_form_marks_what_saving_and_what_review_need(submitter, province, make_system):
    draft = make_system(name="Bản nháp", owner_agency_id=province.id, scope_level="province")
    required, for_review = _marks(submitter.get(f"/systems/{draft.code}/edit").text)
    assert required == required_fields("draft")
    assert for_review == required_fields("submitted") - required_fields("draft")
    assert required == _marks(submitter.get("/systems/new").text)[0]


def test_a_form_that_cannot_be_submitted_marks_only_what_saving_needs(client_for, province, make_system):
    deployed = make_system(name="Đang vận hành", owner_agency_id=province.id, status="in_operation")
    admin = client_for("admin")
    required, for_review = _marks(admin.get(f"/systems/{deployed.code}/edit").text)
    assert required == required_fields("in_operation") and for_review == set()
    assert 'name="and_submit"' not in admin.get(f"/systems/{deployed.code}/edit").text


def test_changes_requested_marks_every_review_field_as_required(
    client_for, province, make_system, make_agency, make_capability
):
    fields = proposal_fields(make_agency, make_capability())
    returned = make_system(
        name="Bị yêu cầu sửa", owner_agency_id=province.id, status="changes_requested", **fields
    )
    page = client_for("admin").get(f"/systems/{returned.code}/edit").text
    required, for_review = _marks(page)
    assert required == required_fields("changes_requested") and for_review == set()
    assert 'name="and_submit"' in page


def test_long_multiple_choices_stay_plain_selects_that_post_the_same_values(
    submitter, session, province, make_system, make_agency
):
    users = [make_agency(name=f"Ban {n} Tỉnh ủy", level="province", block="locality") for n in ("A", "B")]
    draft = make_system(name="Bản nháp", owner_agency_id=province.id, scope_level="province")
    page = submitter.get(f"/systems/{draft.code}/edit").text
    select_tag = re.search(r'<select[^>]*name="user_agency_ids"[^>]*>', page).group(0)
    assert "multiple" in select_tag and "data-searchable" in select_tag
    assert "Giữ phím Ctrl" in page  # what the plain select needs, replaced by the script's help
    response = submitter.post(
        f"/systems/{draft.code}/edit", data=_posted(draft, user_agency_ids=[u.id for u in users])
    )
    assert response.status_code == 302
    session.expire_all()
    assert sorted(
        SystemInput.from_system(session.get(InformationSystem, draft.id)).user_agency_ids
    ) == sorted(u.id for u in users)


def test_every_reason_field_says_its_minimum_before_any_error(
    client_for, session, province, make_system, make_agency, make_capability
):
    fields = proposal_fields(make_agency, make_capability())
    proposal = make_system(name="Đề xuất", owner_agency_id=province.id, status="in_review", **fields)
    other = make_system(name="Hệ thống cũ", status="in_operation")
    only_these_warnings(session, *_warnings(proposal, [other]))
    page = client_for("reviewer").get(f"/review/{proposal.code}").text
    warning_id = session.scalar(select(DuplicateWarning.id))
    assert f'aria-describedby="reason-{warning_id}-help"' in page and 'aria-describedby="reason-help"' in page
    assert page.count("Tối thiểu 10 ký tự") == 2
    assert page.count('minlength="10"') == 2


def test_the_password_is_typed_twice(client_for, session, make_user, app):
    client = client_for("auditor", username="kiemtoan")
    page = client.get("/account/").text
    assert 'name="confirm_password"' in page and 'autocomplete="new-password"' in page
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a much better passphrase",
            "confirm_password": "a much better passfrase",
        },
    )
    assert response.status_code == 422
    assert 'id="confirm_password-error"' in response.text
    assert "Hai lần nhập mật khẩu mới không khớp" in response.text
    # Nothing changed: the old password still signs in.
    assert sign_in(app.test_client(), "kiemtoan", PASSWORD)
