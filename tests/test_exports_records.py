"""Exports of the decision log and of the duplication warnings with their dispositions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select, update

from registry.auth.actor import Actor
from registry.exports import records
from registry.models import AuditEvent, Decision, DuplicateWarning
from registry.services import review, workflow
from tests.conftest import only_these_warnings, proposal_fields


@pytest.fixture
def decided(make_agency, make_user, make_capability, make_system, session):
    """Two agencies' proposals: one approved reusing a platform, one rejected; two warnings."""
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    other = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    fields = proposal_fields(make_agency, make_capability(code="party_members", name="Quản lý đảng viên"))
    fields["overlap_justification"] = "Nền tảng chung chưa có chức năng sinh hoạt chi bộ."
    platform = make_system(name="Sổ tay đảng viên dùng chung", status="in_operation", is_shared_platform=True)
    ours = make_system(name="=Sổ tay đảng viên Thanh Hóa", owner_agency_id=province.id, **fields)
    theirs = make_system(name="Sổ tay đảng viên Huế", owner_agency_id=other.id, **fields)
    reviewer = Actor.of(make_user("reviewer", username="thuongtruc"))
    for system, outcome, reuse in ((ours, "approve", platform.code), (theirs, "reject", None)):
        workflow.transition(
            session,
            system,
            "submit",
            actor=Actor.of(make_user("submitter", agency_id=system.owner_agency_id)),
        )
        workflow.transition(session, system, "start_review", actor=reviewer)
        workflow.transition(
            session,
            system,
            outcome,
            actor=reviewer,
            reason="Đủ căn cứ pháp lý và không trùng lặp.",
            reuse_code=reuse,
        )
    warnings = []
    for system in (ours, theirs):
        low, high = sorted([platform.id, system.id])
        warning = DuplicateWarning(
            system_a_id=low,
            system_b_id=high,
            score=0.87654,
            components={"name": 0.8, "word": 0.7},
            reasons=[],
            detector_version="test-1",
        )
        warnings.append(warning)
    only_these_warnings(session, *warnings)
    review.dispose_warning(
        session,
        warnings[0].id,
        disposition="justified",
        reason="Phạm vi khác: chỉ dùng trong tỉnh.",
        actor=reviewer,
        expected_version=1,
    )
    session.commit()
    return {"province": province, "ours": ours, "theirs": theirs, "platform": platform, "warnings": warnings}


def _csv(data: bytes) -> tuple[str, list[dict[str, str]]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff#") or text.startswith('\ufeff"#')
    lines = text[1:].splitlines(keepends=True)
    return lines[0], list(csv.DictReader(io.StringIO("".join(lines[1:]))))


def test_the_decision_log_names_system_action_outcome_reason_reuse_and_reviewer(client_for, decided):
    response = client_for("auditor").get("/exports/decisions.csv")
    assert response.status_code == 200
    meta, rows = _csv(response.get_data())
    assert "Registry decision log" in meta and "2 decisions" in meta
    approved, rejected = rows
    assert approved["system_code"] == decided["ours"].code
    assert approved["system_name"] == "'=Sổ tay đảng viên Thanh Hóa"  # never a formula
    assert (approved["action"], approved["outcome"]) == ("approve", "approved")
    assert approved["reuse_code"] == decided["platform"].code and approved["decided_by"] == "thuongtruc"
    assert approved["reason"] == "Đủ căn cứ pháp lý và không trùng lặp."
    assert (rejected["action"], rejected["outcome"], rejected["reuse_code"]) == ("reject", "rejected", "")
    assert approved["decided_at"].endswith("+00:00")


def test_the_decision_log_filters_by_outcome_and_period(client, decided, session):
    body = json.loads(client.get("/exports/decisions.json?status=reject").get_data())
    assert [d["system_code"] for d in body["decisions"]] == [decided["theirs"].code]
    assert body["meta"]["filters"] == {"status": ["reject"]} and body["meta"]["count"] == 1
    long_ago = datetime.now(UTC) - timedelta(days=40)
    session.execute(
        update(Decision).where(Decision.system_id == decided["ours"].id).values(decided_at=long_ago)
    )
    session.commit()
    today = datetime.now(UTC).date().isoformat()
    body = json.loads(client.get(f"/exports/decisions.json?since={today}").get_data())
    assert [d["system_code"] for d in body["decisions"]] == [decided["theirs"].code]
    old = long_ago.date().isoformat()
    body = json.loads(client.get(f"/exports/decisions.json?since={old}&until={old}").get_data())
    assert [d["system_code"] for d in body["decisions"]] == [decided["ours"].code]


def test_the_last_day_a_date_can_name_is_a_period_s_end(client, decided):
    body = json.loads(client.get("/exports/decisions.json?since=0001-01-01&until=9999-12-31").get_data())
    assert body["meta"]["count"] == 2
    assert client.get("/exports/warnings.csv?until=9999-12-31").status_code == 200


def test_warnings_carry_both_systems_score_components_detector_and_disposition(client, decided):
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/warnings.xlsx").get_data()))
    sheet = book["Warnings"]
    header = [c.value for c in sheet[2]]  # under the row of labels
    assert header == list(records.WARNING_COLUMNS)
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=3)]
    justified = next(r for r in rows if r["status"] == "justified")
    assert {justified["system_a"], justified["system_b"]} == {decided["platform"].code, decided["ours"].code}
    assert justified["score"] == 0.8765 and json.loads(justified["components"]) == {"name": 0.8, "word": 0.7}
    assert justified["detector_version"] == "test-1" and justified["decided_by"] == "thuongtruc"
    assert justified["reason"] == "Phạm vi khác: chỉ dùng trong tỉnh." and justified["decided_at"]
    assert book["About"]["B2"].value == "admin"
    body = json.loads(client.get("/exports/warnings.json?status=open").get_data())
    assert [w["status"] for w in body["warnings"]] == ["open"]


def test_submitters_take_out_every_decision_and_warning(client, client_for, decided):
    """Review outcomes are transparent: a submitter's download is the reviewer's."""
    submitter = client_for("submitter", agency_id=decided["province"].id)
    _meta, decisions = _csv(submitter.get("/exports/decisions.csv").get_data())
    _meta, everyone = _csv(client.get("/exports/decisions.csv").get_data())
    assert decisions == everyone and len(decisions) > 1
    _meta, warnings = _csv(submitter.get("/exports/warnings.csv").get_data())
    _meta, all_warnings = _csv(client.get("/exports/warnings.csv").get_data())
    assert warnings == all_warnings


def test_each_export_is_an_audit_event(client, decided, session):
    client.get("/exports/decisions.xlsx?status=approve")
    client.get("/exports/warnings.csv")
    events = {
        e.action: e for e in session.scalars(select(AuditEvent).where(AuditEvent.object_type == "export"))
    }
    assert events["export.decisions"].after == {
        "format": "xlsx",
        "filters": {"status": ["approve"]},
        "decisions": 1,
    }
    assert events["export.warnings"].after == {"format": "csv", "filters": {}, "warnings": 2}


def test_rows_stream_in_batches(session, decided):
    flt = records.RecordFilter()
    assert [r["system_code"] for r in records.decision_rows(session, flt, batch=1)] == [
        r["system_code"] for r in records.decision_rows(session, flt)
    ]
    assert len(list(records.warning_rows(session, flt, batch=1))) == 2


def test_an_owner_filter_keeps_the_rows_touching_those_agencies(session, decided):
    flt = records.RecordFilter(owner_ids=(decided["province"].id,))
    assert [r["system_code"] for r in records.decision_rows(session, flt)] == [decided["ours"].code]
    assert [r["status"] for r in records.warning_rows(session, flt)] == ["justified"]
    nobody = records.RecordFilter(owner_ids=())
    assert records.count_decisions(session, nobody) == records.count_warnings(session, nobody) == 0


def test_the_command_line_exports_decisions_and_warnings(app, decided, tmp_path):
    target = tmp_path / "decisions.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "decisions", "--output", str(target), "--status", "approve"]
    )
    assert result.exit_code == 0, result.output
    assert "1 decisions written" in result.output
    result = app.test_cli_runner().invoke(
        args=["export", "warnings", "--format", "json", "--output", str(tmp_path / "w.json")]
    )
    assert "2 warnings written" in result.output
    assert len(json.loads((tmp_path / "w.json").read_text(encoding="utf-8"))["warnings"]) == 2


def test_the_export_menus_offer_the_new_exports(client_for, decided):
    reviewer = client_for("reviewer").get("/systems/?level=province").get_data(as_text=True)
    assert 'href="/exports/decisions.xlsx"' in reviewer and 'href="/exports/warnings.csv"' in reviewer
    assert 'name="as_of"' in reviewer and 'action="/exports/as-of"' in reviewer
    assert 'name="fmt" value="json"' in reviewer
    assert '<input type="hidden" name="level" value="province">' in reviewer
    assert "audit-trail" not in reviewer
    auditor = client_for("auditor")
    assert 'href="/exports/audit-trail.jsonl"' in auditor.get("/systems/").get_data(as_text=True)
    assert 'formaction="/exports/audit-trail.csv"' in auditor.get("/audit/").get_data(as_text=True)
    queue = client_for("reviewer", username="reviewer2").get("/review/").get_data(as_text=True)
    assert 'href="/exports/decisions.xlsx"' in queue
