"""An upload read once, at upload time; its commit run as a job that writes once or not at all."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, time

import openpyxl
import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from registry.auth.actor import Actor
from registry.choices import JobState
from registry.interchange import source as kept
from registry.interchange.source import Source, SourceAgency, SourceRecord
from registry.models import AuditEvent, ImportUpload, InformationSystem, Job
from registry.services import import_uploads, jobs
from registry.services.import_uploads import run_commit
from registry.services.jobs import JobCancelled, Progress
from tests.conftest import csrf_token_of
from tests.test_imports_web import _commit, _count, _csv, _upload


@pytest.fixture
def province(make_agency):
    return make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")


@pytest.fixture
def held(app):
    """A queue nobody consumes: jobs stay queued, as while the worker is busy."""
    sent: list[int] = []
    app.extensions[jobs.DISPATCH_KEY] = sent.append
    return sent


def _xlsx(*rows: tuple[object, ...]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Systems"
    sheet.append(
        ["name", "description", "owner_agency", "scope_level", "operating_rules_ref", "operating_rules_date"]
    )
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _previewed(client, data: bytes, filename: str = "list.csv") -> tuple[str, str]:
    """Upload and preview; the preview's page and the upload's token."""
    location = _upload(client, data, filename).headers["Location"]
    page = client.get(location)
    assert page.status_code == 200
    return page.get_data(as_text=True), location.rsplit("/", 1)[1]


def _fingerprint(html: str) -> str:
    return re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1)


def _job_of(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[1])


def test_the_kept_source_reads_back_exactly():
    source = Source(
        format="xlsx",
        records=[
            SourceRecord("row 2", {"name": "A", "day": date(2025, 3, 31), "at": datetime(2025, 1, 2, 3, 4)}),
            SourceRecord("row 3", {"name": "B", "clock": time(8, 30), "odd": {"__kept__": 1}, "n": [1, 2.5]}),
        ],
        agencies=[SourceAgency("owners[0]", "BO-X", "Bộ X", level="central")],
        problems=[
            ("row 4", "name", _l("Column “%(name)s” appears twice.", name="name")),
            ("row 5", "", "plain text"),
        ],
    )
    stored = kept.keep_source(source)
    back = kept.kept_source(json.loads(json.dumps(stored)))
    assert back.records == source.records and back.agencies == source.agencies
    assert [problem[:2] for problem in back.problems] == [problem[:2] for problem in source.problems]
    with force_locale("en"):
        assert str(back.problems[0][2]) == "Column “name” appears twice."
    with force_locale("vi"):  # still a message id, not the uploader's sentence: read in any language
        assert str(back.problems[0][2]) == str(source.problems[0][2])
    assert back.problems[1][2] == "plain text"


def test_preview_and_commit_work_from_the_kept_rows_once_the_file_is_gone(client, province, session):
    html, token = _previewed(
        client,
        _xlsx(("Hệ thống A", "Mô tả hệ thống.", "TU-THA", "province", "QĐ 12/2025", date(2025, 3, 1))),
        "a.xlsx",
    )
    session.execute(update(ImportUpload).values(content=b"not a workbook any more"))
    session.commit()
    again = client.get(f"/imports/{token}")
    assert again.status_code == 200
    assert _fingerprint(again.get_data(as_text=True)) == _fingerprint(html)
    done = _commit(client, again.get_data(as_text=True))
    assert done.status_code == 302
    system = session.scalar(select(InformationSystem))
    assert system.name == "Hệ thống A" and system.operating_rules_date == date(2025, 3, 1)


def test_the_file_is_read_once_for_upload_previews_and_commit(client, province, session, monkeypatch):
    calls: list[str] = []
    real = import_uploads.read_source

    def counting(filename, data, fmt=None, **kwargs):
        calls.append(filename)
        return real(filename, data, fmt, **kwargs)

    monkeypatch.setattr(import_uploads, "read_source", counting)
    html, token = _previewed(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    client.get(f"/imports/{token}")
    assert _commit(client, html).status_code == 302
    assert _count(session) == 1
    assert calls == ["list.csv"]


def test_an_unreadable_file_keeps_its_reason_without_being_read_again(client, province, monkeypatch):
    location = _upload(client, "tên,mô tả\r\n".encode("utf-16-le"), "list.csv").headers["Location"]
    monkeypatch.setattr(import_uploads, "read_source", pytest.fail)
    page = client.get(location)
    assert page.status_code == 422 and 'data-import="unreadable"' in page.get_data(as_text=True)


def test_the_commit_is_a_job_whose_page_shows_the_counts_and_leads_to_the_result(client, province, session):
    html, token = _previewed(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    location = _commit(client, html).headers["Location"]
    assert location.startswith("/jobs/")
    job = session.get(Job, _job_of(location))
    assert job.kind == "import" and job.state == JobState.SUCCEEDED
    assert job.counts == {"created": 1, "updated": 0, "unchanged": 0, "agencies": 0}
    page = client.get(location).get_data(as_text=True)
    assert re.search(r'data-count="created">1<', page)
    assert f'href="/imports/{token}" data-job-import-result' in page
    assert 'data-import="done"' in client.get(f"/imports/{token}").get_data(as_text=True)


def test_committing_twice_while_it_waits_leads_to_the_same_job(client, province, session, held):
    html, token = _previewed(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    first = _commit(client, html).headers["Location"]
    assert _commit(client, html).headers["Location"] == first
    assert len(held) == 1 and session.scalar(select(func.count()).select_from(Job)) == 1
    assert _count(session) == 0  # nothing written until a worker runs it
    preview = client.get(f"/imports/{token}").get_data(as_text=True)  # left and came back
    assert "data-import-running" in preview and f'href="{first}"' in preview


def test_a_job_delivered_again_never_imports_twice(app, client, province, session, held, make_user):
    html, _token = _previewed(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    job_id = _job_of(_commit(client, html).headers["Location"])
    engine = session.get_bind()
    works = {"import": run_commit}
    assert jobs.run(engine, job_id, works) == JobState.SUCCEEDED
    assert jobs.run(engine, job_id, works) is None  # no longer queued: left alone
    # Even put back in the queue (a lost acknowledgement), the claimed upload is not written again.
    session.execute(update(Job).values(state="queued", active_key=None))
    session.commit()
    assert jobs.run(engine, job_id, works) == JobState.SUCCEEDED
    session.expire_all()
    assert session.get(Job, job_id).counts["already_committed"] is True
    assert _count(session) == 1
    commits = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import.commit")
    assert session.scalar(commits) == 1


class _CancelledWhileWriting(Progress):
    """Someone presses Cancel as the first rows are written."""

    def __call__(self, done: int, total: int) -> None:
        self.cancelled.set()
        super().__call__(done, total)


def test_a_cancelled_import_leaves_nothing_and_can_be_committed_later(client, province, session, held):
    html, _token = _previewed(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    job_id = _job_of(_commit(client, html).headers["Location"])
    job = session.get(Job, job_id)
    actor = Actor.operator("test")
    with pytest.raises(JobCancelled):
        run_commit(session.get_bind(), _CancelledWhileWriting(), actor, job.params)
    session.expire_all()
    assert _count(session) == 0
    assert session.scalar(select(ImportUpload)).committed_at is None
    counts = run_commit(session.get_bind(), Progress(), actor, job.params)
    assert counts["created"] == 1 and _count(session) == 1


def test_a_stale_preview_fails_the_job_with_a_reason_and_a_way_back(client, province, session):
    html, token = _previewed(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    stale = html.replace(_fingerprint(html), "0" * 64)
    location = _commit(client, stale).headers["Location"]
    job = session.get(Job, _job_of(location))
    assert job.state == JobState.FAILED and job.error == jobs.IMPORT_REFUSED
    page = client.get(location).get_data(as_text=True)
    assert "data-job-error" in page and "import_refused" not in page
    assert f'href="/imports/{token}" data-job-import-preview' in page
    assert _count(session) == 0 and session.scalar(select(ImportUpload)).committed_at is None


ROWS = (
    "Hệ thống A,Mô tả hệ thống.,TU-THA,province",
    "Hệ thống B,Mô tả khác.,TU-THA,province",
    ",Thiếu tên.,TU-THA,province",
)


def test_a_large_file_is_checked_by_a_job_that_keeps_its_preview(app, client, province, session, monkeypatch):
    app.config["IMPORT_CHECK_JOB_THRESHOLD"] = 2  # three rows count as a large file here
    planned = []
    real_plan = import_uploads.plan_staged
    monkeypatch.setattr(
        import_uploads, "plan_staged", lambda *a, **k: planned.append(1) or real_plan(*a, **k)
    )
    location = _upload(client, _csv(*ROWS)).headers["Location"]
    check = session.scalars(select(Job).where(Job.kind == "import_check")).one()
    assert check.state == JobState.SUCCEEDED, check.error  # queued by the upload (run at once here)
    assert check.counts == {"create": 2, "update": 0, "unchanged": 0, "refused": 1, "problems": 1}
    job_page = client.get(f"/jobs/{check.id}").get_data(as_text=True)
    assert f'href="{location}" data-job-import-preview' in job_page and 'data-count="refused">1<' in job_page

    page = client.get(location).get_data(as_text=True)
    assert "data-checked-at" in page and "data-check-again" in page
    assert 'data-count="refused"' in page and "dòng 4" in page  # the kept problem, still translated
    client.get(location)
    assert planned == [1]  # the page showed the kept preview; only the job planned

    fixed = _upload(client, _csv(*ROWS[:2])).headers["Location"]
    html = client.get(fixed).get_data(as_text=True)
    assert _commit(client, html).status_code == 302
    assert _count(session) == 2


def test_a_large_file_whose_check_has_not_run_says_so(app, client, province, session, held):
    app.config["IMPORT_CHECK_JOB_THRESHOLD"] = 1
    location = _upload(client, _csv(*ROWS[:2])).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    job = session.scalars(select(Job).where(Job.kind == "import_check")).one()
    assert 'data-import="checking"' in page and f'href="/jobs/{job.id}" data-check-job' in page
    assert 'http-equiv="refresh"' in page and "fingerprint" not in page  # nothing to commit yet


def test_a_refused_commit_clears_the_kept_preview_so_the_file_is_checked_again(
    app, client, province, session
):
    app.config["IMPORT_CHECK_JOB_THRESHOLD"] = 1
    location = _upload(client, _csv(*ROWS[:2])).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    stale = html.replace(_fingerprint(html), "0" * 64)  # the registry changed since the check
    job = session.get(Job, _job_of(_commit(client, stale).headers["Location"]))
    assert (job.state, job.error) == (JobState.FAILED, jobs.IMPORT_REFUSED)
    session.expire_all()
    assert session.scalar(select(ImportUpload)).preview is None
    page = client.get(location).get_data(as_text=True)
    assert 'data-import="unchecked"' in page and "data-check-again" in page
    again = client.post(f"{location}/check", data={"csrf_token": csrf_token_of(page)})
    rerun = session.get(Job, _job_of(again.headers["Location"]))
    assert rerun.kind == "import_check" and rerun.state == JobState.SUCCEEDED
    assert _commit(client, client.get(location).get_data(as_text=True)).status_code == 302
    assert _count(session) == 2


def test_someone_elses_upload_cannot_be_committed(client_for, province, session):
    owner = client_for("submitter", agency_id=province.id)
    html, token = _previewed(owner, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    intruder = client_for("admin")
    assert intruder.post(f"/imports/{token}/commit", data={"fingerprint": "x"}).status_code == 404
    assert session.scalar(select(func.count()).select_from(Job)) == 0


@pytest.mark.parametrize(
    ("kind", "step", "expected"),
    [
        ("import", "check", (1, 2)),
        ("import", "write", (2, 2)),
        ("scan", "rules", (2, 2)),
        ("export", "", (0, 0)),
        ("import_check", "check", (1, 1)),
    ],
)
def test_the_job_page_numbers_each_kinds_steps(kind, step, expected):
    job = Job(kind=kind, dedupe_key="k", started_by_label="x", step=step, state="running")
    assert jobs.view_of(job).step_number == expected
