"""Background jobs: start one (once), follow its progress, cancel it, and notice a dead worker.

The web and the API only write a :class:`~registry.models.Job` row; the queue carries its id
to a worker, which calls :func:`run`. The row is handed to the queue only once the starting
request commits (a refused or rolled-back start never runs), and :func:`run` ignores a job that
is no longer queued, so a task delivered twice, or a cancelled one, never does the work twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.auth.policy import Permission
from registry.choices import JOB_STEPS, JobKind, JobState
from registry.errors import NotFoundError, ServiceError
from registry.models import Job, User
from registry.services import audit

log = logging.getLogger(__name__)

DISPATCH_KEY = "registry.job_dispatch"
"""``app.extensions`` key of the function that hands a job id to the queue (:mod:`registry.jobs`)."""
ACTIVE = frozenset({JobState.QUEUED, JobState.RUNNING})
STALE_AFTER = timedelta(minutes=2)
"""A running job whose worker has not reported for this long is taken for dead: the reporter
thread writes every second, so two minutes covers a database locked by a long write."""
REPORT_EVERY = 1.0
"""Seconds between two progress writes: often enough for a progress bar, rare enough not to
compete with the job's own writes."""
WORKER_LOST = "worker_lost"
"""The ``error`` of a job whose worker died; shown as a translated sentence, not as code."""
SCAN_KEY = "scan:portfolio"
IMPORT_REFUSED = "import_refused"
"""The ``error`` of an import job the registry no longer matches (or the upload has gone)."""


class JobError(ServiceError):
    """The job cannot do what was asked (cancel a finished job)."""

    def __init__(self, message: object):
        self.message = message
        super().__init__(str(message))


class JobCancelled(Exception):
    """Raised inside the work, at its next progress report, once someone asked to cancel."""


class JobRefused(Exception):
    """Raised by the work when it must not go on for a reason its user can act on.

    ``reason`` is a short code (:data:`IMPORT_REFUSED`) that the job page turns into a sentence
    in the reader's language, rather than an exception's text.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def start(
    session: Session, actor: Actor, kind: str, *, dedupe_key: str, params: dict[str, Any] | None = None
) -> tuple[Job, bool]:
    """Queue a job of ``kind`` unless one with the same key is queued or running.

    ``params`` say what the work is to work on (it gets them as its fourth argument).

    Returns the job and whether it is new. Two starts at the same moment race for the unique
    ``active_key``: the loser gets the winner's job, as if it had come a second later.
    """
    running = _active(session, dedupe_key)
    if running is not None:
        return running, False
    job = Job(
        kind=kind,
        dedupe_key=dedupe_key,
        active_key=dedupe_key,
        started_by_id=actor.user_id,
        started_by_label=actor.label[:100],
        params=params,
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        winner = _active(session, dedupe_key)
        if winner is None:
            raise
        return winner, False
    audit.record(session, actor, "job.start", object_type="job", object_id=job.id, object_label=kind)
    _dispatch_on_commit(session, job.id)  # type: ignore[arg-type]  # flushed, so the id is set
    return job, True


def start_scan(session: Session, actor: Actor) -> tuple[Job, bool]:
    """Scan the whole portfolio in the background, as ``flask scan`` does; one at a time."""
    policy.ensure(policy.allows(actor, Permission.RUN_SCAN))
    return start(session, actor, JobKind.SCAN, dedupe_key=SCAN_KEY)


def active(session: Session, dedupe_key: str) -> Job | None:
    """The job queued or running under ``dedupe_key``, if any (to lead a page back to it)."""
    return _active(session, dedupe_key)


def _active(session: Session, dedupe_key: str) -> Job | None:
    return session.scalars(select(Job).where(col(Job.active_key) == dedupe_key)).first()


def _dispatch_on_commit(session: Session, job_id: int) -> None:
    """Hand the job to the queue once the row is committed, so a worker always finds it.

    A savepoint released on the way (the audit head's first row) also counts as a commit for
    SQLAlchemy's event; only the outermost one sends. A rollback forgets the job.
    """
    dispatch: Callable[[int], None] = current_app.extensions[DISPATCH_KEY]
    pending = [True]  # listeners cannot be removed while SQLAlchemy runs them; they go quiet

    def send(done: Session) -> None:
        if pending[0] and not done.in_nested_transaction():
            pending[0] = False
            dispatch(job_id)

    def drop(_session: Session, previous: Any) -> None:
        if previous.parent is None:
            pending[0] = False

    event.listen(session, "after_commit", send)
    event.listen(session, "after_soft_rollback", drop)


def may_follow(actor: Actor, job: Job) -> bool:
    """Whoever started a job follows it; those who may run scans follow every job."""
    if policy.allows(actor, Permission.RUN_SCAN):
        return True
    return actor.user_id is not None and actor.user_id == job.started_by_id


def get_job(session: Session, actor: Actor, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or not may_follow(actor, job):
        # Someone else's job is as absent as a missing one: its id tells nothing.
        raise NotFoundError(f"no job {job_id}")
    return job


def recent_jobs(session: Session, actor: Actor, *, limit: int = 50) -> list[Job]:
    policy.ensure(policy.allows(actor, Permission.RUN_SCAN))
    return list(session.scalars(select(Job).order_by(col(Job.id).desc()).limit(limit)))


def cancel(session: Session, actor: Actor, job_id: int) -> Job:
    """Cancel a queued job at once, or ask a running one to stop at its next progress report."""
    job = get_job(session, actor, job_id)
    if job.state not in ACTIVE:
        raise JobError(_l("This job has already ended."))
    if job.state == JobState.QUEUED:
        _finish(job, JobState.CANCELLED)
    else:
        job.cancel_requested = True
    session.add(job)
    audit.record(
        session,
        actor,
        "job.cancel",
        object_type="job",
        object_id=job.id,
        object_label=job.kind,
        after={"state": job.state},
    )
    return job


def reap_stale(session: Session, *, now: datetime | None = None, stale_after: timedelta = STALE_AFTER) -> int:
    """Mark failed every running job whose worker stopped reporting (killed, machine restarted).

    The job is not retried by itself: a scan half done is harmless but its user should decide
    whether to run it again, and the freed dedupe key lets them.
    """
    limit = (now or datetime.now(UTC)) - stale_after
    stale = list(
        session.scalars(select(Job).where(col(Job.state) == JobState.RUNNING, col(Job.heartbeat_at) < limit))
    )
    for job in stale:
        _finish(job, JobState.FAILED, error=WORKER_LOST)
        session.add(job)
        audit.record(
            session,
            Actor.operator("worker"),
            "job.fail",
            object_type="job",
            object_id=job.id,
            object_label=job.kind,
            after={"error": WORKER_LOST, "heartbeat_at": job.heartbeat_at},
        )
    return len(stale)


def _finish(job: Job, state: JobState, *, error: str | None = None) -> None:
    job.state = state
    job.active_key = None
    job.error = error
    job.finished_at = datetime.now(UTC)


@dataclass
class JobView:
    """What the page and the API show of a job: its row plus percentage and elapsed time."""

    job: Job
    now: datetime

    @property
    def percent(self) -> int:
        if self.job.state == JobState.SUCCEEDED:
            return 100
        return int(100 * self.job.done / self.job.total) if self.job.total else 0

    @property
    def elapsed(self) -> timedelta:
        start = self.job.started_at or self.job.created_at
        end = self.job.finished_at or self.now
        return max(timedelta(0), _aware(end) - _aware(start))

    @property
    def step_number(self) -> tuple[int, int]:
        """``(n, of)`` for the page's "step n of m"; ``(0, 0)`` for a step its kind does not list."""
        steps = JOB_STEPS.get(self.job.kind, ())
        if self.job.step not in steps:
            return 0, 0
        return steps.index(self.job.step) + 1, len(steps)

    @property
    def stale(self) -> bool:
        beat = self.job.heartbeat_at
        return (
            self.job.state == JobState.RUNNING and beat is not None and self.now - _aware(beat) > STALE_AFTER
        )

    def record(self) -> dict[str, Any]:
        job = self.job
        return {
            "id": job.id,
            "kind": job.kind,
            "state": job.state,
            "step": job.step or None,
            "done": job.done,
            "total": job.total,
            "percent": self.percent,
            "counts": job.counts or {},
            "error": job.error,
            "cancel_requested": job.cancel_requested,
            "started_by": job.started_by_label,
            "created_at": _aware(job.created_at).isoformat(),
            "started_at": _aware(job.started_at).isoformat() if job.started_at else None,
            "finished_at": _aware(job.finished_at).isoformat() if job.finished_at else None,
            "elapsed_seconds": int(self.elapsed.total_seconds()),
            "active": job.state in ACTIVE,
        }


def view_of(job: Job, now: datetime | None = None) -> JobView:
    return JobView(job, now or datetime.now(UTC))


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Progress:
    """The work's way to report: ``begin(step)``, then ``progress(done, total)`` as it goes.

    Calls only touch memory; a reporter thread writes them to the row every second and reads
    back whether someone asked to cancel, which the next call turns into :class:`JobCancelled`.
    Writing from the work's own transaction would hold SQLite's write lock for the whole run.
    """

    def __init__(self) -> None:
        self.step = ""
        self.done = 0
        self.total = 0
        self.cancelled = threading.Event()
        self._lock = threading.Lock()

    def begin(self, step: str, total: int = 0) -> None:
        with self._lock:
            self.step, self.done, self.total = step, 0, total
        self.check()

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            self.done, self.total = done, total
        self.check()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled

    def snapshot(self) -> tuple[str, int, int]:
        with self._lock:
            return self.step, self.done, self.total


Work = Callable[[Engine, Progress, Actor, Mapping[str, Any]], Mapping[str, Any]]
"""A kind of job's work: gets the engine (it opens and commits its own sessions), the progress
reporter, the actor who started it and the job's ``params``; returns the counts to show when
it is done."""


def run(
    engine: Engine, job_id: int, works: Mapping[str, Work], *, report_every: float = REPORT_EVERY
) -> str | None:
    """Run a queued job to its end and record how it ended; returns the final state.

    A job that is missing or no longer queued (cancelled while waiting, or delivered twice) is
    left alone: re-running never duplicates.
    """
    with Session(engine, expire_on_commit=False) as session:
        claimed = session.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.state) == JobState.QUEUED)
            .values(state=JobState.RUNNING, started_at=datetime.now(UTC), heartbeat_at=datetime.now(UTC))
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        session.commit()
        job = session.get(Job, job_id)
        if not claimed or job is None:
            return None
        actor = _actor_of(session, job)
        work = works.get(job.kind)
        params = dict(job.params or {})
    progress = Progress()
    stop = threading.Event()
    reporter = threading.Thread(
        target=_report,
        args=(engine, job_id, progress, stop, report_every),
        name=f"job-{job_id}-reporter",
        daemon=True,
    )
    reporter.start()
    state, error, counts = JobState.SUCCEEDED, None, None
    try:
        if work is None:
            raise LookupError(f"no work is defined for jobs of kind {job.kind!r}")
        counts = dict(work(engine, progress, actor, params))
    except JobCancelled:
        state = JobState.CANCELLED
    except JobRefused as exc:
        state, error = JobState.FAILED, exc.reason
    except Exception as exc:  # the job's outcome, recorded for its user; the worker goes on
        log.exception("job %s (%s) failed", job_id, job.kind)
        state, error = JobState.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        stop.set()
        reporter.join()
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        step, done, total = progress.snapshot()
        job.step, job.done, job.total = step, done, total
        if counts is not None:
            job.counts = counts
        _finish(job, state, error=error)
        session.add(job)
        if state == JobState.FAILED:
            audit.record(
                session,
                actor,
                "job.fail",
                object_type="job",
                object_id=job_id,
                object_label=job.kind,
                after={"error": error},
            )
        session.commit()
    return state


def _actor_of(session: Session, job: Job) -> Actor:
    """The work runs as the person who started it, so its audit events name them."""
    user = session.get(User, job.started_by_id) if job.started_by_id else None
    return Actor.of(user) if user is not None else Actor.operator(job.started_by_label)


def _report(engine: Engine, job_id: int, progress: Progress, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        step, done, total = progress.snapshot()
        try:
            with Session(engine) as session:
                session.execute(
                    update(Job)
                    .where(col(Job.id) == job_id)
                    .values(step=step, done=done, total=total, heartbeat_at=datetime.now(UTC))
                )
                session.commit()
                if session.scalar(select(col(Job.cancel_requested)).where(col(Job.id) == job_id)):
                    progress.cancelled.set()
        except OperationalError:
            # The work holds SQLite's write lock for a moment; the next beat gets through.
            log.debug("job %s: progress not written this time", job_id, exc_info=True)
