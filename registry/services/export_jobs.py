"""Large inventory exports as background jobs: the file is written by a worker, then downloaded.

Below ``EXPORT_JOB_THRESHOLD`` systems the pages stream the file in the request as before;
above it, building a workbook of tens of thousands of rows would outlast a proxy's or a
worker's timeout, so :func:`start_export` queues a job that writes the file into
``EXPORT_DIR`` and the job's page offers it to the person who asked for it, and to no one else.
The export is audited as the job starts writing, with the count it holds, as the direct
download is when its first byte goes out. Files are removed a day after they are written
(:func:`remove_expired`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.engine import Engine
from sqlmodel import Session

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import JobKind, JobState, JobStep
from registry.errors import NotFoundError
from registry.exports import inventory
from registry.exports.formats import csv_chunks, json_chunks, write_xlsx
from registry.filters import SystemFilter, parse_filter
from registry.models import Job
from registry.services import exports, jobs

FORMATS = ("csv", "xlsx", "json")
"""The inventory's table formats; publiccode.yml, Backstage and past inventories stay direct."""
KEPT_FOR = timedelta(days=1)
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    download_name: str
    mimetype: str


def export_dir() -> Path:
    """Where export jobs write: the web process that serves the file must see it too."""
    configured = current_app.config.get("EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def wants_job(session: Session, actor: Actor, fmt: str, flt: SystemFilter) -> bool:
    """Whether this export is large enough to be written by a job rather than in the request."""
    if fmt not in FORMATS:
        return False
    threshold = int(current_app.config["EXPORT_JOB_THRESHOLD"])
    return inventory.count(session, exports.scope_for(actor, flt)) > threshold


def start_export(session: Session, actor: Actor, fmt: str, flt: SystemFilter) -> tuple[Job, bool]:
    """Queue the export of the filtered inventory; the same export asked again while it is
    under way leads to the same job."""
    exports.scope_for(actor, flt)  # refuses those who may not export
    if fmt not in FORMATS:
        raise ValueError(f"no background export in {fmt!r}")
    args = flt.to_args(page="", per_page="")
    key = hashlib.sha256(json.dumps([fmt, args], sort_keys=True).encode()).hexdigest()[:24]
    return jobs.start(
        session,
        actor,
        JobKind.EXPORT,
        dedupe_key=f"export:{actor.user_id}:{key}",
        params={"format": fmt, "filter": args, "file": secrets.token_hex(16)},
    )


def run_export(
    engine: Engine, progress: jobs.Progress, actor: Actor, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The export job's work: write the file beside the others, then record the export.

    The file is written under a temporary name and renamed when complete, so a cancelled or
    failed job never leaves a file that looks finished. The taking-out is audited before the
    first row is written (:func:`registry.services.exports.begin` commits it), so even an
    export cancelled half way is in the trail, as an interrupted direct download is.
    """
    fmt = str(params["format"])
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{params['file']}.{fmt}"
    partial = target.with_suffix(target.suffix + ".part")
    with Session(engine, expire_on_commit=False) as session:
        scope = exports.scope_for(actor, parse_filter(params["filter"]).filter)
        meta = exports.begin(session, actor, fmt, scope)
        progress.begin(JobStep.EXPORT, meta.count)

        def advance(done: int) -> None:
            progress(done, meta.count)

        try:
            with open(partial, "wb") as handle:
                rows = inventory.rows(session, scope)
                if fmt == "xlsx":
                    sheets = exports.related_sheets(session, scope)
                    with write_xlsx(meta, rows, sheets, progress=advance) as output:
                        while block := output.read(256 * 1024):
                            handle.write(block)
                else:
                    writer = csv_chunks if fmt == "csv" else json_chunks
                    for chunk in writer(meta, rows, progress=advance):
                        handle.write(chunk)
            progress.check()
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return {"systems": meta.count, "bytes": target.stat().st_size, "format": fmt}


def remove_expired(*, now: float | None = None) -> int:
    """Remove the export files (and any left half written) older than :data:`KEPT_FOR`.

    Run by the queue's minute-by-minute housekeeping, so files do not outlive their day even
    when no one exports again. Returns how many were removed.
    """
    folder = export_dir()
    if not folder.is_dir():
        return 0
    limit = (time.time() if now is None else now) - KEPT_FOR.total_seconds()
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def export_file(session: Session, actor: Actor, job_id: int) -> ExportFile:
    """The finished export of ``job_id``, for the person who started it only.

    Anyone else, even an administrator who may follow every job, gets "not found": the file
    holds what its requester's filter and agency let them see.
    """
    job = session.get(Job, job_id)
    if (
        job is None
        or job.kind != JobKind.EXPORT
        or actor.user_id is None
        or job.started_by_id != actor.user_id
        or job.state != JobState.SUCCEEDED
        or not job.params
    ):
        raise NotFoundError(f"no export {job_id}")
    policy.ensure(policy.allows(actor, policy.Permission.EXPORT))
    fmt = str(job.params["format"])
    path = export_dir() / f"{job.params['file']}.{fmt}"
    if not path.is_file():
        raise NotFoundError(f"export {job_id} was removed")
    stamp = (job.finished_at or job.created_at).strftime("%Y%m%d-%H%M%S")
    return ExportFile(path, f"registry-systems-{stamp}.{fmt}", MIMETYPES[fmt])
