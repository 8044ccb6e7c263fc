"""The reporting area: rounds and their progress, an agency's checklist, usage reports.

Thin views: each parses the request, calls one operation of :mod:`registry.services.reporting`
or :mod:`registry.services.usage`, and renders.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from registry.auth import policy
from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.interchange.source import UnreadableFileError
from registry.models import Agency, ReportingRound
from registry.services import agencies as agency_service
from registry.services import reporting, usage, usage_import
from registry.services.reporting import ReportingError
from registry.services.systems import SystemInput
from registry.web import access
from registry.web.access import current_actor
from registry.web.reporting_forms import (
    ActionForm,
    AttestForm,
    ExtensionForm,
    RoundForm,
    UsageForm,
    UsageUploadForm,
)
from registry.web.systems import _parsed, _system_form, load_or_404

bp = Blueprint("reporting", __name__)

PREVIEW_ROWS = 200


def _round_or_404(round_id: int) -> ReportingRound:
    try:
        return reporting.get_round(get_session(), round_id)
    except NotFoundError:
        abort(404)


def _agency_or_404(code: str) -> Agency:
    agency = get_session().scalar(select(Agency).where(col(Agency.code) == code))
    if agency is None:
        abort(404)
    return agency


def _agency_page(round_: ReportingRound, agency_id: int | None) -> str:
    agency = get_session().get(Agency, agency_id) if agency_id is not None else None
    if agency is None:
        return url_for(".round_page", round_id=round_.id)
    return url_for(".agency_page", round_id=round_.id, code=agency.code)


# --- rounds --------------------------------------------------------------------------------------


@bp.get("/reporting/")
@access.allow(Permission.VIEW_PORTFOLIO)
def index() -> str:
    session = get_session()
    actor = current_actor()
    summaries = reporting.list_rounds(session)
    mine = {r.id for r in reporting.open_rounds_of(session, actor.agency_id)}
    own_agency = session.get(Agency, actor.agency_id) if actor.agency_id else None
    return render_template("reporting/index.html", summaries=summaries, mine=mine, own_agency=own_agency)


@bp.route("/reporting/new", methods=["GET", "POST"])
@access.allow(Permission.MANAGE_ROUNDS)
def new_round() -> Any:
    session = get_session()
    form = RoundForm(request.form if request.method == "POST" else None)
    form.fill_choices(agency_service.agency_choices(session))
    if request.method == "POST" and form.validate():
        try:
            round_ = reporting.open_round(session, form.to_input(), actor=current_actor())
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            flash(gettext("Reporting round “%(title)s” opened.", title=round_.title), "success")
            return redirect(url_for(".round_page", round_id=round_.id))
    status = 422 if request.method == "POST" else 200
    return render_template("reporting/new.html", form=form, has_errors=status == 422), status


@bp.get("/reporting/<int:round_id>")
@access.allow(Permission.VIEW_PORTFOLIO)
def round_page(round_id: int) -> str:
    session = get_session()
    round_ = _round_or_404(round_id)
    progress = reporting.round_progress(session, round_id)
    state = request.args.get("state", "")
    shown = [
        p for p in progress if not state or p.state == state or (state == "not_reported" and not p.started)
    ]
    actor = current_actor()
    return render_template(
        "reporting/round.html",
        round=round_,
        progress=shown,
        summary=reporting.summarise(round_, progress),
        state=state,
        action_form=ActionForm(),
        may_manage=policy.allows(actor, Permission.MANAGE_ROUNDS),
        own_part=reporting.part_of(session, round_id, actor.agency_id),
    )


@bp.post("/reporting/<int:round_id>/remind")
@access.allow(Permission.MANAGE_ROUNDS)
def remind(round_id: int) -> Response:
    """Queue the reminders and follow them on the job's page."""
    _round_or_404(round_id)
    job, created = reporting.start_reminders(get_session(), current_actor(), round_id)
    if not created:
        flash(gettext("Reminders for this round are already being sent; here is their progress."), "info")
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.post("/reporting/<int:round_id>/close")
@access.allow(Permission.MANAGE_ROUNDS)
def close(round_id: int) -> Response:
    _round_or_404(round_id)
    try:
        round_ = reporting.close_round(get_session(), round_id, actor=current_actor())
    except ReportingError as exc:
        flash(str(exc.message), "warning")
    else:
        flash(gettext("Reporting round “%(title)s” closed.", title=round_.title), "success")
    return redirect(url_for(".round_page", round_id=round_id))


# --- an agency's part ----------------------------------------------------------------------------


@bp.get("/reporting/<int:round_id>/agencies/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
def agency_page(round_id: int, code: str) -> str:
    session = get_session()
    round_ = _round_or_404(round_id)
    agency = _agency_or_404(code)
    part = reporting.part_of(session, round_id, agency.id)
    if part is None:
        abort(404)
    progress = next(p for p in reporting.round_progress(session, round_id) if p.agency_id == agency.id)
    return render_template(
        "reporting/agency.html",
        round=round_,
        agency=agency,
        part=part,
        progress=progress,
        rows=reporting.agency_systems(session, round_, agency.id),  # type: ignore[arg-type]
        may_report=round_.status == "open" and policy.can_report_for(current_actor(), agency.id),
        attest_form=AttestForm(),
        action_form=ActionForm(),
        extension_form=ExtensionForm(data={"deadline": part.deadline}),
        may_manage=round_.status == "open" and policy.allows(current_actor(), Permission.MANAGE_ROUNDS),
    )


@bp.post("/reporting/<int:round_id>/agencies/<code>/extend")
@access.allow(Permission.MANAGE_ROUNDS)
def extend(round_id: int, code: str) -> Response:
    round_ = _round_or_404(round_id)
    agency = _agency_or_404(code)
    form = ExtensionForm(request.form)
    try:
        if not form.validate():
            raise ValidationError({"deadline": form.deadline.errors})
        reporting.extend_deadline(
            get_session(), round_id, agency.id, form.deadline.data, actor=current_actor()
        )  # type: ignore[arg-type]
    except ValidationError as exc:
        flash(" ".join(str(m) for messages in exc.errors.values() for m in messages), "warning")
    except ReportingError as exc:
        flash(str(exc.message), "warning")
    else:
        flash(gettext("Deadline for %(name)s changed.", name=agency.name), "success")
    return redirect(_agency_page(round_, agency.id))


@bp.post("/reporting/<int:round_id>/systems/<code>/confirm")
@access.allow(Permission.REPORT_USAGE)
def confirm(round_id: int, code: str) -> Response:
    round_ = _round_or_404(round_id)
    system = load_or_404(code)
    form = AttestForm(request.form)
    try:
        reporting.attest_system(
            get_session(), round_id, system, actor=current_actor(), outcome="confirmed", note=form.note.data
        )
    except ReportingError as exc:
        flash(str(exc.message), "warning")
    except ValidationError as exc:
        flash(" ".join(str(m) for messages in exc.errors.values() for m in messages), "warning")
    else:
        flash(gettext("%(name)s confirmed as it is.", name=system.name), "success")
    return redirect(_agency_page(round_, system.owner_agency_id) + f"#system-{system.code}")


@bp.route("/reporting/<int:round_id>/systems/<code>/correct", methods=["GET", "POST"])
@access.allow(Permission.REPORT_USAGE)
def correct(round_id: int, code: str) -> Any:
    """The system's edit form; saving it corrects the record and attests it in the round."""
    session = get_session()
    round_ = _round_or_404(round_id)
    system = load_or_404(code)
    actor = current_actor()
    if not policy.can_edit_system(actor, system.owner_agency_id, system.status, attesting=True):
        abort(403)
    action = url_for(".correct", round_id=round_id, code=code)
    page = {"system": system, "form_action": action, "attesting_round": round_}
    if request.method == "GET":
        form = _system_form(None, SystemInput.from_system(system), system.status, version=system.version)
        return render_template("systems/form.html", form=form, **page)
    form = _system_form(request.form, current_status=system.status)
    if _parsed(form, system_id=system.id):
        try:
            reporting.attest_system(
                session,
                round_id,
                system,
                actor=actor,
                outcome="corrected",
                correction=form.to_input(),
                expected_version=form.submitted_version(),
            )
        except StaleEditError:
            form.version.data = str(system.version)
            return render_template("systems/form.html", form=form, conflict=[], **page), 409
        except ValidationError as exc:
            for message in form.attach_errors(exc.errors):
                flash(str(message), "warning")
        except ReportingError as exc:
            flash(str(exc.message), "warning")
            return redirect(_agency_page(round_, system.owner_agency_id))
        else:
            flash(gettext("%(name)s corrected and attested.", name=system.name), "success")
            return redirect(_agency_page(round_, system.owner_agency_id) + f"#system-{system.code}")
    return render_template("systems/form.html", form=form, has_errors=True, **page), 422


@bp.post("/reporting/<int:round_id>/agencies/<code>/none")
@access.allow(Permission.REPORT_USAGE)
def no_systems(round_id: int, code: str) -> Response:
    round_ = _round_or_404(round_id)
    agency = _agency_or_404(code)
    try:
        reporting.confirm_no_systems(get_session(), round_id, agency.id, actor=current_actor())  # type: ignore[arg-type]
    except ReportingError as exc:
        flash(str(exc.message), "warning")
    else:
        flash(gettext("Your agency's part of this round is complete."), "success")
    return redirect(_agency_page(round_, agency.id))


# --- usage reports ---------------------------------------------------------------------------------


@bp.route("/systems/<code>/usage", methods=["GET", "POST"])
@access.allow(Permission.REPORT_USAGE)
def file_usage(code: str) -> Any:
    """The usage form; ``?round=ID`` fills in the round's period and returns to the agency's list."""
    session = get_session()
    system = load_or_404(code)
    round_ = None
    if request.args.get("round", "").isdigit():
        round_ = session.get(ReportingRound, int(request.args["round"]))
    if not policy.can_report_for(current_actor(), system.owner_agency_id):
        abort(403, gettext("Only the managing agency reports on its systems."))
    form = UsageForm(request.form if request.method == "POST" else None)
    if request.method == "GET" and round_ is not None:
        form.period_start.data, form.period_end.data = round_.period_start, round_.period_end
    if request.method == "POST" and form.validate():
        try:
            _report, changed = usage.file_usage_report(
                session, system, form.to_input(), actor=current_actor()
            )
        except ValidationError as exc:
            for message in form.attach_errors(exc.errors):
                flash(str(message), "warning")
        else:
            if changed:
                flash(gettext("Usage report saved for %(name)s.", name=system.name), "success")
            else:
                flash(gettext("These figures were already on record; nothing changed."), "info")
            if round_ is not None:
                return redirect(_agency_page(round_, system.owner_agency_id) + f"#system-{system.code}")
            return redirect(url_for("systems.detail", code=code, _anchor="usage"))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "reporting/usage_form.html",
            system=system,
            form=form,
            round=round_,
            reports=usage.reports_of(session, system.id),  # type: ignore[arg-type]
            has_errors=status == 422,
        ),
        status,
    )


@bp.route("/reporting/usage-import", methods=["GET", "POST"])
@access.allow(Permission.REPORT_USAGE)
def usage_import_page() -> Any:
    """Upload a usage file and see what it would file, row by row."""
    session = get_session()
    form = UsageUploadForm()
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            plan = usage_import.plan_usage_import(session, current_actor(), upload.filename or "", data)
        except UnreadableFileError as exc:
            form.file.errors = [str(exc.message)]
        else:
            token = usage_import.stage(session, current_actor(), upload.filename or "", data).token
            return render_template(
                "reporting/usage_preview.html",
                plan=plan,
                rows=plan.rows[:PREVIEW_ROWS],
                token=None if plan.problems else token,
                action_form=ActionForm(),
            )
    status = 422 if request.method == "POST" else 200
    return render_template("reporting/usage_import.html", form=form), status


@bp.post("/reporting/usage-import/<token>")
@access.allow(Permission.REPORT_USAGE)
def usage_import_commit(token: str) -> Any:
    session = get_session()
    try:
        upload = usage_import.staged(session, current_actor(), token)
    except NotFoundError:
        abort(404)
    try:
        plan = usage_import.plan_usage_import(session, current_actor(), upload.filename, upload.content)
        filed = usage_import.commit_usage_import(session, current_actor(), plan)
    except (UnreadableFileError, ValidationError):
        flash(gettext("The file has problems; nothing was imported."), "danger")
        return redirect(url_for(".usage_import_page"))
    upload.committed_at = datetime.now(UTC)
    upload.result = {"filed": filed, "rows": len(plan.rows)}
    flash(
        gettext("%(filed)s usage reports filed from %(rows)s rows.", filed=filed, rows=len(plan.rows)),
        "success",
    )
    return redirect(url_for(".index"))
