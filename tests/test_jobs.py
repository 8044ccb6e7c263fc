"""Background jobs: one scan at a time, run by the queue, followed, cancelled, reaped when lost."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.choices import JobState
from registry.errors import NotFoundError, PermissionDeniedError
from registry.models import AuditEvent, DuplicateWarning, Finding, Job
from registry.services import jobs
from registry.services.audit import ACTION_LABELS
from registry.services.jobs import JobCancelled, Progress

TWIN_DESCRIPTION = "Quản lý văn bản đi, văn bản đến, trình ký số và điều hành công việc."
SCAN_NAMES = ("Phần mềm quản lý văn bản và điều hành", "Hệ thống quản lý văn bản điều hành")


@pytest.fixture
def twins(make_system):
    """Two systems that duplicate each other, so a scan has a warning to store."""
    return [make_system(name=name, description=TWIN_DESCRIPTION) for name in SCAN_NAMES]


def _actor(user) -> Actor:
    return Actor.of(user)


def test_starting_a_scan_twice_while_it_waits_returns_the_same_job(app, session, make_user):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None  # nothing consumes: the job stays queued
    reviewer = _actor(make_user("reviewer"))
    first, created = jobs.start_scan(session, reviewer)
    session.commit()
    again, created_again = jobs.start_scan(session, reviewer)
    session.commit()
    assert created and not created_again
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert session.scalar(select(func.count()).where(AuditEvent.action == "job.start")) == 1


def test_a_submitter_may_not_scan_the_portfolio(session, make_user, make_agency):
    submitter = _actor(make_user("submitter", agency_id=make_agency().id))
    with pytest.raises(PermissionDeniedError):
        jobs.start_scan(session, submitter)
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_scan_runs_when_the_start_commits_and_stores_warnings_and_findings(session, make_user, twins):
    reviewer = make_user("reviewer")
    job, _ = jobs.start_scan(session, _actor(reviewer))
    assert job.state == JobState.QUEUED  # not run before the commit: a rollback would lose the row
    session.commit()  # the queue is in immediate mode in tests: the job runs now
    session.refresh(job)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.counts["systems"] == 2 and job.counts["pairs"] >= 1
    assert job.counts["findings"] > 0
    assert job.active_key is None and job.finished_at is not None
    assert session.scalar(select(func.count()).select_from(DuplicateWarning)) >= 1
    assert session.scalar(select(func.count()).select_from(Finding)) == job.counts["findings"]
    scan_event = session.scalars(select(AuditEvent).where(AuditEvent.action == "overlap.scan")).one()
    assert scan_event.actor_label == reviewer.username  # the scan is credited to who started it


def test_a_job_that_is_no_longer_queued_is_never_run_again(app, session, make_user, twins):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    job, _ = jobs.start_scan(session, _actor(make_user("reviewer")))
    session.commit()
    calls = []

    def work(engine, progress, actor, params):
        calls.append(actor)
        return {"systems": 0}

    engine = session.get_bind()
    assert jobs.run(engine, job.id, {"scan": work}) == JobState.SUCCEEDED
    assert jobs.run(engine, job.id, {"scan": work}) is None  # delivered twice: ignored
    assert len(calls) == 1


def test_a_rolled_back_start_is_never_run(app, session, make_user):
    sent = []
    app.extensions[jobs.DISPATCH_KEY] = sent.append
    jobs.start_scan(session, _actor(make_user("reviewer")))
    session.rollback()
    session.commit()
    assert sent == []
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_cancelling_a_queued_job_ends_it_and_frees_the_key(app, session, make_user):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    reviewer = _actor(make_user("reviewer"))
    job, _ = jobs.start_scan(session, reviewer)
    jobs.cancel(session, reviewer, job.id)
    session.commit()
    assert job.state == JobState.CANCELLED and job.active_key is None
    assert jobs.run(session.get_bind(), job.id, {}) is None
    fresh, created = jobs.start_scan(session, reviewer)
    assert created and fresh.id != job.id
    with pytest.raises(jobs.JobError):
        jobs.cancel(session, reviewer, job.id)


def test_a_running_job_stops_at_its_next_report_once_cancelled(app, session, make_user):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    reviewer = _actor(make_user("reviewer"))
    job, _ = jobs.start_scan(session, reviewer)
    session.commit()
    engine = session.get_bind()
    seen = []

    def work(engine_, progress: Progress, actor, params):
        progress.begin("compare", 1000)
        with engine_.begin() as conn:  # someone presses Cancel while it runs
            table = Job.__table__
            conn.execute(table.update().where(table.c.id == job.id).values(cancel_requested=True))
        for done in range(1, 1000):
            progress(done, 1000)
            seen.append(done)
            time.sleep(0.01)
        return {"systems": 1}

    assert jobs.run(engine, job.id, {"scan": work}, report_every=0.05) == JobState.CANCELLED
    assert 0 < len(seen) < 999
    session.expire_all()
    stored = session.get(Job, job.id)
    assert stored.state == JobState.CANCELLED and stored.active_key is None
    assert stored.done == seen[-1] + 1 and stored.total == 1000  # the report that raised is kept


def test_a_failing_job_is_marked_failed_with_its_reason(app, session, make_user):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    job, _ = jobs.start_scan(session, _actor(make_user("reviewer")))
    session.commit()

    def work(engine, progress, actor, params):
        raise RuntimeError("the similarity index is corrupt")

    assert jobs.run(session.get_bind(), job.id, {"scan": work}) == JobState.FAILED
    session.expire_all()
    stored = session.get(Job, job.id)
    assert stored.error == "RuntimeError: the similarity index is corrupt"
    assert stored.active_key is None
    assert session.scalar(select(func.count()).where(AuditEvent.action == "job.fail")) == 1


def test_a_job_whose_worker_stopped_reporting_is_marked_failed(app, session, make_user):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    job, _ = jobs.start_scan(session, _actor(make_user("reviewer")))
    job.state = JobState.RUNNING
    job.heartbeat_at = datetime.now(UTC) - timedelta(minutes=5)
    fresh = Job(kind="scan", dedupe_key="other", active_key="other", started_by_label="x", state="running")
    fresh.heartbeat_at = datetime.now(UTC)
    session.add_all([job, fresh])
    session.commit()
    assert jobs.reap_stale(session) == 1
    session.commit()
    assert job.state == JobState.FAILED and job.error == jobs.WORKER_LOST and job.active_key is None
    assert fresh.state == JobState.RUNNING


def test_progress_raises_once_cancelled():
    progress = Progress()
    progress.begin("compare", 10)
    progress(3, 10)
    assert progress.snapshot() == ("compare", 3, 10)
    progress.cancelled.set()
    with pytest.raises(JobCancelled):
        progress(4, 10)


def test_only_the_starter_and_those_who_run_scans_follow_a_job(app, session, make_user, make_agency):
    app.extensions[jobs.DISPATCH_KEY] = lambda job_id: None
    admin = _actor(make_user("admin"))
    job, _ = jobs.start_scan(session, admin)
    assert jobs.get_job(session, _actor(make_user("reviewer")), job.id) is job
    with pytest.raises(NotFoundError):
        jobs.get_job(session, _actor(make_user("auditor")), job.id)


def test_the_job_actions_have_labels():
    assert {"job.start", "job.cancel", "job.fail"} <= set(ACTION_LABELS)
