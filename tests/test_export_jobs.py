"""Large inventory exports: written by a job, offered on its page, to their requester only."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.choices import JobState
from registry.models import AuditEvent, Job
from registry.services import export_jobs, jobs
from registry.services.jobs import JobCancelled, Progress
from tests.conftest import sign_in

NAMES = ("Hệ thống quản lý hồ sơ cán bộ", "Cổng thông tin điện tử tỉnh", "Hệ thống thư điện tử công vụ")


@pytest.fixture
def portfolio(make_system):
    return [make_system(name=name) for name in NAMES]


@pytest.fixture
def small_threshold(app):
    app.config["EXPORT_JOB_THRESHOLD"] = 2
    return app


@pytest.fixture
def held(app):
    sent: list[int] = []
    app.extensions[jobs.DISPATCH_KEY] = sent.append
    return sent


def _exported(session) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export.inventory")
    return session.scalar(query)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_export_above_the_threshold_is_a_job_whose_page_offers_the_file(
    client_for, session, portfolio, small_threshold, fmt
):
    client = client_for("auditor")
    started = client.get(f"/exports/systems.{fmt}")
    assert started.status_code == 302 and started.headers["Location"].startswith("/jobs/")
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert 'data-job-state="succeeded"' in page and 'data-count="systems">3<' in page
    job = session.scalar(select(Job))
    assert job.kind == "export" and job.state == JobState.SUCCEEDED
    assert f'href="/jobs/{job.id}/download"' in page
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Disposition"].rstrip('"').endswith(f".{fmt}")
    body = download.get_data()
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        names = {row[1] for row in book["Systems"].iter_rows(min_row=3, values_only=True)}
    else:
        names = {name for name in NAMES if name in body.decode("utf-8")}
    assert names == set(NAMES)
    assert _exported(session) == 1  # audited once, when the file was written


def test_below_the_threshold_the_download_stays_direct(client_for, session, portfolio, app):
    app.config["EXPORT_JOB_THRESHOLD"] = 3
    answer = client_for("auditor").get("/exports/systems.csv")
    assert answer.status_code == 200 and NAMES[0] in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_file_is_served_to_its_requester_only(
    app, client_for, make_user, session, portfolio, small_threshold
):
    owner = client_for("auditor")
    location = owner.get("/exports/systems.csv").headers["Location"]
    job_id = int(location.rsplit("/", 1)[1])
    admin = sign_in(app.test_client(), make_user("admin").username)
    assert admin.get(location).status_code == 200  # an administrator follows every job…
    assert "data-job-download" not in admin.get(location).get_data(as_text=True)
    assert admin.get(f"/jobs/{job_id}/download").status_code == 404  # …but not into its file
    assert owner.get(f"/jobs/{job_id}/download").status_code == 200
    for path in export_jobs.export_dir().iterdir():
        path.unlink()
    assert owner.get(f"/jobs/{job_id}/download").status_code == 404  # removed: not found, not 500


def test_the_same_export_asked_twice_while_it_waits_is_one_job(
    client_for, session, portfolio, small_threshold, held
):
    client = client_for("auditor")
    first = client.get("/exports/systems.xlsx").headers["Location"]
    assert client.get("/exports/systems.xlsx").headers["Location"] == first
    assert client.get("/exports/systems.csv").headers["Location"] != first
    assert len(held) == 2
    assert client.get(f"{first}/download").status_code == 404  # not written yet


class _CancelledWhileWriting(Progress):
    def __call__(self, done: int, total: int) -> None:
        self.cancelled.set()
        super().__call__(done, total)


def test_a_cancelled_export_keeps_no_file_but_stays_in_the_trail(
    app, client_for, session, portfolio, small_threshold, held, make_user
):
    client = client_for("auditor")
    job_id = int(client.get("/exports/systems.csv").headers["Location"].rsplit("/", 1)[1])
    job = session.get(Job, job_id)
    with app.app_context(), pytest.raises(JobCancelled):
        export_jobs.run_export(
            session.get_bind(), _CancelledWhileWriting(), Actor.operator("test"), job.params
        )
    folder = export_jobs.export_dir()
    assert not folder.exists() or list(folder.iterdir()) == []
    assert _exported(session) == 1  # what was begun is audited, as for a direct download


def test_files_older_than_a_day_are_removed(app, client_for, session, portfolio, small_threshold):
    client = client_for("auditor")
    job_id = int(client.get("/exports/systems.csv").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        (written,) = export_jobs.export_dir().iterdir()
        assert export_jobs.remove_expired() == 0
        assert export_jobs.remove_expired(now=written.stat().st_mtime + 86_401) == 1
    assert client.get(f"/jobs/{job_id}/download").status_code == 404


def test_a_submitters_export_job_keeps_to_their_agency(client_for, make_agency, make_system, small_threshold):
    own = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    ours = [make_system(name=f"Hệ thống Thanh Hóa {n}", owner_agency_id=own.id) for n in range(3)]
    make_system(name="Hệ thống của cơ quan khác")
    client = client_for("submitter", agency_id=own.id)
    location = client.get("/exports/systems.json").headers["Location"]
    body = client.get(f"{location}/download").get_data(as_text=True)
    assert all(system.name in body for system in ours) and "cơ quan khác" not in body
