"""Background jobs on the web: start a scan or the meaning analysis, follow, cancel, list."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext
from sqlmodel import Session
from werkzeug.wrappers import Response

from registry.auth.actor import Actor
from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError
from registry.models import Job
from registry.services import embeddings, export_jobs, jobs
from registry.web import access
from registry.web.access import current_actor
from registry.web.forms import BaseForm

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

POLL_SECONDS = 2
"""How often the page asks for progress: by script from the API, without script by reloading."""


@bp.get("/")
@access.allow(Permission.RUN_SCAN)
def index() -> str:
    views = [jobs.view_of(job) for job in jobs.recent_jobs(get_session(), current_actor())]
    return render_template("jobs/index.html", views=views, form=BaseForm())


Starter = Callable[[Session, Actor], tuple[Job, bool]]


def _start(starter: Starter, already: str) -> Response:
    """Start a one-at-a-time job and show its page; the one under way if there is one."""
    if not BaseForm().validate_on_submit():
        abort(400)
    job, created = starter(get_session(), current_actor())
    if not created:
        flash(already, "info")
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.post("/scan")
@access.allow(Permission.RUN_SCAN)
def start_scan() -> Response:
    return _start(
        jobs.start_scan, gettext("A scan of the portfolio is already under way; here is its progress.")
    )


@bp.post("/embed")
@access.allow(Permission.RUN_SCAN)
def start_embedding() -> Response:
    return _start(
        embeddings.start_embedding,
        gettext("The meaning of system texts is already being analysed; here is its progress."),
    )


@bp.get("/<int(max=2147483647):job_id>")
@access.signed_in
def detail(job_id: int) -> str:
    try:
        job = jobs.get_job(get_session(), current_actor(), job_id)
    except NotFoundError:
        abort(404)
    return render_template("jobs/detail.html", view=jobs.view_of(job), form=BaseForm(), poll=POLL_SECONDS)


@bp.get("/<int(max=2147483647):job_id>/download")
@access.signed_in
def download(job_id: int) -> Response:
    """The file an export job wrote, for the person who asked for it and no one else."""
    try:
        found = export_jobs.export_file(get_session(), current_actor(), job_id)
    except NotFoundError:
        abort(404)
    return send_file(
        found.path, mimetype=found.mimetype, as_attachment=True, download_name=found.download_name
    )


@bp.post("/<int(max=2147483647):job_id>/cancel")
@access.signed_in
def cancel(job_id: int) -> Response:
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        job = jobs.cancel(get_session(), current_actor(), job_id)
    except NotFoundError:
        abort(404)
    except jobs.JobError as exc:
        flash(str(exc.message), "warning")
        return redirect(url_for("jobs.detail", job_id=job_id))
    if job.state == "cancelled":
        flash(gettext("The job was cancelled before it started."), "success")
    else:
        flash(gettext("Cancelling: the job stops at its next step."), "info")
    return redirect(url_for("jobs.detail", job_id=job_id))
