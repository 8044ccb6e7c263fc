"""Systems through the API: list, read, register, save, move through the workflow, and what
surrounds one system (dependencies, warnings, findings, decisions)."""

from __future__ import annotations

from flask import jsonify, request, url_for
from werkzeug.wrappers import Response

from registry.auth import policy
from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.filters import list_systems, parse_filter
from registry.models import InformationSystem
from registry.services import api_lists, api_records, overlaps, workflow
from registry.services.dependencies import Edge, add_dependency, neighbourhood, remove_dependency
from registry.services.findings import findings_of
from registry.web import access
from registry.web.access import current_actor
from registry.web.api import (
    api_error,
    bp,
    fail,
    invalid,
    json_object,
    load_system,
    page_links,
    stale,
)
from registry.web.api import schemas as s
from registry.web.api.openapi import operation
from registry.web.templating import current_locale


def _record(system: InformationSystem) -> Response:
    return jsonify(api_records.system_record(get_session(), system, current_actor()))


@bp.get("/systems")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("List systems", tag="systems", query=s.SystemListQuery, responses={200: s.SystemPage})
def systems_list() -> Response:
    """The list page's filters and sort orders, with the same query parameters, one page at a time.

    ``total`` counts matches up to 2,000 for a filtered list; beyond that ``more`` is true.
    """
    parsed = parse_filter(request.args)
    if parsed.problems:
        return api_error(400, "bad_request", " ".join(str(p) for p in parsed.problems))
    page = list_systems(get_session(), parsed.filter)
    args = parsed.filter.to_args(page="")
    return jsonify(
        items=api_records.system_summaries(get_session(), page.items),
        total=page.total,
        more=page.more,
        page=page.page,
        per_page=page.per_page,
        pages=page.pages,
        links=page_links("api.systems_list", args, page.page, page.pages),
    )


@bp.post("/systems")
@access.allow(Permission.CREATE_SYSTEM)
@operation(
    "Register a system",
    tag="systems",
    body=s.SystemWrite,
    responses={201: s.System},
)
def system_create() -> Response:
    """Validated like the registration form; a submitter registers for their own agency only.

    A new system is a draft (administrators may also record one as in operation or retired).
    """
    payload = json_object()
    try:
        system = api_records.create_from_record(get_session(), payload, actor=current_actor())
    except ValidationError as exc:
        return invalid(exc)
    response = _record(system)
    response.status_code = 201
    response.headers["Location"] = url_for("api.system_detail", code=system.code)
    return response


@bp.get("/systems/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("Read a system", tag="systems", responses={200: s.System})
def system_detail(code: str) -> Response:
    """The interchange record: what an export holds, and what PUT accepts back."""
    return _record(load_system(code))


@bp.route("/systems/<code>", methods=["PUT", "PATCH"])
@access.allow(Permission.EDIT_SYSTEM)
@operation(
    "Replace a system's content",
    tag="systems",
    body=s.SystemWrite,
    responses={200: s.System},
    errors=(409,),
    method="PUT",
)
@operation(
    "Change some of a system's fields",
    tag="systems",
    body=s.SystemWrite,
    responses={200: s.System},
    errors=(409,),
    method="PATCH",
)
def system_update(code: str) -> Response:
    """PUT replaces every writable column (one left out is cleared; ``status`` is kept);
    PATCH changes only the columns sent. Both need the ``version`` you read: if the system
    changed since, the answer is 409 with ``current_version``. Read-only columns are ignored,
    so a GET response can be sent back as it is; saving it unchanged records nothing.
    """
    system = load_system(code)
    payload = json_object()
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return api_error(
            422,
            "invalid",
            "Some fields are not valid.",
            {"version": ["Send the version you read, to guard against overwriting another change."]},
        )
    try:
        api_records.update_from_record(
            get_session(),
            system,
            payload,
            actor=current_actor(),
            expected_version=version,
            partial=request.method == "PATCH",
        )
    except ValidationError as exc:
        return invalid(exc)
    except StaleEditError as exc:
        return stale(exc)
    return _record(system)


@bp.post("/systems/<code>/transitions")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation(
    "Move a system through its lifecycle",
    tag="workflow",
    body=s.Transition,
    responses={200: s.System},
    errors=(409,),
)
def system_transition(code: str) -> Response:
    """Submit, withdraw, take into review, decide (with a reason), deploy, retire: the buttons
    of the system's page and of the review page. Who may do which move is the workflow's rule;
    a move not possible from the current status is 409.
    """
    actor = current_actor()
    policy.ensure(policy.allows(actor, Permission.EDIT_SYSTEM) or policy.allows(actor, Permission.REVIEW))
    system = load_system(code)
    payload = json_object()
    version = payload.get("version")

    def text(key: str) -> str | None:
        value = payload.get(key)
        return value if isinstance(value, str) else None

    session = get_session()
    try:
        workflow.transition(
            session,
            system,
            text("action") or "",
            actor=actor,
            reason=text("reason"),
            reuse_code=text("reuse_code"),
            expected_version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        )
    except ValidationError as exc:
        return invalid(exc)
    except StaleEditError as exc:
        return stale(exc)
    except workflow.WorkflowError as exc:
        return api_error(409, "conflict", str(exc.message))
    return _record(system)


@bp.get("/systems/<code>/dependencies")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("A system's dependencies", tag="dependencies", responses={200: s.Neighbourhood})
def system_dependencies(code: str) -> Response:
    """What the system depends on, what depends on it, and the deployments of a shared platform."""
    around = neighbourhood(get_session(), load_system(code))

    def edge(e: Edge) -> dict[str, object]:
        d = e.dependency
        return {"id": d.id, "kind": d.kind, "note": d.note, "system": e.other.code, "name": e.other.name}

    return jsonify(
        outgoing=[edge(e) for e in around.outgoing],
        incoming=[edge(e) for e in around.incoming],
        incoming_count=around.incoming_count,
        deployments=[system.code for system in around.deployments],
        deployment_count=around.deployment_count,
    )


@bp.post("/systems/<code>/dependencies")
@access.allow(Permission.EDIT_SYSTEM)
@operation(
    "Record a dependency", tag="dependencies", body=s.DependencyWrite, responses={201: s.DependencyCreated}
)
def system_add_dependency(code: str) -> Response:
    """This system depends on another (by code), of a kind; for those who may edit the system."""
    system = load_system(code)
    payload = json_object()
    try:
        dependency = add_dependency(
            get_session(),
            system,
            actor=current_actor(),
            target_code=str(payload.get("target_code") or ""),
            kind=str(payload.get("kind") or ""),
            note=payload.get("note") if isinstance(payload.get("note"), str) else None,
        )
    except ValidationError as exc:
        return invalid(exc)
    response = jsonify(
        id=dependency.id, source=system.code, target=payload.get("target_code"), kind=dependency.kind
    )
    response.status_code = 201
    return response


@bp.delete("/systems/<code>/dependencies/<int(max=2147483647):dependency_id>")
@access.allow(Permission.EDIT_SYSTEM)
@operation("Remove a dependency", tag="dependencies", responses={204: None})
def system_remove_dependency(code: str, dependency_id: int) -> Response:
    """Audited like the button on the system's page."""
    system = load_system(code)
    try:
        remove_dependency(get_session(), system, dependency_id, actor=current_actor())
    except NotFoundError:
        fail(404, "not_found", "This system has no such dependency.")
    return Response(status=204)


@bp.get("/systems/<code>/warnings")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("A system's duplication warnings", tag="review", responses={200: s.WarningList})
def system_warnings(code: str) -> Response:
    """Every pair this system is part of, best score first, with reasons in the reader's language."""
    session = get_session()
    system = load_system(code)
    views = overlaps.warnings_seen_from(session, system, current_locale())
    codes = api_records.system_codes(session, [v.warning for v in views])
    return jsonify(
        items=[
            {
                **api_records.warning_record(v.warning, codes),
                "other": v.other.code,
                "explanations": v.reasons,
            }
            for v in views
        ]
    )


@bp.get("/systems/<code>/findings")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("A system's findings", tag="review", responses={200: s.FindingList})
def system_findings(code: str) -> Response:
    """The justification rules (R1–R10) the system currently fails, most severe first."""
    system = load_system(code)
    views = findings_of(get_session(), system.id, current_locale())  # type: ignore[arg-type]
    return jsonify(items=[api_lists.finding_item(v) for v in views])


@bp.get("/systems/<code>/decisions")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("The decisions on a system", tag="review", responses={200: s.DecisionList})
def system_decisions(code: str) -> Response:
    """The standing office's decisions on this proposal, latest first."""
    session = get_session()
    system = load_system(code)
    decisions = workflow.decisions_of(session, system.id)  # type: ignore[arg-type]
    reuse = workflow.codes_of(session, [d.reuse_system_id for d in decisions if d.reuse_system_id])
    return jsonify(
        items=[
            api_lists.decision_item(
                d.outcome,
                d.reason,
                d.reviewer_label,
                reuse.get(d.reuse_system_id) if d.reuse_system_id else None,
                d.decided_at,
            )
            for d in decisions
        ]
    )
