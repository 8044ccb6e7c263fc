"""Background jobs through the pages and the API: start a scan, follow it, cancel it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from registry.models import ImportUpload, Job
from registry.services import jobs
from tests.conftest import api_tokens, csrf_token_of, sign_in
from tests.test_jobs import SCAN_NAMES, TWIN_DESCRIPTION


@pytest.fixture
def twins(make_system):
    return [make_system(name=name, description=TWIN_DESCRIPTION) for name in SCAN_NAMES]


@pytest.fixture
def held(app):
    """A queue nobody consumes: jobs stay queued, as while the worker is busy."""
    sent: list[int] = []
    app.extensions[jobs.DISPATCH_KEY] = sent.append
    return sent


def test_a_reviewer_scans_from_the_jobs_page_and_sees_the_result(client_for, session, twins):
    client = client_for("reviewer")
    page = client.get("/jobs/")
    assert page.status_code == 200
    assert "data-start-scan" in page.get_data(as_text=True)
    started = client.post("/jobs/scan")
    assert started.status_code == 302
    job_page = client.get(started.headers["Location"])
    html = job_page.get_data(as_text=True)
    assert job_page.status_code == 200
    assert 'data-job-state="succeeded"' in html
    assert re.search(r'data-count="systems">2<', html)
    assert "http-equiv" not in html  # a finished job's page stops refreshing itself


def test_a_running_job_page_refreshes_without_script_and_can_be_cancelled(client_for, session, held):
    client = client_for("admin")
    location = client.post("/jobs/scan").headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "data-job-reload" in html and "data-job-cancel" in html
    assert "js/job-progress.js" in html
    job_id = int(location.rstrip("/").rsplit("/", 1)[1])
    cancelled = client.post(f"/jobs/{job_id}/cancel", follow_redirects=True)
    assert 'data-job-state="cancelled"' in cancelled.get_data(as_text=True)
    assert session.get(Job, job_id).state == "cancelled"


def test_starting_again_while_a_scan_waits_leads_to_the_same_job(client_for, session, held):
    client = client_for("reviewer")
    first = client.post("/jobs/scan").headers["Location"]
    second = client.post("/jobs/scan", follow_redirects=False).headers["Location"]
    assert first == second
    assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert len(held) == 1


@pytest.mark.parametrize("role", ["submitter", "auditor"])
def test_those_who_may_not_scan_can_neither_start_nor_list(client_for, make_agency, role):
    client = client_for(role, agency_id=make_agency().id)
    assert client.post("/jobs/scan").status_code == 403
    assert client.get("/jobs/").status_code == 403


def test_someone_elses_job_is_not_found(client_for, make_agency, session, held):
    location = client_for("reviewer").post("/jobs/scan").headers["Location"]
    job_id = location.rstrip("/").rsplit("/", 1)[1]
    submitter = client_for("submitter", agency_id=make_agency().id)
    assert submitter.get(f"/jobs/{job_id}").status_code == 404
    assert submitter.get(f"/api/v1/jobs/{job_id}").status_code == 404


def test_the_job_page_checks_csrf(csrf_app, client_for, held):
    client = client_for("reviewer")
    assert client.post("/jobs/scan").status_code == 400
    page = client.get("/jobs/").get_data(as_text=True)
    assert client.post("/jobs/scan", data={"csrf_token": csrf_token_of(page)}).status_code == 302


def test_the_api_starts_a_scan_with_202_and_reports_its_progress(anon_client, session, make_user, held):
    tokens = api_tokens(session, {"reviewer": make_user("reviewer"), "admin": make_user("admin")})
    headers = {"Authorization": f"Bearer {tokens['reviewer']}"}
    answer = anon_client.post("/api/v1/scans", headers=headers)
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["state"] == "queued" and body["created"] is True and body["active"] is True
    assert answer.headers["Location"].endswith(f"/api/v1/jobs/{body['id']}")
    again = anon_client.post("/api/v1/scans", headers=headers).get_json()
    assert again["id"] == body["id"] and again["created"] is False
    read = anon_client.get(f"/api/v1/jobs/{body['id']}", headers=headers)
    assert read.status_code == 200
    assert read.get_json()["percent"] == 0
    assert anon_client.get("/api/v1/jobs/999999", headers=headers).status_code == 404
    read_only = {"Authorization": f"Bearer {tokens['read']}"}
    assert anon_client.post("/api/v1/scans", headers=read_only).status_code == 403


def test_the_api_scan_runs_to_the_end(client_for, session, twins):
    client = client_for("admin")
    body = client.post("/api/v1/scans").get_json()
    job = client.get(f"/api/v1/jobs/{body['id']}").get_json()
    assert job["state"] == "succeeded" and job["percent"] == 100 and job["counts"]["systems"] == 2


def _finished_import(session, user) -> str:
    upload = ImportUpload(
        token="t" * 43,
        user_id=user.id,
        filename="list.csv",
        format="csv",
        size=1,
        sha256="0" * 64,
        content=b"x",
        result={"created": 1, "updated": 0, "unchanged": 0, "codes": []},
    )
    upload.committed_at = datetime.now(UTC)
    session.add(upload)
    session.commit()
    return f"/imports/{upload.token}"


def test_the_import_result_offers_a_scan_to_those_who_may_run_it(app, session, make_user):
    admin = make_user("admin")
    client = sign_in(app.test_client(), admin.username)
    html = client.get(_finished_import(session, admin)).get_data(as_text=True)
    assert "data-scan-offer" in html and "/jobs/scan" in html
    assert "flask --app app scan" not in html


def test_a_submitters_import_result_says_who_scans(app, session, make_user, make_agency):
    submitter = make_user("submitter", agency_id=make_agency().id)
    client = sign_in(app.test_client(), submitter.username)
    html = client.get(_finished_import(session, submitter)).get_data(as_text=True)
    assert "data-scan-offer" not in html and "data-scan-hint" in html
