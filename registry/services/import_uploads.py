"""Uploaded import files: read once as they arrive, previewed, then committed by a job.

The file is parsed when it is uploaded (within the readers' bounds) and what the reader made of
it is kept on the upload; the preview and the commit plan from those kept rows and never read
the file again. Committing runs as a background job (:func:`start_commit`, :func:`run_commit`),
so a 100,000-row import never holds a web request.

The import is written in one transaction: cancelled, refused or failed, it leaves nothing
behind, and the upload stays uncommitted so that it can be committed again. The upload is
claimed inside that transaction (its ``committed_at`` set only if still empty), so a job
delivered twice, or two jobs for the same upload, never import it twice.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import JobKind, JobStep
from registry.errors import NotFoundError
from registry.interchange.readers import read_source
from registry.interchange.source import (
    Source,
    UnreadableFileError,
    keep_message,
    keep_source,
    kept_message,
    kept_source,
)
from registry.models import ImportUpload, Job
from registry.services import jobs
from registry.services.import_preview import PreviewSummary
from registry.services.imports import (
    ImportPlan,
    ImportRefusedError,
    ImportResult,
    commit_plan,
    detect_format,
    plan_source,
)

CHECK_JOB_THRESHOLD = 5_000
"""Files of more rows are checked by a job (``IMPORT_CHECK_JOB_THRESHOLD``), not by the page."""
KEPT_FOR = timedelta(days=1)
"""An upload not committed within a day is removed: its preview is stale by then anyway."""


class AlreadyCommittedError(Exception):
    """The upload was committed already (by another job, or a second delivery of this one)."""


def stage(
    session: Session,
    actor: Actor,
    filename: str,
    data: bytes,
    fmt: str | None = None,
    default_owner: str | None = None,
) -> ImportUpload:
    """Keep the file, what its reader made of it, and the default managing agency chosen for
    it, for its preview and commit; a fresh token names it in URLs.

    This is the only place the file is read: a file that cannot be read is kept with its
    reason, which its preview shows.
    """
    policy.ensure(policy.allows(actor, policy.Permission.IMPORT))
    assert actor.user_id is not None
    session.execute(
        delete(ImportUpload).where(
            col(ImportUpload.created_at) < datetime.now(UTC) - KEPT_FOR,
            col(ImportUpload.committed_at).is_(None),
        )
    )
    filename = (filename or "upload")[-255:]
    fmt = fmt or detect_format(filename, data)
    upload = ImportUpload(
        token=secrets.token_urlsafe(24),
        user_id=actor.user_id,
        filename=filename,
        format=fmt,
        default_owner=default_owner or None,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        parsed=_parse(filename, data, fmt),
    )
    session.add(upload)
    session.flush()
    return upload


def _parse(filename: str, data: bytes, fmt: str) -> dict[str, Any]:
    try:
        return {"source": keep_source(read_source(filename, data, fmt))}
    except UnreadableFileError as exc:
        return {"unreadable": keep_message(exc.message)}


def source_of(upload: ImportUpload) -> Source:
    """What the reader made of the upload, from the kept rows; raises what it raised then.

    An upload staged before rows were kept (at most a day old when the schema changed) is
    read from its bytes instead.
    """
    parsed = upload.parsed
    if parsed is None:
        return read_source(upload.filename, upload.content, upload.format)
    if "unreadable" in parsed:
        raise UnreadableFileError(kept_message(parsed["unreadable"]))
    return kept_source(parsed["source"])


def staged(session: Session, actor: Actor, token: str) -> ImportUpload:
    """The actor's own upload; anyone else's is "not found", so tokens cannot be probed."""
    upload = session.scalar(select(ImportUpload).where(col(ImportUpload.token) == token))
    if upload is None or upload.user_id != actor.user_id:
        raise NotFoundError(token)
    return upload


def plan_staged(
    session: Session, actor: Actor, upload: ImportUpload, *, preview_overlaps: bool = False
) -> ImportPlan:
    """The upload's plan on the registry as it is now, from its kept rows."""
    return plan_source(
        session,
        actor,
        source_of(upload),
        filename=upload.filename,
        digest=upload.sha256,
        preview_overlaps=preview_overlaps,
        default_owner=upload.default_owner,
    )


def record_count(upload: ImportUpload) -> int:
    """Records the reader found in the upload (0 for one it could not read)."""
    source = (upload.parsed or {}).get("source")
    return len(source.get("records", ())) if isinstance(source, dict) else 0


def checked_by_job(upload: ImportUpload, threshold: int = CHECK_JOB_THRESHOLD) -> bool:
    """Whether the upload is too large for its preview to be planned by the page."""
    return record_count(upload) > threshold


def preview_now(session: Session, actor: Actor, upload: ImportUpload) -> PreviewSummary:
    """The preview of a small upload, planned on the registry as it is now."""
    return PreviewSummary.of(plan_staged(session, actor, upload, preview_overlaps=True))


def kept_preview(upload: ImportUpload) -> PreviewSummary | None:
    """The preview the check job kept for a large upload, if it is still current."""
    return PreviewSummary.from_kept(upload.preview) if upload.preview else None


def _check_key(upload: ImportUpload) -> str:
    return f"import-check:{upload.id}"


def check_under_way(session: Session, upload: ImportUpload) -> Job | None:
    return jobs.active(session, _check_key(upload))


def start_check(session: Session, actor: Actor, upload: ImportUpload) -> tuple[Job, bool]:
    """Queue the check of the actor's upload, which keeps its preview; one at a time."""
    return _start_upload_job(session, actor, upload, JobKind.IMPORT_CHECK, _check_key(upload))


def _start_upload_job(
    session: Session, actor: Actor, upload: ImportUpload, kind: str, key: str, **params: Any
) -> tuple[Job, bool]:
    """A job on the actor's own upload (anyone else's is "not found"), one of a kind at a time."""
    policy.ensure(policy.allows(actor, policy.Permission.IMPORT))
    if upload.user_id != actor.user_id:
        raise NotFoundError(upload.token)
    return jobs.start(
        session, actor, kind, dedupe_key=key, params={"upload_id": upload.id, "token": upload.token, **params}
    )


def run_check(
    engine: Engine, progress: jobs.Progress, actor: Actor, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The check job's work: plan the kept rows as the page would, and keep the preview."""
    with Session(engine, expire_on_commit=False) as session:
        upload = session.get(ImportUpload, params["upload_id"])
        if upload is None or upload.committed_at is not None:
            raise jobs.JobRefused(jobs.IMPORT_REFUSED)
        progress.begin(JobStep.CHECK)
        try:
            summary = preview_now(session, actor, upload)
        except UnreadableFileError:
            raise jobs.JobRefused(jobs.IMPORT_REFUSED) from None
        progress.check()
        upload.preview = summary.keep()
        session.add(upload)
        session.commit()
    return {action: summary.count(action) for action in ("create", "update", "unchanged", "refused")} | {
        "problems": summary.problems_total
    }


def commit_staged(
    session: Session,
    actor: Actor,
    upload: ImportUpload,
    expected_fingerprint: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    before_write: Callable[[], None] | None = None,
) -> ImportResult:
    """Commit the staged upload as previewed, once; remember the outcome on the upload.

    Raises :class:`AlreadyCommittedError` if it was committed already, and
    :class:`~registry.services.imports.ImportRefusedError` if the registry changed since the
    preview; the caller then rolls back. ``before_write`` runs between planning and writing
    (the job checks there whether it was cancelled). The caller commits.
    """
    plan = plan_staged(session, actor, upload)
    if before_write is not None:
        before_write()
    now = datetime.now(UTC)
    claimed = session.execute(
        update(ImportUpload)
        .where(col(ImportUpload.id) == upload.id, col(ImportUpload.committed_at).is_(None))
        .values(committed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
    if not claimed:
        raise AlreadyCommittedError(upload.token)
    result = commit_plan(session, actor, plan, expected_fingerprint=expected_fingerprint, progress=progress)
    upload.committed_at = now
    upload.result = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "agencies": result.agencies,
        "codes": result.codes[:1000],
    }
    session.add(upload)
    session.flush()
    return result


def _commit_key(upload: ImportUpload) -> str:
    return f"import:{upload.id}"


def commit_under_way(session: Session, upload: ImportUpload) -> Job | None:
    """The job committing this upload right now, so its preview can lead back to it."""
    return jobs.active(session, _commit_key(upload))


def start_commit(session: Session, actor: Actor, upload: ImportUpload, fingerprint: str) -> tuple[Job, bool]:
    """Queue the commit of the actor's upload as a job; while one is queued or running, that one.

    The job checks the preview's ``fingerprint`` again when it runs: planning a large file
    takes as long as writing it, so it is done once, by the worker.
    """
    return _start_upload_job(
        session, actor, upload, JobKind.IMPORT, _commit_key(upload), fingerprint=fingerprint
    )


def run_commit(
    engine: Engine, progress: jobs.Progress, actor: Actor, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The import job's work: plan the kept rows again, then write them all in one transaction.

    A second delivery, or a job for an upload committed meanwhile, writes nothing and shows the
    first commit's counts. Cancelled, or refused because the registry changed since the
    preview, the transaction is rolled back whole.
    """
    with Session(engine, expire_on_commit=False) as session:
        upload = session.get(ImportUpload, params["upload_id"])
        if upload is None:
            raise jobs.JobRefused(jobs.IMPORT_REFUSED)
        if upload.committed_at is not None:
            return _counts(upload.result or {}, again=True)
        progress.begin(JobStep.CHECK)
        try:
            commit_staged(
                session,
                actor,
                upload,
                str(params.get("fingerprint") or ""),
                progress=progress,
                before_write=lambda: progress.begin(JobStep.WRITE),
            )
        except AlreadyCommittedError:
            session.rollback()
            session.refresh(upload)
            return _counts(upload.result or {}, again=True)
        except (ImportRefusedError, UnreadableFileError):
            session.rollback()
            upload.preview = None  # its next visit checks the file again
            session.add(upload)
            session.commit()
            raise jobs.JobRefused(jobs.IMPORT_REFUSED) from None
        progress.check()  # a cancel that came during the last rows still cancels
        session.commit()
    return _counts(upload.result or {}, again=False)


def _counts(result: Mapping[str, Any], *, again: bool) -> dict[str, Any]:
    counts = {key: result.get(key, 0) for key in ("created", "updated", "unchanged", "agencies")}
    return counts | ({"already_committed": True} if again else {})
