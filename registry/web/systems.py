"""Pages of the portfolio: list, detail, register, edit, dependencies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from werkzeug.wrappers import Response

from registry.auth import policy
from registry.auth.policy import Permission
from registry.choices import AgencyBlock, AgencyLevel, DependencyKind, Hosting, Severity, SystemStatus
from registry.config import PAGE_SIZES
from registry.db import get_session
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.fields import field_label
from registry.filters import AGENCY_ROLES, SORT_LABELS, list_systems, parse_filter
from registry.models import InformationSystem
from registry.models.system import INPUT_FIELDS
from registry.services import agencies as agency_service
from registry.services import audit, consequences, overlaps, similar, taxonomy, usage, workflow
from registry.services import graph as graph_service
from registry.services.dependencies import add_dependency, neighbourhood, remove_dependency
from registry.services.findings import findings_of
from registry.services.list_figures import row_figures
from registry.services.submission import save_and_submit
from registry.services.systems import (
    SystemInput,
    create_system,
    get_system,
    required_fields,
    update_system,
    validate_system_input,
)
from registry.web import access
from registry.web.access import current_actor
from registry.web.audit_display import present
from registry.web.forms import DependencyForm, SystemForm
from registry.web.usage_chart import usage_chart

bp = Blueprint("systems", __name__, url_prefix="/systems")


def _locale() -> str:
    return str(get_locale() or "vi")


def load_or_404(code: str) -> InformationSystem:
    """The system with this public code, or the 404 page (shared by every page about one system)."""
    try:
        return get_system(get_session(), code)
    except NotFoundError:
        abort(404)


@bp.get("/")
@access.allow(Permission.VIEW_PORTFOLIO)
def index() -> str:
    session = get_session()
    parsed = parse_filter(request.args)
    for problem in parsed.problems:
        flash(str(problem), "warning")
    page = list_systems(session, parsed.filter)
    return render_template(
        "systems/list.html",
        page=page,
        figures=row_figures(session, [s.id for s in page.items if s.id is not None]),
        flt=parsed.filter,
        agencies=agency_service.filter_choices(session, parsed.filter.agency),
        capabilities=taxonomy.capabilities(session),
        statuses=SystemStatus,
        levels=AgencyLevel,
        blocks=AgencyBlock,
        severities=Severity,
        roles=AGENCY_ROLES,
        sort_labels=SORT_LABELS,
        page_sizes=PAGE_SIZES,
        locale=_locale(),
    )


@bp.get("/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
def detail(code: str) -> str:
    system = load_or_404(code)
    return _render_detail(system, DependencyForm())


@bp.get("/<code>/history")
@access.allow(Permission.VIEW_PORTFOLIO)
def history(code: str) -> str:
    system = load_or_404(code)
    session = get_session()
    return render_template(
        "systems/history.html",
        system=system,
        views=present(session, audit.history_of_system(session, system.id), _locale()),  # type: ignore[arg-type]
        action_label=audit.action_label,
    )


def _may_edit(system: InformationSystem) -> bool:
    return policy.can_edit_system(current_actor(), system.owner_agency_id, system.status)


def _render_detail(system: InformationSystem, dependency_form: DependencyForm, status: int = 200) -> Any:
    dependency_form.fill_choices()
    reports = usage.reports_of(get_session(), system.id)  # type: ignore[arg-type]
    return (
        render_template(
            "systems/detail.html",
            system=system,
            around=neighbourhood(get_session(), system),
            picture=graph_service.neighbourhood_graph(
                get_session(), system.code, hops=1, cap=graph_service.SMALL_CAP, locale=_locale(), coarse=True
            ),
            overlaps=overlaps.warnings_seen_from(get_session(), system, _locale()),
            dependency_form=dependency_form,
            may_edit=_may_edit(system),
            findings=findings_of(get_session(), system.id, _locale()),  # type: ignore[arg-type]
            moves=workflow.available(current_actor(), system),
            decisions=(decisions := workflow.decisions_of(get_session(), system.id)),  # type: ignore[arg-type]
            decision_label=workflow.decision_label,
            reuse_codes=workflow.codes_of(
                get_session(), [d.reuse_system_id for d in decisions if d.reuse_system_id]
            ),
            label=field_label,
            statuses=SystemStatus,
            hosting=Hosting,
            kinds=DependencyKind,
            levels=AgencyLevel,
            locale=_locale(),
            localized=taxonomy.localized_name,
            usage_reports=reports,
            usage_chart=usage_chart(reports),
            may_report=system.status in policy.ATTESTED_STATUSES
            and policy.can_report_for(current_actor(), system.owner_agency_id),
        ),
        status,
    )


def _system_form(
    formdata: Any = None,
    data: SystemInput | None = None,
    current_status: str | None = None,
    **kwargs: Any,
) -> SystemForm:
    """The form with the choices this person may make: their own agency, their statuses."""
    session = get_session()
    actor = current_actor()
    form = SystemForm(formdata=formdata, obj=data, **kwargs)
    agencies = agency_service.agency_choices(session)
    owner_ids = policy.owner_agencies(actor)
    form.fill_choices(
        agencies=agencies,
        capabilities=taxonomy.choices(taxonomy.capabilities(session), _locale()),
        data_domains=taxonomy.choices(taxonomy.data_domains(session), _locale()),
        platforms=taxonomy.shared_platforms(session),
        owners=None if owner_ids is None else [(i, name.strip()) for i, name in agencies if i in owner_ids],
        statuses=policy.settable_statuses(actor, current_status),
    )
    form.mark_required(required_fields(current_status), workflow.review_requirements(current_status))
    return form


def _render_form(
    form: SystemForm, system: InformationSystem | None, status: int = 200, **context: Any
) -> Any:
    """The registration or edit form, with what a submission would have to justify.

    The warnings that stand are shown beside the justification they call for, and the
    "Save and submit" button is offered when this person may submit the record now.
    """
    may_submit = system is not None and any(
        t.action == "submit" for t in workflow.available(current_actor(), system)
    )
    standing = overlaps.standing_warnings(get_session(), system, _locale()) if system is not None else []
    page = render_template(
        "systems/form.html", form=form, system=system, may_submit=may_submit, standing=standing, **context
    )
    return page, status


def _blocked_form(system: InformationSystem, blockers: dict[str, list[object]]) -> SystemForm:
    """The saved record's form, with what blocks its submission next to each field."""
    form = _system_form(None, SystemInput.from_system(system), system.status, version=system.version)
    for message in form.attach_errors(blockers):
        flash(str(message), "warning")
    return form


def _similar_to(form: SystemForm, system: InformationSystem | None) -> list[similar.SimilarMatch]:
    data = {
        name: form[name].data for name in ("name", "description", "purpose", "scope_level", "owner_agency_id")
    }
    query = similar.SimilarQuery.from_mapping(
        {**data, "capability_ids": form.capability_ids.data or [], "system_id": system.id if system else None}
    )
    return similar.find_similar(get_session(), query, locale=_locale())


def _checked(form: SystemForm, system: InformationSystem | None) -> Any:
    """The "check for overlaps" and "reuse this instead" buttons: show matches, save nothing.

    Reusing a shared platform turns the record into a sanctioned deployment of it; reusing any
    other system is recorded, on save, as a dependency on it.
    """
    form.validate()  # parse what can be parsed; errors are not shown before a real save
    for field in form:
        field.errors = []
    notice = None
    code = (request.form.get("reuse_code") or "").strip().upper()
    if code:
        try:
            target = get_system(get_session(), code)
        except NotFoundError:
            abort(404)
        if target.is_shared_platform:
            form.instance_of_id.data = target.id
            form.reuse_of.data = ""
            notice = gettext(
                "This will be registered as a deployment of the shared platform %(name)s: "
                "reuse, not a new system. Complete the form and save.",
                name=target.name,
            )
        else:
            form.reuse_of.data = target.code
            notice = gettext(
                "On saving, this record will state that it reuses %(name)s (%(code)s) "
                "instead of building anew.",
                name=target.name,
                code=target.code,
            )
    return _render_form(form, system, similar=_similar_to(form, system), notice=notice)


@bp.route("/new", methods=["GET", "POST"])
@access.allow(Permission.CREATE_SYSTEM)
def create() -> Any:
    if request.method == "GET":
        owner_ids = policy.owner_agencies(current_actor())
        initial = SystemInput.of(owner_agency_id=next(iter(owner_ids)) if owner_ids else None)
        form = _system_form(None, initial)
        return _render_form(form, None)
    form = _system_form(request.form)
    if request.form.get("check") or request.form.get("reuse_code"):
        return _checked(form, None)
    if _parsed(form):
        try:
            system = create_system(
                get_session(), form.to_input(), actor=current_actor(), reuse_of=form.reuse_of.data
            )
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            flash(gettext("System %(code)s registered.", code=system.code), "success")
            _say_if_unchecked(system)
            return redirect(url_for(".detail", code=system.code))
    return _render_form(form, None, 422, has_errors=True)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@access.allow(Permission.EDIT_SYSTEM)
def edit(code: str) -> Any:
    session = get_session()
    system = load_or_404(code)
    if not _may_edit(system):
        abort(
            403,
            gettext("Only its own agency may edit this system, and only while it is a draft or a proposal."),
        )
    if request.method == "GET":
        form = _system_form(None, SystemInput.from_system(system), system.status, version=system.version)
        return _render_form(form, system)
    form = _system_form(request.form, current_status=system.status)
    if request.form.get("check") or request.form.get("reuse_code"):
        return _checked(form, system)
    if request.form.get("and_submit"):
        return _save_and_submit(form, system)
    if _parsed(form, system_id=system.id):
        submitted = form.to_input()
        try:
            update_system(
                session,
                system,
                submitted,
                actor=current_actor(),
                expected_version=form.submitted_version(),
                reuse_of=form.reuse_of.data,
            )
        except StaleEditError:
            return _conflict(form, system, submitted)
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            flash(gettext("Changes to %(code)s saved.", code=system.code), "success")
            _say_if_unchecked(system)
            return redirect(url_for(".detail", code=system.code))
    return _render_form(form, system, 422, has_errors=True)


def _conflict(form: SystemForm, system: InformationSystem, submitted: SystemInput) -> Any:
    conflict = _differences(submitted, SystemInput.from_system(system))
    # The next save is a deliberate choice made after seeing the current version.
    form.version.data = str(system.version)
    return _render_form(form, system, 409, conflict=conflict)


def _save_and_submit(form: SystemForm, system: InformationSystem) -> Any:
    """Save the edit, then submit it: one step, committed once by the request.

    A refused submission keeps the save (the answer is a success, so the request commits) and
    shows the saved form again with what blocks the submission next to each field.
    """
    if not _parsed(form, system_id=system.id):
        return _render_form(form, system, 422, has_errors=True)
    submitted = form.to_input()
    try:
        outcome = save_and_submit(
            get_session(),
            system,
            submitted,
            actor=current_actor(),
            expected_version=form.submitted_version(),
            reuse_of=form.reuse_of.data,
        )
    except StaleEditError:
        return _conflict(form, system, submitted)
    except ValidationError as exc:
        form.attach_errors(exc.errors)
        return _render_form(form, system, 422, has_errors=True)
    if outcome.submitted:
        flash(gettext("%(code)s saved and submitted for review.", code=system.code), "success")
        _say_if_unchecked(system)
        return redirect(url_for(".detail", code=system.code))
    if outcome.refusal is not None:
        flash(gettext("Changes to %(code)s saved.", code=system.code), "success")
        flash(str(outcome.refusal), "warning")
        return redirect(url_for(".detail", code=system.code))
    return _render_form(_blocked_form(system, outcome.blockers), system, blocked="saved")


def _say_if_unchecked(system: InformationSystem) -> None:
    if consequences.overlaps_unchecked(get_session(), system.id):
        flash(
            gettext("Saved, but the overlap check could not run; it will be repeated at the next scan."),
            "warning",
        )


def _parsed(form: SystemForm, system_id: int | None = None) -> bool:
    """Parse the form; when some fields cannot even be parsed, still report every other problem.

    People fix a form in one pass only if all its errors show at once, not one layer at a time.
    """
    if form.validate():
        return True
    try:
        validate_system_input(get_session(), form.to_input(), system_id=system_id)
    except ValidationError as exc:
        form.attach_errors({k: v for k, v in exc.errors.items() if not (k in form and form[k].errors)})
    return False


def _differences(mine: SystemInput, current: SystemInput) -> list[str]:
    mine, current = mine.normalised(), current.normalised()
    names = [n for n in INPUT_FIELDS if getattr(mine, n) != getattr(current, n)]
    return [field_label(n) for n in names]


@bp.post("/<code>/workflow/<action>")
@access.signed_in
def move(code: str, action: str) -> Any:
    """Submit, withdraw, take into review, mark deployed, retire: one step of the lifecycle."""
    session = get_session()
    system = load_or_404(code)
    if action not in workflow.ACTIONS:
        abort(404)
    try:
        workflow.transition(
            session,
            system,
            action,
            actor=current_actor(),
        )
    except ValidationError as exc:
        # What blocks the submission is shown on the form, next to each field to complete;
        # nothing was changed, so the form offers to save the fixes and submit in one step.
        return _render_form(_blocked_form(system, exc.errors), system, 422, blocked="unsaved")
    except workflow.WorkflowError as exc:
        flash(str(exc.message), "warning")
        return redirect(url_for(".detail", code=code))
    flash(
        gettext("%(code)s is now: %(status)s.", code=system.code, status=SystemStatus(system.status).label),
        "success",
    )
    if action == "start_review":
        # The reviewer took it in to decide on it: the review page is where that happens.
        return redirect(url_for("review.page", code=code))
    return redirect(url_for(".detail", code=code))


@bp.post("/<code>/dependencies")
@access.allow(Permission.EDIT_SYSTEM)
def add_dependency_view(code: str) -> Any:
    system = load_or_404(code)
    if not _may_edit(system):
        abort(403)
    form = DependencyForm(request.form)
    if form.validate():
        try:
            add_dependency(
                get_session(),
                system,
                actor=current_actor(),
                target_code=form.target_code.data or "",
                kind=form.kind.data or "",
                note=form.note.data,
            )
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            flash(gettext("Dependency recorded."), "success")
            return redirect(url_for(".detail", code=system.code, _anchor="dependencies"))
    return _render_detail(system, form, 422)


@bp.post("/<code>/dependencies/<int:dependency_id>/delete")
@access.allow(Permission.EDIT_SYSTEM)
def remove_dependency_view(code: str, dependency_id: int) -> Response:
    system = load_or_404(code)
    if not _may_edit(system):
        abort(403)
    try:
        remove_dependency(get_session(), system, dependency_id, actor=current_actor())
    except NotFoundError:
        abort(404)
    flash(gettext("Dependency removed."), "success")
    return redirect(url_for(".detail", code=system.code, _anchor="dependencies"))
