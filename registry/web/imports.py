"""Importing a list of systems in two steps: upload and preview, then commit as previewed."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, SelectField

from registry.auth import policy
from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError
from registry.interchange.source import UnreadableFileError
from registry.interchange.template import template_csv, template_xlsx
from registry.models import ImportUpload
from registry.services import agencies as agency_service
from registry.services import import_uploads, imports
from registry.web import access
from registry.web.access import current_actor
from registry.web.forms import BaseForm

bp = Blueprint("imports", __name__, url_prefix="/imports")

CHECK_POLL_SECONDS = 3
"""How often the page of a file being checked reloads, to show the preview once it is ready."""


class UploadForm(BaseForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to import."))])
    format = SelectField(_l("Format"), default="")
    default_owner = SelectField(_l("Managing agency for rows that name none"), default="")

    def fill_choices(self, owners: list[tuple[str, str]], *, any_agency: bool) -> None:
        """``owners`` are the agencies this person may import for; an administrator may also
        choose none, a submitter's rows always go to their own agency (preselected, and taken
        when the field is not sent at all)."""
        if any_agency or not owners:
            self.default_owner.choices = [("", _l("— none —")), *owners]
        else:
            self.default_owner.choices = owners
            if not self.default_owner.raw_data:
                self.default_owner.data = owners[0][0]
        self.format.choices = [
            ("", _l("Recognise from the file name")),
            ("csv", "CSV"),
            ("xlsx", "Excel (.xlsx)"),
            ("json", "JSON"),
            *imports.extra_format_choices(),
        ]


class CommitForm(BaseForm):
    fingerprint = HiddenField()


@bp.route("/", methods=["GET", "POST"])
@access.allow(Permission.IMPORT, max_body=imports.MAX_BYTES)
def index() -> str | BaseResponse:
    session = get_session()
    owners = policy.owner_agencies(current_actor())
    form = UploadForm()
    form.fill_choices(agency_service.agency_code_choices(session, owners), any_agency=owners is None)
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if not data:
            form.file.errors = [_("The file is empty.")]
        else:
            staged = import_uploads.stage(
                session,
                current_actor(),
                upload.filename or "upload",
                data,
                form.format.data or None,
                default_owner=form.default_owner.data or None,
            )
            if import_uploads.checked_by_job(staged, _check_threshold()):
                import_uploads.start_check(session, current_actor(), staged)
            return redirect(url_for("imports.preview", token=staged.token))
    return render_template("imports/index.html", form=form, max_mb=imports.MAX_BYTES // 2**20)


@bp.get("/<token>")
@access.allow(Permission.IMPORT)
def preview(token: str) -> str | BaseResponse:
    session = get_session()
    upload = _own_upload(token)
    if upload.committed_at is not None:
        return render_template("imports/done.html", upload=upload)
    summary = import_uploads.kept_preview(upload)
    if summary is None and import_uploads.checked_by_job(upload, _check_threshold()):
        return render_template(
            "imports/checking.html",
            upload=upload,
            rows=import_uploads.record_count(upload),
            job=import_uploads.check_under_way(session, upload),
            form=BaseForm(),
            poll=CHECK_POLL_SECONDS,
        )
    try:
        summary = summary or import_uploads.preview_now(session, current_actor(), upload)
    except UnreadableFileError as exc:
        return render_template("imports/unreadable.html", upload=upload, message=exc.message), 422
    return render_template(
        "imports/preview.html",
        upload=upload,
        preview=summary,
        form=CommitForm(fingerprint=summary.fingerprint),
        Action=imports.Action,
        running=import_uploads.commit_under_way(session, upload),
    )


@bp.post("/<token>/check")
@access.allow(Permission.IMPORT)
def check(token: str) -> BaseResponse:
    """Check a large file against the registry again, in the background; its page follows."""
    upload = _own_upload(token)
    if upload.committed_at is not None or not BaseForm().validate_on_submit():
        return redirect(url_for("imports.preview", token=token))
    job, _created = import_uploads.start_check(get_session(), current_actor(), upload)
    return redirect(url_for("jobs.detail", job_id=job.id))


def _check_threshold() -> int:
    return int(current_app.config.get("IMPORT_CHECK_JOB_THRESHOLD", import_uploads.CHECK_JOB_THRESHOLD))


@bp.post("/<token>/commit")
@access.allow(Permission.IMPORT)
def commit(token: str) -> BaseResponse:
    """Queue the commit and follow it on the job's page: a large import outlives any request."""
    upload = _own_upload(token)
    if upload.committed_at is not None:
        return redirect(url_for("imports.preview", token=token))
    form = CommitForm()
    if not form.validate_on_submit():
        abort(400)
    job, created = import_uploads.start_commit(
        get_session(), current_actor(), upload, form.fingerprint.data or ""
    )
    if not created:
        flash(_("This file is already being imported; here is its progress."), "info")
    return redirect(url_for("jobs.detail", job_id=job.id))


def _own_upload(token: str) -> ImportUpload:
    try:
        return import_uploads.staged(get_session(), current_actor(), token)
    except NotFoundError:
        abort(404)


@bp.get("/template.<fmt>")
@access.allow(Permission.IMPORT)
def template(fmt: str) -> Response:
    if fmt == "csv":
        body, mimetype = template_csv(), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = template_xlsx(get_session())
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    headers = {"Content-Disposition": f'attachment; filename="registry-import-template.{fmt}"'}
    return Response(body, content_type=mimetype, headers=headers)
