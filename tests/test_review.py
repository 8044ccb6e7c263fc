"""The standing office's queue, warning dispositions, comparisons and decisions on the web."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import delete, select

from registry.auth.actor import Actor
from registry.errors import PermissionDeniedError, ValidationError
from registry.models import AuditEvent, DuplicateWarning
from registry.services import review, workflow
from registry.services.overlaps import _store
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR, proposal_fields, sign_in


@pytest.fixture
def setting(make_agency, make_user, make_capability, make_system, session):
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    fields = proposal_fields(make_agency, make_capability(code="party_members", name="Quản lý đảng viên"))
    existing = make_system(
        name="Sổ tay đảng viên điện tử Thanh Hóa",
        description="Ứng dụng sổ tay đảng viên: văn kiện, sinh hoạt chi bộ trên điện thoại.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=province.id,
    )
    proposal = make_system(
        name="Ứng dụng sổ tay đảng viên mới",
        description="Sổ tay đảng viên trên điện thoại: văn kiện, sinh hoạt chi bộ.",
        owner_agency_id=province.id,
        scope_level="province",
        overlap_justification="Ứng dụng cũ không còn được bảo trì.",
        estimated_cost_vnd=3_000_000_000,
        **fields,
    )
    low, high = sorted([existing.id, proposal.id])
    warning = DuplicateWarning(
        system_a_id=low,
        system_b_id=high,
        score=0.87,
        components={"name": 0.8, "word": 0.7},
        reasons=[{"code": "shared_terms", "terms": ["sổ tay đảng viên", "sinh hoạt chi bộ"]}],
        detector_version="test",
    )
    submitter = make_user("submitter", username="thanhhoa", agency_id=province.id)
    reviewer = make_user("reviewer", username="thuongtruc")
    workflow.transition(session, proposal, "submit", actor=Actor.of(submitter))
    session.execute(delete(DuplicateWarning))  # the engine's own findings, replaced by a known warning
    session.add(warning)
    session.commit()
    return {
        "existing": existing,
        "proposal": proposal,
        "warning": warning,
        "reviewer": reviewer,
        "submitter": submitter,
    }


def test_the_queue_puts_likely_duplicates_first(session, setting, make_system, make_agency, make_capability):
    calm = make_system(
        name="Hệ thống lưu trữ", **proposal_fields(make_agency, make_capability(code="archives"))
    )
    workflow.transition(session, calm, "submit", actor=OPERATOR)
    found = review.review_queue(session)
    items = found.items
    assert [item.system.code for item in items] == [setting["proposal"].code, calm.code]
    assert items[0].best_score == pytest.approx(0.87) and items[0].open_warnings == 1
    assert found.counts == {"submitted": 2}


def test_risk_weighs_duplication_then_findings_then_cost():
    assert review.risk_of(0.9, Counter(), None) > review.risk_of(0.0, Counter({"high": 2}), None)
    assert review.risk_of(0.0, Counter({"high": 1}), None) > review.risk_of(0.0, Counter({"low": 1}), None)
    assert review.risk_of(0.5, Counter(), 50_000_000_000) > review.risk_of(0.5, Counter(), 50_000_000)


def test_a_disposition_needs_a_reviewer_and_a_reason(session, setting):
    reviewer, warning = Actor.of(setting["reviewer"]), setting["warning"]
    with pytest.raises(ValidationError):
        review.dispose_warning(
            session, warning.id, disposition="confirmed", reason="", actor=reviewer, expected_version=1
        )
    with pytest.raises(PermissionDeniedError):
        review.dispose_warning(
            session,
            warning.id,
            disposition="confirmed",
            reason="Trùng hoàn toàn chức năng.",
            actor=Actor.of(setting["submitter"]),
            expected_version=1,
        )
    review.dispose_warning(
        session,
        warning.id,
        disposition="confirmed",
        reason="Trùng hoàn toàn chức năng.",
        actor=reviewer,
        expected_version=1,
    )
    assert (warning.disposition, warning.decided_by_label, warning.version) == ("confirmed", "thuongtruc", 2)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "warning.dispose"))
    assert event.after["disposition"] == "confirmed"


def test_a_dismissed_pair_comes_back_only_after_a_material_change(session, setting):
    warning, proposal = setting["warning"], setting["proposal"]
    review.dispose_warning(
        session,
        warning.id,
        disposition="dismissed",
        reason="Hai hệ thống phục vụ đối tượng khác nhau.",
        actor=Actor.of(setting["reviewer"]),
        expected_version=1,
    )
    pair = {
        "a": warning.system_a_id,
        "b": warning.system_b_id,
        "score": 0.9,
        "relation": "overlap",
        "components": {},
        "reasons": [],
    }
    _store(session, [pair], scope=None)
    session.commit()
    assert warning.disposition == "dismissed"  # rescanned, unchanged: stays dismissed
    data = SystemInput.from_system(proposal)
    data.description = "Một mô tả khác hẳn về chức năng."
    proposal.status = "draft"
    session.commit()
    update_system(session, proposal, data, actor=OPERATOR, expected_version=proposal.version)
    _store(session, [pair], scope=None)
    session.commit()
    assert warning.disposition == "open"


def test_the_reviewer_compares_confirms_and_rejects_naming_the_system_to_reuse(
    app, client_for, session, setting
):
    proposal, existing, warning = setting["proposal"], setting["existing"], setting["warning"]
    reviewer = client_for("reviewer", username="reviewer2")
    queue = reviewer.get("/review/").text
    assert proposal.name in queue and "87%" in queue
    assert reviewer.post(f"/systems/{proposal.code}/workflow/start_review").status_code == 302
    page = reviewer.get(f"/review/{proposal.code}").text
    assert "Ứng dụng cũ không còn được bảo trì." in page and existing.name in page
    compare = reviewer.get(f"/review/{proposal.code}/compare/{warning.id}").text
    assert (
        '<mark class="shared">Sổ tay đảng viên</mark> điện tử Thanh Hóa' in compare
    )  # the existing system's name
    assert '<mark class="shared">sinh hoạt chi bộ</mark>' in compare
    assert compare.count('data-graph="small"') == 2  # both neighbourhoods drawn
    bad = reviewer.post(
        f"/review/warnings/{warning.id}/dispose",
        data={"disposition": "confirmed", "reason": "", "version": "1", "code": proposal.code},
    )
    assert bad.status_code == 422
    ok = reviewer.post(
        f"/review/warnings/{warning.id}/dispose",
        data={
            "disposition": "confirmed",
            "reason": "Cùng chức năng, cùng đối tượng.",
            "version": "1",
            "code": proposal.code,
        },
    )
    assert ok.status_code == 302
    short = reviewer.post(
        f"/review/{proposal.code}/decide",
        data={"action": "reject", "reason": "trùng", "version": str(proposal.version + 1)},
    )
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.text
    session.refresh(proposal)
    decided = reviewer.post(
        f"/review/{proposal.code}/decide",
        data={
            "action": "reject",
            "reason": "Trùng với sổ tay đảng viên đang vận hành.",
            "reuse_code": existing.code,
            "version": str(proposal.version),
        },
    )
    assert decided.status_code == 302
    session.refresh(proposal)
    assert proposal.status == "rejected"
    earlier = reviewer.get(f"/review/{proposal.code}").text.split('id="h-decisions"')[1]
    assert "<strong>Bị từ chối</strong>" in earlier
    submitter = sign_in(app.test_client(), "thanhhoa")
    detail = submitter.get(f"/systems/{proposal.code}").text
    assert "Trùng với sổ tay đảng viên đang vận hành." in detail and existing.code in detail
    notes = submitter.get("/notifications/").text
    assert "Đề xuất của bạn bị từ chối" in notes


def test_reviewers_see_the_queue_in_their_menu(client_for, setting):
    assert "Hàng chờ thẩm định" in client_for("reviewer").get("/systems/").text
    assert (
        "Hàng chờ thẩm định"
        not in client_for("submitter", agency_id=setting["proposal"].owner_agency_id).get("/systems/").text
    )


def test_highlighting_ignores_tone_marks_and_case():
    spans = review.highlight_spans("Phần mềm Sổ tay Đảng viên", ["so tay dang vien"])
    assert spans == [("Phần mềm ", False), ("Sổ tay Đảng viên", True)]


def test_accented_terms_light_up_only_their_own_words():
    spans = review.highlight_spans("Chuyển đổi số, hồ sơ công việc", ["hồ sơ công việc"])
    assert spans == [("Chuyển đổi số, ", False), ("hồ sơ công việc", True)]


def test_the_score_is_shown_signal_by_signal():
    rows = review.signal_rows({"name": 0.5, "users": None, "unknown": 1.0})
    assert rows == [("Names", 0.5), ("User agencies", None)]
