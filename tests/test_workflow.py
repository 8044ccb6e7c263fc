"""The lifecycle state machine: every legal move, every illegal one, and what each records."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.choices import SystemStatus
from registry.errors import PermissionDeniedError, ValidationError
from registry.models import AuditEvent, Decision, DuplicateWarning, Finding, Notification
from registry.services import workflow
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR, only_these_warnings, proposal_fields


@pytest.fixture
def people(make_agency, make_user):
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    return {
        "province": province,
        "submitter": make_user("submitter", username="thanhhoa", agency_id=province.id),
        "reviewer": make_user("reviewer", username="thuongtruc"),
        "admin": make_user("admin", username="quantri"),
    }


@pytest.fixture
def proposal(make_system, make_agency, make_capability, people):
    fields = proposal_fields(make_agency, make_capability())
    return make_system(
        name="Ứng dụng sổ tay đảng viên",
        owner_agency_id=people["province"].id,
        scope_level="province",
        **fields,
    )


def _as(user) -> Actor:
    return Actor.of(user)


def test_a_proposal_goes_from_draft_to_retired(session, proposal, people):
    submitter, reviewer = _as(people["submitter"]), _as(people["reviewer"])
    workflow.transition(session, proposal, "submit", actor=submitter)
    assert proposal.status == "submitted"
    assert [n.user_id for n in session.scalars(select(Notification))] == [people["reviewer"].id]
    workflow.transition(session, proposal, "start_review", actor=reviewer)
    workflow.transition(session, proposal, "approve", actor=reviewer, reason="Đủ căn cứ, không trùng lặp.")
    workflow.transition(session, proposal, "deploy", actor=submitter)
    workflow.transition(session, proposal, "retire", actor=submitter)
    assert proposal.status == "retired"
    decision = session.scalar(select(Decision))
    assert (decision.outcome, decision.reviewer_label, decision.reason) == (
        "approve",
        "thuongtruc",
        "Đủ căn cứ, không trùng lặp.",
    )
    actions = list(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.system_id == proposal.id).order_by(AuditEvent.seq)
        )
    )
    assert actions == [
        "system.create",
        "system.submit",
        "system.start_review",
        "system.approve",
        "system.deploy",
        "system.retire",
    ]
    kinds = set(
        session.scalars(select(Notification.kind).where(Notification.user_id == people["submitter"].id))
    )
    assert kinds == {"start_review", "approve"}


LEGAL = {(t.source, t.action) for t in workflow.TRANSITIONS}


@pytest.mark.parametrize("status", list(SystemStatus))
@pytest.mark.parametrize("action", sorted(workflow.ACTIONS))
def test_every_move_is_legal_or_refused_with_a_reason(session, proposal, status, action):
    proposal.status = status
    session.commit()
    reason = "Lý do đủ dài để ghi nhận." if action in {"approve", "request_changes", "reject"} else None
    if (status, action) in LEGAL:
        workflow.transition(session, proposal, action, actor=OPERATOR, reason=reason)
        assert proposal.status == next(
            t.target for t in workflow.TRANSITIONS if (t.source, t.action) == (status, action)
        )
    else:
        with pytest.raises(workflow.WorkflowError) as refused:
            workflow.transition(session, proposal, action, actor=OPERATOR, reason=reason)
        assert action in str(refused.value)
        session.refresh(proposal)
        assert proposal.status == status


def test_an_incomplete_draft_cannot_be_submitted(session, make_system, people):
    draft = make_system(name="Bản nháp sơ sài", owner_agency_id=people["province"].id)
    with pytest.raises(ValidationError) as refused:
        workflow.transition(session, draft, "submit", actor=_as(people["submitter"]))
    assert {"legal_basis", "mandate", "capability_ids", "operator_agency_id"} <= refused.value.errors.keys()
    session.refresh(draft)
    assert draft.status == "draft"


def test_an_overlapping_proposal_must_justify_itself(session, proposal, make_system, people):
    existing = make_system(name="Sổ tay đảng viên điện tử", status="in_operation")
    low, high = sorted([existing.id, proposal.id])
    only_these_warnings(
        session,
        DuplicateWarning(
            system_a_id=low, system_b_id=high, score=0.9, components={}, reasons=[], detector_version="t"
        ),
    )
    submitter = _as(people["submitter"])
    with pytest.raises(ValidationError) as refused:
        workflow.transition(session, proposal, "submit", actor=submitter)
    assert list(refused.value.errors) == ["overlap_justification"]
    data = SystemInput.from_system(proposal)
    data.overlap_justification = "Hệ thống hiện có không hỗ trợ sinh hoạt chi bộ trực tuyến."
    update_system(session, proposal, data, actor=submitter, expected_version=proposal.version)
    workflow.transition(session, proposal, "submit", actor=submitter)
    assert proposal.status == "submitted"


def test_decisions_need_a_reason_and_a_real_system_to_reuse(session, proposal, people):
    reviewer = _as(people["reviewer"])
    workflow.transition(session, proposal, "submit", actor=_as(people["submitter"]))
    workflow.transition(session, proposal, "start_review", actor=reviewer)
    with pytest.raises(ValidationError) as refused:
        workflow.transition(
            session, proposal, "reject", actor=reviewer, reason="ngắn", reuse_code="HTTT-1999-999999"
        )
    assert set(refused.value.errors) == {"reason", "reuse_code"}
    assert proposal.status == "in_review"
    assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_each_side_keeps_to_its_own_moves(session, proposal, people):
    with pytest.raises(PermissionDeniedError):
        workflow.transition(session, proposal, "submit", actor=_as(people["reviewer"]))
    workflow.transition(session, proposal, "submit", actor=_as(people["submitter"]))
    with pytest.raises(PermissionDeniedError):
        workflow.transition(session, proposal, "start_review", actor=_as(people["submitter"]))
    with pytest.raises(PermissionDeniedError):  # administrators have no hidden power to decide
        workflow.transition(session, proposal, "start_review", actor=_as(people["admin"]))


def test_another_agencys_submitter_cannot_move_the_proposal(session, proposal, make_agency, make_user):
    other = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    with pytest.raises(PermissionDeniedError):
        workflow.transition(
            session, proposal, "submit", actor=_as(make_user("submitter", agency_id=other.id))
        )


def test_a_save_never_changes_the_status(session, proposal, people):
    data = SystemInput.from_system(proposal)
    data.status = "approved"
    for who in (people["submitter"], people["admin"]):
        with pytest.raises(ValidationError) as refused:
            update_system(session, proposal, data, actor=_as(who), expected_version=proposal.version)
        assert "status" in refused.value.errors


def test_findings_follow_the_system(session, make_system, people):
    draft = make_system(name="Phần mềm chưa có căn cứ", owner_agency_id=people["province"].id)
    codes = set(session.scalars(select(Finding.rule_code).where(Finding.system_id == draft.id)))
    assert {"R1", "R2", "R3", "R5", "R10"} <= codes
    data = SystemInput.from_system(draft)
    data.legal_basis, data.security_level = "Quyết định 204-QĐ/TW", 2
    update_system(session, draft, data, actor=_as(people["submitter"]), expected_version=draft.version)
    codes = set(session.scalars(select(Finding.rule_code).where(Finding.system_id == draft.id)))
    assert "R1" not in codes and "R10" not in codes and "R2" in codes


def test_the_submit_button_shows_what_blocks_a_submission(client_for, make_system, people, session):
    draft = make_system(name="Bản nháp sơ sài", owner_agency_id=people["province"].id)
    client = client_for("submitter", agency_id=people["province"].id)
    page = client.get(f"/systems/{draft.code}").text
    assert "Gửi thẩm định" in page and "R1 · Cao" in page
    response = client.post(f"/systems/{draft.code}/workflow/submit")
    assert response.status_code == 422
    assert "Chưa thể gửi đề xuất" in response.text and 'id="legal_basis-error"' in response.text
    assert (
        f'action="/systems/{draft.code}/edit"' in response.text
    )  # saving the fixes is an edit, not a resubmission
    assert client.post(f"/systems/{draft.code}/workflow/approve").status_code == 302  # refused with a message
    session.refresh(draft)
    assert draft.status == "draft"


def test_submitting_refreshes_the_warnings_first(
    client_for, session, people, make_agency, make_capability, make_system
):
    """A proposal saved before a similar system existed is judged against the portfolio of now."""
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    fields = proposal_fields(make_agency, docs)
    proposal = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Thanh Hóa",
        description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc.",
        owner_agency_id=people["province"].id,
        scope_level="province",
        **{**fields, "capability_ids": [docs.id]},
    )
    for province in ("Nghệ An", "Huế"):
        make_system(
            name=f"Phần mềm quản lý văn bản Tỉnh ủy {province}",
            description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc của Tỉnh ủy.",
            status="in_operation",
            scope_level="province",
            capability_ids=[docs.id],
        )
    only_these_warnings(session)  # as if saved before the engine knew the others
    assert workflow.open_overlaps(session, proposal) == []
    client = client_for("submitter", agency_id=people["province"].id)
    response = client.post(f"/systems/{proposal.code}/workflow/submit")
    assert response.status_code == 422 and 'id="overlap_justification-error"' in response.text
    # A refused move writes nothing: the warnings found on the way are found again next time.
    assert workflow.open_overlaps(session, proposal) == []
