"""The standing office's queue: risk on one scale, filters, assignment to reviewers (page, service
and API), undecided dispositions, deciders by name, and what the comparison highlights."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from registry.auth.actor import Actor
from registry.errors import PermissionDeniedError, ValidationError
from registry.filters import parse_queue_filter
from registry.models import AuditEvent, DuplicateWarning, ReviewAssignment
from registry.services import assignments, review, workflow
from registry.services.audit import ACTION_LABELS
from registry.services.overlaps import describe_reason
from registry.services.tokens import issue_token
from similarity.terms import is_meaningful, meaningful_terms
from tests.conftest import OPERATOR, proposal_fields


@pytest.fixture
def queue(make_agency, make_user, make_capability, make_system, session):
    """Two proposals from two agencies with two capabilities, one warned about, and two reviewers."""
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    other = make_agency(code="TU-HNA", name="Thành ủy Hà Nội", level="province", block="locality")
    members = make_capability(code="party_members", name="Quản lý đảng viên")
    archives = make_capability(code="archives", name="Lưu trữ")
    existing = make_system(
        name="Sổ tay đảng viên điện tử Thanh Hóa",
        description="Ứng dụng sổ tay đảng viên trên điện thoại.",
        status="in_operation",
        owner_agency_id=province.id,
    )
    risky = make_system(
        name="Ứng dụng sổ tay đảng viên mới",
        description="Sổ tay đảng viên trên điện thoại.",
        owner_agency_id=province.id,
        estimated_cost_vnd=7_800_000_000,
        overlap_justification="Ứng dụng cũ không còn được bảo trì.",
        **proposal_fields(make_agency, members),
    )
    calm = make_system(
        name="Hệ thống lưu trữ hồ sơ",
        owner_agency_id=other.id,
        **proposal_fields(make_agency, archives),
    )
    for system in (risky, calm):
        workflow.transition(session, system, "submit", actor=OPERATOR)
    session.execute(delete(DuplicateWarning))
    low, high = sorted([existing.id, risky.id])
    warning = DuplicateWarning(
        system_a_id=low,
        system_b_id=high,
        score=0.9,
        components={"name": 0.8},
        reasons=[{"code": "shared_terms", "terms": ["sổ tay đảng viên", "126", "đề", "việc"]}],
        detector_version="test",
    )
    session.add(warning)
    lead = make_user("reviewer", username="thuongtruc", full_name="Nguyễn Văn Thường")
    colleague = make_user("reviewer", username="reviewer2", full_name="Trần Thị Trực")
    session.commit()
    return {
        "risky": risky,
        "calm": calm,
        "existing": existing,
        "warning": warning,
        "lead": lead,
        "colleague": colleague,
        "province": province,
    }


def sign_in_as(app, username):
    from tests.conftest import sign_in

    return sign_in(app.test_client(), username)


# --- risk on one scale -------------------------------------------------------------------------


def test_risk_is_an_index_from_0_to_100_with_a_level():
    assert review.risk_of(0.0, Counter(), None) == 0
    assert review.risk_of(1.0, Counter({"high": 10}), 10**15) == 100  # every part capped
    assert review.risk_of(0.9, Counter(), 7_800_000_000) == 54 + 12  # 60×0.9 + 15×log10(7800)/5
    assert [review.risk_level(r) for r in (0, 24, 25, 49, 50, 100)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def test_the_queue_shows_risk_levels_labelled_findings_and_a_legend(app, session, queue):
    item = next(i for i in review.review_queue(session).items if i.system.id == queue["risky"].id)
    assert item.risk == review.risk_of(0.9, item.findings, 7_800_000_000) and item.risk_level == "high"
    page = sign_in_as(app, "thuongtruc").get("/review/").text
    risky = page.split(f'data-queue-row="{queue["risky"].code}"')[1].split("</tr>")[0]
    assert f'data-risk="{item.risk}"' in risky and f"Cao</span> <strong>{item.risk}</strong>" in risky
    assert "18.783" not in page and "Rủi ro (0–100)" in page
    assert "7.800.000.000" in risky
    assert "Cách đọc hàng chờ" in page and "tối đa 60 điểm" in page
    assert "1 cảnh báo" in risky  # not a bare "× 1"
    assert (
        'class="table align-middle review-queue stack-sm"' in page and 'data-label="Rủi ro (0–100)"' in page
    )


def test_a_long_queue_comes_in_pages_riskiest_first(app, session, queue, monkeypatch):
    monkeypatch.setattr(review, "QUEUE_PAGE_SIZE", 1)
    reviewer = sign_in_as(app, "thuongtruc")
    first = reviewer.get("/review/").text
    second = reviewer.get("/review/?page=2&agency=").text
    assert codes_in(first) == {queue["risky"].code} and codes_in(second) == {queue["calm"].code}
    assert "Đề xuất 1–1 trên 2" in first and 'aria-current="page">2<' in second
    assert codes_in(reviewer.get("/review/?page=99").text) == {queue["calm"].code}  # the last page
    assert codes_in(reviewer.get("/review/?page=2&agency=TU-THA").text) == {queue["risky"].code}
    # The tabs count the whole queue, and the API still lists every proposal.
    assert ">2</span>" in first.split('class="nav nav-pills')[1].split("</ul>")[0]
    listed = reviewer.get("/api/v1/review/queue").get_json()["items"]
    assert [i["code"] for i in listed] == [queue["risky"].code, queue["calm"].code]


# --- filters -----------------------------------------------------------------------------------


def codes_in(page: str) -> set[str]:
    return {chunk.split('"')[0] for chunk in page.split('data-queue-row="')[1:]}


def test_the_queue_filters_by_agency_capability_and_age(app, session, queue):
    reviewer = sign_in_as(app, "thuongtruc")
    risky, calm = queue["risky"].code, queue["calm"].code
    assert codes_in(reviewer.get("/review/").text) == {risky, calm}
    assert codes_in(reviewer.get("/review/?agency=TU-THA").text) == {risky}
    assert codes_in(reviewer.get("/review/?capability=archives").text) == {calm}
    assert codes_in(reviewer.get("/review/?age=week").text) == {risky, calm}
    # Submitted 40 days ago: the audit trail says when.
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.action == "system.submit", AuditEvent.system_id == queue["calm"].id)
        .values(occurred_at=datetime.now(UTC) - timedelta(days=40))
    )
    session.commit()
    assert codes_in(reviewer.get("/review/?age=quarter").text) == {calm}
    assert codes_in(reviewer.get("/review/?age=week").text) == {risky}
    tabs = reviewer.get("/review/?agency=TU-HNA").text
    assert 'href="/review/?status=submitted&amp;agency=TU-HNA"' in tabs  # the tabs keep the filters


def test_a_wrong_queue_filter_is_dropped_and_said(app, queue):
    reviewer = sign_in_as(app, "thuongtruc")
    page = reviewer.get("/review/?age=forever&assignee=everyone&status=draft", follow_redirects=True).text
    assert "Thời gian chờ không hợp lệ trong bộ lọc đã bị bỏ qua." in page
    assert "Bộ lọc người thẩm định chỉ nhận" in page
    assert "Hàng chờ chỉ gồm các đề xuất đã gửi hoặc đang thẩm định" in page
    assert codes_in(page) == {queue["risky"].code, queue["calm"].code}


@pytest.mark.parametrize(
    ("args", "problems"),
    [
        ({"age": "month", "assignee": "mine"}, 0),
        ({"age": "7"}, 1),
        ({"assignee": "bob"}, 1),
        ({"status": "x"}, 1),
    ],
)
def test_queue_filters_are_parsed_like_list_filters(args, problems):
    assert len(parse_queue_filter(args).problems) == problems


# --- assignment --------------------------------------------------------------------------------


def test_assigning_is_one_audited_operation(session, queue):
    risky, lead, colleague = queue["risky"], queue["lead"], queue["colleague"]
    actor = Actor.of(lead)
    assert assignments.assign_reviewer(session, risky, reviewer="reviewer2", actor=actor) == colleague
    assert (
        assignments.assign_reviewer(session, risky, reviewer="reviewer2", actor=actor) == colleague
    )  # no-op
    assert assignments.assign_reviewer(session, risky, reviewer="thuongtruc", actor=actor) == lead
    assert assignments.assign_reviewer(session, risky, reviewer=None, actor=actor) is None
    session.commit()
    assert session.get(ReviewAssignment, risky.id) is None
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "review.assign").order_by(AuditEvent.seq)
    ).all()
    assert [(e.before["reviewer"], e.after["reviewer"]) for e in events] == [
        (None, "reviewer2"),
        ("reviewer2", "thuongtruc"),
        ("thuongtruc", None),
    ]
    assert "review.assign" in ACTION_LABELS


def test_only_the_standing_office_assigns_and_only_to_active_reviewers(
    session, queue, make_user, make_system
):
    risky = queue["risky"]
    submitter = make_user("submitter", agency_id=queue["province"].id)
    with pytest.raises(PermissionDeniedError):
        assignments.assign_reviewer(session, risky, reviewer="thuongtruc", actor=Actor.of(submitter))
    with pytest.raises(ValidationError):
        assignments.assign_reviewer(
            session, risky, reviewer=submitter.username, actor=Actor.of(queue["lead"])
        )
    with pytest.raises(ValidationError):
        assignments.assign_reviewer(session, risky, reviewer="nobody", actor=Actor.of(queue["lead"]))
    with pytest.raises(ValidationError):  # not waiting for review
        assignments.assign_reviewer(
            session, queue["existing"], reviewer="thuongtruc", actor=Actor.of(queue["lead"])
        )


def test_take_it_from_the_queue_then_filter_mine_and_unassigned(app, session, queue):
    reviewer = sign_in_as(app, "thuongtruc")
    risky, calm = queue["risky"].code, queue["calm"].code
    taken = reviewer.post(
        f"/review/{risky}/assign", data={"reviewer": "thuongtruc", "back": "queue", "agency": "TU-THA"}
    )
    assert taken.status_code == 302 and taken.headers["Location"] == "/review/?agency=TU-THA"
    assert codes_in(reviewer.get("/review/?assignee=mine").text) == {risky}
    assert codes_in(reviewer.get("/review/?assignee=unassigned").text) == {calm}
    row = reviewer.get("/review/").text.split(f'data-queue-row="{risky}"')[1].split("</tr>")[0]
    assert "Nguyễn Văn Thường" in row and "Tôi nhận" not in row
    # The colleague sees it as someone else's, and the review page lets the office hand it over.
    colleague = sign_in_as(app, "reviewer2")
    assert codes_in(colleague.get("/review/?assignee=mine").text) == set()
    page = colleague.get(f"/review/{risky}").text
    assert "Đã giao cho Nguyễn Văn Thường." in page
    handed = colleague.post(f"/review/{risky}/assign", data={"reviewer": "reviewer2"}, follow_redirects=True)
    assert "đã được giao cho Trần Thị Trực" in handed.text
    refused = colleague.post(f"/review/{risky}/assign", data={"reviewer": "ghost"}, follow_redirects=True)
    assert "Hãy chọn một cán bộ thẩm định đang hoạt động" in refused.text
    assert assignments.assignee_of(session, queue["risky"].id).username == "reviewer2"


def test_the_api_lists_the_queue_and_assigns(app, session, queue):
    lead = queue["lead"]
    secret = issue_token(session, lead, name="t", scope="write", days=30, actor=OPERATOR).secret
    session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    put = client.put(
        f"/api/v1/systems/{queue['calm'].code}/reviewer", json={"reviewer": "thuongtruc"}, headers=headers
    )
    assert put.status_code == 200
    assert put.get_json() == {
        "code": queue["calm"].code,
        "reviewer": {"username": "thuongtruc", "full_name": "Nguyễn Văn Thường"},
    }
    mine = client.get("/api/v1/review/queue?assignee=mine", headers=headers).get_json()
    assert [item["code"] for item in mine["items"]] == [queue["calm"].code]
    everything = client.get("/api/v1/review/queue", headers=headers).get_json()
    first = everything["items"][0]
    expected = review.review_queue(session).items[0]
    assert (first["code"], first["risk"], first["risk_level"], first["reviewer"]) == (
        queue["risky"].code,
        expected.risk,
        "high",
        None,
    )
    assert client.get("/api/v1/review/queue?age=forever", headers=headers).status_code == 400
    wrong = client.put(
        f"/api/v1/systems/{queue['calm'].code}/reviewer", json={"reviewer": "ghost"}, headers=headers
    )
    assert wrong.status_code == 422 and "reviewer" in wrong.get_json()["error"]["fields"]


# --- dispositions, deciders, landing -----------------------------------------------------------


def test_a_disposition_starts_undecided_and_keeps_what_was_typed_when_refused(app, session, queue):
    reviewer = sign_in_as(app, "thuongtruc")
    risky, warning = queue["risky"], queue["warning"]
    page = reviewer.get(f"/review/{risky.code}").text
    form = page.split(f'id="disp-{warning.id}"')[1].split("</select>")[0]
    assert '<option value="" selected>— Chưa quyết định —</option>' in form
    assert "selected" not in form.split("</option>", 1)[1]
    refused = reviewer.post(
        f"/review/warnings/{warning.id}/dispose",
        data={
            "disposition": "",
            "reason": "Hai hệ thống cùng chức năng.",
            "version": "1",
            "code": risky.code,
            "warning": str(warning.id),
        },
    )
    assert refused.status_code == 422
    assert 'value="Hai hệ thống cùng chức năng."' in refused.text
    session.refresh(warning)
    assert warning.disposition == "open"


def test_the_decider_is_named_not_the_username(app, session, queue):
    warning = queue["warning"]
    review.dispose_warning(
        session,
        warning.id,
        disposition="justified",
        reason="Ứng dụng cũ không còn được bảo trì.",
        actor=Actor.of(queue["lead"]),
        expected_version=1,
    )
    session.commit()
    page = sign_in_as(app, "reviewer2").get(f"/review/{queue['risky'].code}").text
    decided = page.split("data-decided-by>")[1].split("</p>")[0]
    assert decided.startswith("Nguyễn Văn Thường đã quyết định lúc") and "thuongtruc" not in decided


def test_taking_into_review_lands_on_the_review_page(app, queue, client_for):
    reviewer = sign_in_as(app, "thuongtruc")
    moved = reviewer.post(f"/systems/{queue['risky'].code}/workflow/start_review")
    assert moved.status_code == 302 and moved.headers["Location"] == f"/review/{queue['risky'].code}"
    # The agency's own moves still go back to the system's page.
    submitter = client_for("submitter", agency_id=queue["calm"].owner_agency_id)
    withdrawn = submitter.post(f"/systems/{queue['calm'].code}/workflow/withdraw")
    assert withdrawn.headers["Location"] == f"/systems/{queue['calm'].code}"


# --- what the comparison highlights and says ---------------------------------------------------


def test_one_word_of_a_shared_phrase_does_not_light_up_unrelated_phrases():
    spans = review.highlight_spans("Văn phòng Tỉnh ủy quản lý văn bản đến", ["quản lý văn bản", "công"])
    assert spans == [("Văn phòng Tỉnh ủy ", False), ("quản lý văn bản", True), (" đến", False)]
    assert review.highlight_spans("Hội nghị công tác", ["hội nghị truyền hình"]) == [
        ("Hội nghị", True),
        (" công tác", False),
    ]


def test_stop_words_syllables_and_numbers_are_not_shared_terms():
    assert review.shared_terms([{"terms": ["126", "đề", "cơ", "việc", "đến", "điểm cầu"]}]) == ["điểm cầu"]
    assert meaningful_terms(["hệ thống", "văn bản đi", "2026"]) == ["văn bản đi"]
    assert not is_meaningful("của các") and not is_meaningful("dõi") and is_meaningful("ioffice")


def test_a_shared_words_reason_lists_only_meaningful_terms(app):
    with app.test_request_context():
        text = describe_reason({"code": "shared_terms", "terms": ["điểm cầu", "126", "đề", "cơ"]}, {}, {})
        assert text == "Cả hai bản mô tả đều nói về: “điểm cầu”"
        assert describe_reason({"code": "shared_terms", "terms": ["việc", "đến"]}, {}, {}) == ""


REASONS = [
    {"code": "similar_names", "value": 0.5},
    {"code": "shared_terms", "terms": ["điểm cầu"]},
    {"code": "shared_capabilities", "items": ["documents"]},
    {"code": "shared_data_domains", "value": 1.0},
    {"code": "shared_users", "value": 1.0},
    {"code": "similar_dependencies", "value": 0.4},
    {"code": "same_level"},
    {"code": "same_function", "items": [{"function": "documents", "term": "iOffice"}]},
    {"code": "similar_meaning", "value": 0.9},
    {"code": "meaning_not_compared"},
    {"code": "duplicates_central_platform", "platform": 1},
    {"code": "via_deployments", "count": 2},
    {"code": "sanctioned_reuse", "platform": 1},
]


@pytest.mark.parametrize("reason", REASONS, ids=[r["code"] for r in REASONS])
def test_every_reason_reads_as_its_own_sentence_in_both_languages(app, reason):
    from flask_babel import force_locale

    texts = {}
    for locale in ("en", "vi"):
        with app.test_request_context(), force_locale(locale):
            texts[locale] = describe_reason(reason, {}, {"documents": "Văn bản"})
    assert texts["en"] and texts["vi"] and texts["en"] != texts["vi"]
    assert "làm việc mà" not in texts["vi"] and "(s)" not in texts["en"]


def test_the_dashboards_waiting_bars_open_the_queue_filtered_by_age(app, queue):
    html = sign_in_as(app, "thuongtruc").get("/").text
    waiting = html.split('data-chart="waiting"')[1].split("</section>")[0]
    assert 'href="/review/?age=week"' in waiting and 'href="/review/?age=older"' in waiting
