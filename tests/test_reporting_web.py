"""The reporting area through its doors: pages, the API, the usage import, and their parity."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.models import AuditEvent, Notification, SystemAttestation, UsageReport
from registry.services import jobs, reporting
from registry.services.jobs import JobCancelled, Progress
from registry.services.reporting import RoundInput
from tests.conftest import OPERATOR, api_tokens, sign_in

PERIOD = (date(2026, 1, 1), date(2026, 6, 30))


@pytest.fixture
def world(session, make_agency, make_system, make_user) -> dict[str, Any]:
    own = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    other = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    portal = make_system(name="Cổng thông tin Thanh Hóa", owner_agency_id=own.id, status="in_operation")
    office = make_system(name="Quản lý văn bản Nghệ An", owner_agency_id=other.id, status="in_operation")
    users = {
        "submitter": make_user("submitter", agency_id=own.id),
        "other": make_user("submitter", agency_id=other.id),
        "reviewer": make_user("reviewer"),
        "admin": make_user("admin"),
    }
    round_ = reporting.open_round(
        session,
        RoundInput(
            title="Báo cáo 6 tháng đầu năm 2026",
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            deadline=date.today() + timedelta(days=10),
            agency_ids=(own.id, other.id),
        ),
        actor=OPERATOR,
    )
    session.commit()
    return {"own": own, "other": other, "portal": portal, "office": office, "users": users, "round": round_}


def client_of(app, world, who: str):
    return sign_in(app.test_client(), world["users"][who].username)


def count(session, model, *conditions) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


USAGE_FORM = {
    "period_start": "2026-01-01",
    "period_end": "2026-06-30",
    "active_users": "1.200",
    "transactions": "45 000",
    "cost_vnd": "350.000.000",
    "note": "",
}


def test_the_round_page_shows_each_agency_and_the_managers_buttons(app, world):
    page = client_of(app, world, "reviewer").get(f"/reporting/{world['round'].id}")
    assert page.status_code == 200
    assert 'data-agency="TU-THA"' in page.text and 'data-agency="TU-NAN"' in page.text
    assert 'data-action="remind"' in page.text
    as_submitter = client_of(app, world, "submitter").get(f"/reporting/{world['round'].id}")
    assert 'data-action="remind"' not in as_submitter.text
    assert f"/reporting/{world['round'].id}/agencies/TU-THA" in as_submitter.text


def test_a_submitter_files_the_round_through_the_pages(app, session, world):
    client = client_of(app, world, "submitter")
    round_id, code = world["round"].id, world["portal"].code
    checklist = client.get(f"/reporting/{round_id}/agencies/TU-THA")
    assert 'data-action="confirm"' in checklist.text
    assert client.post(f"/reporting/{round_id}/systems/{code}/confirm", data={"note": ""}).status_code == 302
    form = client.get(f"/systems/{code}/usage?round={round_id}")
    assert 'value="2026-01-01"' in form.text
    saved = client.post(f"/systems/{code}/usage?round={round_id}", data=USAGE_FORM)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/agencies/TU-THA#system-{code}")
    report = session.scalars(select(UsageReport)).one()
    assert (report.active_users, report.transactions, report.cost_vnd) == (1200, 45_000, 350_000_000)
    assert report.round_id == round_id
    progress = {p.code: p.state for p in reporting.round_progress(session, round_id)}
    assert progress == {"TU-THA": "completed", "TU-NAN": "not_started"}


def test_the_usage_form_shows_field_errors(app, world):
    client = client_of(app, world, "submitter")
    response = client.post(
        f"/systems/{world['portal'].code}/usage", data={**USAGE_FORM, "period_end": "2025-12-31"}
    )
    assert response.status_code == 422
    assert 'id="period_end-error"' in response.text


def test_a_submitter_cannot_attest_or_report_for_another_agency(app, session, world):
    client = client_of(app, world, "submitter")
    code = world["office"].code
    assert client.post(f"/reporting/{world['round'].id}/systems/{code}/confirm").status_code == 403
    assert client.post(f"/systems/{code}/usage", data=USAGE_FORM).status_code == 403
    assert client.get(f"/reporting/{world['round'].id}/systems/{code}/correct").status_code == 403
    assert count(session, SystemAttestation) == 0 and count(session, UsageReport) == 0
    checklist = client.get(f"/reporting/{world['round'].id}/agencies/TU-NAN")
    assert 'data-action="confirm"' not in checklist.text


def test_a_correction_goes_through_the_system_form(app, session, world):
    client = client_of(app, world, "submitter")
    system = world["portal"]
    url = f"/reporting/{world['round'].id}/systems/{system.code}/correct"
    form = client.get(url)
    assert form.status_code == 200 and f'action="{url}"' in form.text
    data = {
        "name": system.name,
        "description": system.description,
        "status": "in_operation",
        "scope_level": "central",
        "owner_agency_id": str(world["own"].id),
        "legal_basis": "Quyết định 204-QĐ/TW",
        "version": str(system.version),
    }
    assert client.post(url, data=data).status_code == 302
    session.expire_all()
    attestation = session.scalars(select(SystemAttestation)).one()
    assert attestation.outcome == "corrected"
    assert session.get(type(system), system.id).legal_basis == "Quyết định 204-QĐ/TW"


def test_the_standing_office_reminds_and_closes(app, session, world):
    client = client_of(app, world, "reviewer")
    round_id = world["round"].id
    assert client.post(f"/reporting/{round_id}/remind").status_code == 302
    assert client.post(f"/reporting/{round_id}/remind").status_code == 302  # same day: nothing more
    assert count(session, AuditEvent, AuditEvent.action == "round.remind") == 1
    assert client.post(f"/reporting/{round_id}/close").status_code == 302
    page = client.get(f"/reporting/{round_id}")
    assert 'data-round-status="closed"' in page.text and 'data-action="close"' not in page.text


def test_reminders_run_as_a_job_whose_page_counts_them_and_leads_back(app, session, world):
    client = client_of(app, world, "reviewer")
    round_id = world["round"].id
    location = client.post(f"/reporting/{round_id}/remind").headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", location)
    page = client.get(location).text
    assert 'data-job-state="succeeded"' in page
    assert re.search(r'data-count="agencies">2<', page) and re.search(r'data-count="messages">2<', page)
    assert f'href="/reporting/{round_id}" data-job-round' in page
    again = client.get(client.post(f"/reporting/{round_id}/remind").headers["Location"]).text
    assert re.search(r'data-count="agencies">0<', again) and "data-job-again" in again
    assert count(session, Notification, Notification.kind == "round_reminder") == 2


class _CancelledWhileSending(Progress):
    def __call__(self, done: int, total: int) -> None:
        self.cancelled.set()
        super().__call__(done, total)


def test_cancelled_reminders_send_nothing(app, session, world):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    reviewer = Actor.of(world["users"]["reviewer"])
    job, created = reporting.start_reminders(session, reviewer, world["round"].id)
    assert created and reporting.start_reminders(session, reviewer, world["round"].id) == (job, False)
    session.commit()
    with pytest.raises(JobCancelled):
        reporting.run_reminders(session.get_bind(), _CancelledWhileSending(), reviewer, job.params)
    assert count(session, Notification, Notification.kind == "round_reminder") == 0
    assert count(session, AuditEvent, AuditEvent.action == "round.remind") == 0


def test_the_system_page_shows_the_usage_chart_and_table(app, session, world):
    client = client_of(app, world, "submitter")
    code = world["portal"].code
    client.post(f"/systems/{code}/usage", data=USAGE_FORM)
    client.post(
        f"/systems/{code}/usage",
        data={**USAGE_FORM, "period_start": "2025-07-01", "period_end": "2025-12-31", "active_users": "900"},
    )
    page = client.get(f"/systems/{code}")
    assert "data-usage-chart" in page.text and 'data-series="active_users"' in page.text
    assert 'data-action="report-usage"' in page.text
    other = client_of(app, world, "other").get(f"/systems/{code}")
    assert 'data-action="report-usage"' not in other.text


def test_a_new_round_from_the_form(app, session, world):
    client = client_of(app, world, "reviewer")
    response = client.post(
        "/reporting/new",
        data={
            "title": "Báo cáo năm 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "deadline": (date.today() + timedelta(days=60)).isoformat(),
            "level": "province",
        },
    )
    assert response.status_code == 302, response.text
    refused = client.post("/reporting/new", data={"title": "", "level": ""})
    assert refused.status_code == 422 and 'id="title-error"' in refused.text


# --- usage import ------------------------------------------------------------------------------------


def usage_csv(world, *rows: str) -> bytes:
    header = "system_code,period_start,period_end,active_users,transactions,cost_vnd,note\n"
    return (header + "".join(r + "\n" for r in rows)).encode()


def test_a_usage_file_is_previewed_then_filed(app, session, world):
    client = client_of(app, world, "submitter")
    code = world["portal"].code
    data = usage_csv(
        world, f"{code},2026-01-01,2026-06-30,1200,45000,350000000,", f"{code},01/07/2025,31/12/2025,900,,,"
    )
    import io

    preview = client.post(
        "/reporting/usage-import",
        data={"file": (io.BytesIO(data), "usage.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert count(session, UsageReport) == 0
    token = preview.text.split("/reporting/usage-import/")[1].split('"')[0]
    assert client.post(f"/reporting/usage-import/{token}").status_code == 302
    assert count(session, UsageReport) == 2
    assert client.post(f"/reporting/usage-import/{token}").status_code == 404  # committed once


def test_a_usage_file_with_a_bad_row_files_nothing(app, session, world):
    client = client_of(app, world, "submitter")
    data = usage_csv(
        world,
        f"{world['portal'].code},2026-01-01,2026-06-30,1200,,,",
        f"{world['office'].code},2026-01-01,2026-06-30,50,,,",  # another agency's system
        "HTTT-1999-000001,2026-01-01,2026-06-30,5,,,",
        f"{world['portal'].code},2026-01-01,2025-06-30,-3,,,",
    )
    import io

    preview = client.post(
        "/reporting/usage-import",
        data={"file": (io.BytesIO(data), "usage.csv")},
        content_type="multipart/form-data",
    )
    assert "data-problems" in preview.text
    problems = re.search(r"data-problems>(.*?)</ul>", preview.text, re.S)
    assert problems is not None
    rows = {re.match(r"\s*\w+ (\d+)", item)[1] for item in re.findall(r"<li>(.*?)</li>", problems[1], re.S)}
    assert rows == {"3", "4", "5"}
    assert "/reporting/usage-import/" not in preview.text.replace('action="/reporting/usage-import"', "")
    assert count(session, UsageReport) == 0


# --- API ---------------------------------------------------------------------------------------------


@pytest.fixture
def tokens(session, world) -> dict[str, str]:
    return api_tokens(session, {k: world["users"][k] for k in ("admin", "submitter", "reviewer")})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_api_files_and_corrects_usage(app, session, world, tokens):
    client = app.test_client()
    url = f"/api/v1/systems/{world['portal'].code}/usage"
    body = {"period_start": "2026-01-01", "period_end": "2026-06-30", "active_users": 1200}
    created = client.post(url, json=body, headers=bearer(tokens["submitter"]))
    assert created.status_code == 201, created.text
    corrected = client.post(url, json={**body, "active_users": 1500}, headers=bearer(tokens["submitter"]))
    assert corrected.status_code == 200 and corrected.get_json()["active_users"] == 1500
    listed = client.get(url, headers=bearer(tokens["read"])).get_json()
    assert [r["active_users"] for r in listed["items"]] == [1500]
    bad = client.post(url, json={**body, "period_end": "2025-01-01"}, headers=bearer(tokens["submitter"]))
    assert bad.status_code == 422 and "period_end" in bad.get_json()["error"]["fields"]
    assert client.post(url, json=body, headers=bearer(tokens["reviewer"])).status_code == 403
    assert client.post(url, json=body, headers=bearer(tokens["read"])).status_code == 403


def test_the_api_lists_rounds_and_attests(app, session, world, tokens):
    client = app.test_client()
    round_id = world["round"].id
    rounds = client.get("/api/v1/rounds", headers=bearer(tokens["read"])).get_json()
    assert [r["id"] for r in rounds["items"]] == [round_id]
    assert rounds["items"][0]["not_started"] == 2
    attest = client.post(
        f"/api/v1/rounds/{round_id}/attestations",
        json={"system": world["portal"].code, "outcome": "confirmed"},
        headers=bearer(tokens["submitter"]),
    )
    assert attest.status_code == 201, attest.text
    assert attest.get_json()["agency"] == "TU-THA" and not attest.get_json()["agency_completed"]
    foreign = client.post(
        f"/api/v1/rounds/{round_id}/attestations",
        json={"system": world["office"].code, "outcome": "confirmed"},
        headers=bearer(tokens["submitter"]),
    )
    assert foreign.status_code == 403
    corrected = client.post(
        f"/api/v1/rounds/{round_id}/attestations",
        json={
            "system": world["portal"].code,
            "outcome": "corrected",
            "changes": {"legal_basis": "Quyết định 204-QĐ/TW"},
            "version": world["portal"].version,
        },
        headers=bearer(tokens["submitter"]),
    )
    assert corrected.status_code == 201, corrected.text
    detail = client.get(f"/api/v1/rounds/{round_id}", headers=bearer(tokens["read"])).get_json()
    by_agency = {p["agency"]: p for p in detail["progress"]}
    assert by_agency["TU-THA"]["attested"] == 1 and by_agency["TU-THA"]["state"] == "in_progress"
    reporting.close_round(session, round_id, actor=OPERATOR)
    session.commit()
    closed = client.post(
        f"/api/v1/rounds/{round_id}/attestations",
        json={"system": world["portal"].code, "outcome": "confirmed"},
        headers=bearer(tokens["submitter"]),
    )
    assert closed.status_code == 409


# --- parity --------------------------------------------------------------------------------------------


def _report_and_event(session) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The one stored report, and the latest usage audit event, as plain values."""
    session.expire_all()
    r = session.scalars(select(UsageReport)).one()
    e = session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith("usage.")).order_by(AuditEvent.seq.desc())
    ).first()
    report = (r.period_start, r.period_end, r.active_users, r.transactions, r.cost_vnd, r.note, r.round_id)
    return report, (e.action, e.system_id, e.actor_id, e.after)


@pytest.mark.parametrize("door", ["form", "api", "import"])
def test_every_door_stores_the_same_report(app, session, world, tokens, door):
    """The form, the API and the import all file through file_usage_report: same row, same audit."""
    from registry.auth.actor import Actor
    from registry.services.usage import UsageInput, file_usage_report

    code = world["portal"].code
    if door == "form":
        client_of(app, world, "submitter").post(
            f"/systems/{code}/usage", data={**USAGE_FORM, "note": "6 tháng"}
        )
    elif door == "api":
        app.test_client().post(
            f"/api/v1/systems/{code}/usage",
            json={
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "active_users": 1200,
                "transactions": 45000,
                "cost_vnd": 350000000,
                "note": "6 tháng",
            },
            headers=bearer(tokens["submitter"]),
        )
    else:
        import io

        client = client_of(app, world, "submitter")
        data = usage_csv(world, f"{code},2026-01-01,2026-06-30,1.200,45000,350.000.000,6 tháng")
        preview = client.post(
            "/reporting/usage-import",
            data={"file": (io.BytesIO(data), "u.csv")},
            content_type="multipart/form-data",
        )
        token = preview.text.split("/reporting/usage-import/")[1].split('"')[0]
        client.post(f"/reporting/usage-import/{token}")
    through_door = _report_and_event(session)
    session.execute(UsageReport.__table__.delete())
    session.commit()
    file_usage_report(
        session,
        world["portal"],
        UsageInput(PERIOD[0], PERIOD[1], 1200, 45000, 350000000, "6 tháng"),
        actor=Actor.of(world["users"]["submitter"]),
    )
    session.commit()
    assert through_door == _report_and_event(session)
    assert through_door[0][2:6] == (1200, 45000, 350000000, "6 tháng")


def test_round_notifications_link_to_the_round(app, world):
    page = client_of(app, world, "submitter").get("/notifications/")
    assert f'href="/reporting/{world["round"].id}"' in page.text
    assert 'data-notification="round_opened"' in page.text


def test_the_history_labels_usage_and_attestation_events(app, session, world):
    client = client_of(app, world, "submitter")
    code = world["portal"].code
    client.post(f"/reporting/{world['round'].id}/systems/{code}/confirm", data={"note": ""})
    client.post(f"/systems/{code}/usage", data=USAGE_FORM)
    client.post(f"/systems/{code}/usage", data={**USAGE_FORM, "active_users": "1.500"})
    history = client.get(f"/systems/{code}/history").text
    for label in ("Đã xác nhận hồ sơ", "Đã báo cáo sử dụng", "Đã hiệu chỉnh báo cáo sử dụng", "Đợt báo cáo"):
        assert label in history, label
    assert "usage.correct" not in history and "period_start" not in history


def test_the_usage_import_command_previews_then_files(app, session, world, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_bytes(usage_csv(world, f"{world['portal'].code},2026-01-01,2026-06-30,1200,45000,,"))
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["reporting", "import-usage", str(path)])
    assert preview.exit_code == 0, preview.output
    assert "1 reports read: 1 new" in preview.output and count(session, UsageReport) == 0
    done = runner.invoke(args=["reporting", "import-usage", str(path), "--commit"])
    assert done.exit_code == 0, done.output
    assert "Filed: 1 reports." in done.output and count(session, UsageReport) == 1
    path.write_bytes(usage_csv(world, "HTTT-1999-000001,2026-01-01,2026-06-30,5,,,"))
    refused = runner.invoke(args=["reporting", "import-usage", str(path), "--commit"])
    assert refused.exit_code != 0 and "No system has the code HTTT-1999-000001" in refused.output
