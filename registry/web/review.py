"""The standing office's pages: the queue, a proposal's review, side-by-side comparison."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from registry.auth.policy import Permission
from registry.choices import Disposition, SystemStatus
from registry.db import get_session
from registry.errors import StaleEditError, ValidationError
from registry.fields import field_label
from registry.filters import QUEUE_AGE_LABELS, page_number, parse_queue_filter
from registry.models import DuplicateWarning, InformationSystem
from registry.services import assignments, embeddings, graph, overlaps, review, taxonomy, workflow
from registry.services.agencies import filter_choices as agency_choices
from registry.services.clusters import drawing, find_clusters, is_current
from registry.services.dependencies import neighbourhood
from registry.services.findings import findings_of
from registry.web import access
from registry.web.access import current_actor
from registry.web.systems import load_or_404
from registry.web.templating import current_locale

bp = Blueprint("review", __name__, url_prefix="/review")

COMPARED_FIELDS = (
    "name",
    "description",
    "purpose",
    "mandate",
    "legal_basis",
    "usage_orientation",
    "scope_level",
    "hosting",
)


@bp.get("/")
@access.allow(Permission.REVIEW)
def queue() -> str:
    session = get_session()
    parsed = parse_queue_filter(request.args)
    for problem in parsed.problems:
        flash(str(problem), "warning")
    flt = parsed.filter
    found = review.review_queue(
        session, flt, user_id=current_actor().user_id, page=page_number(request.args.get("page"))
    )
    return render_template(
        "review/queue.html",
        items=found.items,
        counts=found.counts,
        total=found.total,
        page=found.page,
        pages=found.pages,
        first_index=(found.page - 1) * review.QUEUE_PAGE_SIZE + 1,
        flt=flt,
        status=flt.status,
        agencies=agency_choices(session, flt.agency),
        capabilities=taxonomy.capabilities(session),
        ages=QUEUE_AGE_LABELS,
        risk_levels=review.RISK_LEVELS,
        locale=current_locale(),
        embedding=embeddings.running_embedding(session),
    )


@bp.post("/<code>/assign")
@access.allow(Permission.REVIEW)
def assign(code: str) -> Any:
    """Give the proposal to a reviewer, take it ("Take it" sends one's own name) or hand it back."""
    system = load_or_404(code)
    try:
        who = assignments.assign_reviewer(
            get_session(), system, reviewer=request.form.get("reviewer"), actor=current_actor()
        )
    except ValidationError as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(str(message), "warning")
    else:
        if who is None:
            flash(gettext("%(code)s is back in the queue, assigned to nobody.", code=system.code), "success")
        else:
            flash(
                gettext("%(code)s is assigned to %(name)s.", code=system.code, name=who.full_name), "success"
            )
    if request.form.get("back") == "queue":
        return redirect(url_for(".queue", **parse_queue_filter(request.form).filter.to_args()))
    return redirect(url_for(".page", code=code))


def _page(system: InformationSystem, errors: dict[str, list[object]] | None = None, status: int = 200) -> Any:
    session = get_session()
    locale = current_locale()
    seen = overlaps.warnings_seen_from(session, system, locale)
    decisions = workflow.decisions_of(session, system.id)  # type: ignore[arg-type]
    return (
        render_template(
            "review/page.html",
            system=system,
            overlaps=seen,
            findings=findings_of(session, system.id, locale),  # type: ignore[arg-type]
            decisions=decisions,
            names=review.people_named(
                session, [v.warning.decided_by_id for v in seen] + [d.reviewer_id for d in decisions]
            ),
            assignee=assignments.assignee_of(session, system.id),  # type: ignore[arg-type]
            reviewers=assignments.reviewers(session),
            assignable=system.status in assignments.ASSIGNABLE_STATUSES,
            decision_label=workflow.decision_label,
            moves=workflow.available(current_actor(), system),
            decisions_possible=workflow.available(current_actor(), system, decisions=True),
            dispositions=[d for d in Disposition if d != Disposition.OPEN],
            errors=errors or {},
            form_values=request.form if request.method == "POST" else {},
        ),
        status,
    )


@bp.get("/<code>")
@access.allow(Permission.REVIEW)
def page(code: str) -> Any:
    return _page(load_or_404(code))


@bp.post("/<code>/decide")
@access.allow(Permission.REVIEW)
def decide(code: str) -> Any:
    system = load_or_404(code)
    try:
        workflow.transition(
            get_session(),
            system,
            request.form.get("action", ""),
            actor=current_actor(),
            reason=request.form.get("reason"),
            reuse_code=request.form.get("reuse_code") or None,
            expected_version=_int(request.form.get("version")),
        )
    except ValidationError as exc:
        return _page(system, exc.errors, 422)
    except StaleEditError:
        flash(
            gettext("The proposal changed while you were reviewing it; read it again before deciding."),
            "warning",
        )
        return redirect(url_for(".page", code=code))
    except workflow.WorkflowError as exc:
        flash(str(exc.message), "warning")
        return redirect(url_for(".page", code=code))
    flash(gettext("Decision recorded; the agency has been notified."), "success")
    return redirect(url_for(".queue"))


@bp.post("/warnings/<int:warning_id>/dispose")
@access.allow(Permission.REVIEW)
def dispose(warning_id: int) -> Any:
    session = get_session()
    warning = session.get(DuplicateWarning, warning_id)
    if warning is None:
        abort(404)
    back = request.form.get("back", "")
    system = session.get(InformationSystem, warning.system_a_id if back != "b" else warning.system_b_id)
    code = request.form.get("code") or (system.code if system else "")
    try:
        review.dispose_warning(
            session,
            warning_id,
            disposition=request.form.get("disposition", ""),
            reason=request.form.get("reason"),
            actor=current_actor(),
            expected_version=_int(request.form.get("version")),
        )
    except ValidationError as exc:
        target = load_or_404(code)
        return _page(target, {f"warning-{warning_id}-{k}": v for k, v in exc.errors.items()}, 422)
    except StaleEditError:
        flash(gettext("Someone else decided this warning meanwhile; its current state is shown."), "warning")
    else:
        flash(gettext("Warning decision recorded."), "success")
    return redirect(url_for(".page", code=code, _anchor=f"warning-{warning_id}"))


@bp.get("/<code>/compare/<int:warning_id>")
@access.allow(Permission.VIEW_PORTFOLIO)
def compare(code: str, warning_id: int) -> str:
    session = get_session()
    system = load_or_404(code)
    warning = session.get(DuplicateWarning, warning_id)
    if warning is None or system.id not in (warning.system_a_id, warning.system_b_id):
        abort(404)
    other_id = warning.system_b_id if warning.system_a_id == system.id else warning.system_a_id
    other = session.scalar(select(InformationSystem).where(InformationSystem.id == other_id))
    terms = review.shared_terms(warning.reasons)
    rows = [
        (field_label(name), getattr(system, name), getattr(other, name), name) for name in COMPARED_FIELDS
    ]
    view = next(
        v
        for v in overlaps.warnings_seen_from(session, system, current_locale())
        if v.warning.id == warning.id
    )
    return render_template(
        "review/compare.html",
        system=system,
        other=other,
        warning=warning,
        reasons=view.reasons,
        rows=rows,
        terms=terms,
        spans=review.highlight_spans,
        signals=review.signal_rows(warning.components),
        around=(neighbourhood(session, system), neighbourhood(session, other)),  # type: ignore[arg-type]
        pictures=tuple(
            graph.neighbourhood_graph(
                session, s.code, hops=1, cap=graph.SMALL_CAP, locale=current_locale(), coarse=True
            )
            for s in (system, other)
        ),
        statuses=SystemStatus,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


CLUSTERS_PER_PAGE = 10
CLUSTER_SIZES = (2, 3, 5, 10)


@bp.get("/clusters")
@access.allow(Permission.VIEW_PORTFOLIO)
def clusters() -> str:
    capability = request.args.get("capability", "").strip()
    province = request.args.get("province", "").strip()
    min_size = _int(request.args.get("min_size"))
    min_size = min_size if min_size in CLUSTER_SIZES else 3
    page = page_number(request.args.get("page"))
    found = find_clusters(
        get_session(),
        capability=capability,
        province=province,
        min_size=min_size,
        page=page,
        per_page=CLUSTERS_PER_PAGE,
    )
    filters = {"capability": capability, "province": province, "min_size": min_size}
    return render_template(
        "review/clusters.html",
        found=found,
        everything=found.clusters,
        current=is_current(get_session(), found.clusters),
        drawings={c.key: drawing(c) for c in found.items},
        filters=filters,
        args={k: v for k, v in filters.items() if v and not (k == "min_size" and v == 3)},
        page=page,
        pages=max(1, -(-found.total // CLUSTERS_PER_PAGE)),
        sizes=CLUSTER_SIZES,
        capability_codes=sorted(
            found.clusters.capabilities,
            key=lambda code: found.clusters.capability_name(code, current_locale()),
        ),
        locale=current_locale(),
        first_index=(page - 1) * CLUSTERS_PER_PAGE + 1,
    )
