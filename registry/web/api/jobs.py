"""Background jobs through the API: start a portfolio scan or the meaning analysis, follow a job."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError
from registry.models import Job
from registry.services import embeddings, jobs
from registry.web import access
from registry.web.access import current_actor
from registry.web.api import bp, fail
from registry.web.api import schemas as s
from registry.web.api.openapi import operation


def _record(job: Job) -> dict[str, Any]:
    return {
        **jobs.view_of(job).record(),
        "url": url_for("api.job_detail", job_id=job.id, _external=True),
        "page": url_for("jobs.detail", job_id=job.id, _external=True),
    }


@bp.post("/scans")
@access.allow(Permission.RUN_SCAN)
@operation("Scan the portfolio", tag="jobs", responses={202: s.Job})
def scan_start() -> Response:
    """Start a background scan of the whole portfolio: compare every system, store the
    duplication warnings, check the rules R1–R10 (what ``flask scan`` does). Answers 202 with
    the job and its URL in ``Location``; while a scan is queued or running, that one is
    returned (``created`` false) instead of starting another."""
    return _started(*jobs.start_scan(get_session(), current_actor()))


@bp.post("/embeddings")
@access.allow(Permission.RUN_SCAN)
@operation("Analyse the meaning of new texts", tag="jobs", responses={202: s.Job})
def embedding_start() -> Response:
    """Start the background meaning analysis: embed every system text that has no meaning
    vector yet, then compare the portfolio again (what ``flask embed`` does). Answers 202 with
    the job and its URL in ``Location``; while one is queued or running, that one is returned
    (``created`` false)."""
    return _started(*embeddings.start_embedding(get_session(), current_actor()))


def _started(job: Job, created: bool) -> Response:
    response = jsonify(**_record(job), created=created)
    response.status_code = 202
    response.headers["Location"] = url_for("api.job_detail", job_id=job.id, _external=True)
    return response


@bp.get("/jobs/<int(max=2147483647):job_id>")
@access.signed_in
@operation("Read a background job", tag="jobs", responses={200: s.Job})
def job_detail(job_id: int) -> Response:
    """A job's state and progress; whoever started it, the standing office and administrators
    may read it."""
    try:
        job = jobs.get_job(get_session(), current_actor(), job_id)
    except NotFoundError:
        fail(404, "not_found", "No such job.")
    return jsonify(_record(job))
