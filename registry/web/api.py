"""The JSON API's first endpoints: who am I, a system, and recording a dependency.

Clients authenticate with ``Authorization: Bearer <token>`` (no CSRF needed: a browser never
adds that header on its own) or, from the registry's own pages, with the session cookie plus
the ``X-CSRFToken`` header. Errors always have the shape ``{"error": {"code", "message",
"fields"?}}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from registry.auth import policy
from registry.auth.policy import Permission
from registry.db import get_session
from registry.services.dependencies import add_dependency
from registry.services.errors import NotFoundError, ValidationError
from registry.services.overlaps import OVERLAP_INDEX
from registry.services.similar import SimilarQuery, as_json, find_similar
from registry.services.systems import get_system, system_snapshot
from registry.web import access
from registry.web.access import current_actor
from registry.web.templating import current_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    return response


@bp.get("/me")
@access.signed_in
def me() -> Response:
    user = current_user
    return jsonify(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        agency=user.agency.code if user.agency else None,
        scope=g.get("token_scope", "session"),
    )


@bp.get("/systems/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
def system_detail(code: str) -> Response:
    session = get_session()
    try:
        system = get_system(session, code)
    except NotFoundError:
        abort(404)
    actor = current_actor()
    return jsonify(
        code=system.code,
        version=system.version,
        updated_at=system.updated_at.isoformat(),
        editable=policy.can_edit_system(actor, system.owner_agency_id, system.status),
        **system_snapshot(session, system),
    )


@bp.post("/similar")
@access.allow(Permission.VIEW_PORTFOLIO)
def similar() -> Response:
    """Registered systems most like a proposal: ``{"name", "description", "purpose"?,
    "capability_ids"?, "scope_level"?, "owner_agency_id"?, "system_id"?, "k"?}``."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return api_error(400, "bad_request", "Send a JSON object with at least a name or a description.")
    query = SimilarQuery.from_mapping(payload)
    k = payload.get("k") if isinstance(payload.get("k"), int) else 8
    matches = find_similar(
        get_session(), current_app.extensions[OVERLAP_INDEX], query, k=k, locale=current_locale()
    )
    return jsonify(
        matches=[as_json(m, url_for("systems.detail", code=m.system.code)) for m in matches],
        too_short=query.too_short,
    )


@bp.post("/systems/<code>/dependencies")
@access.allow(Permission.EDIT_SYSTEM)
def system_add_dependency(code: str) -> Response:
    session = get_session()
    try:
        system = get_system(session, code)
    except NotFoundError:
        abort(404)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return api_error(400, "bad_request", "Send a JSON object.")
    try:
        dependency = add_dependency(
            session,
            system,
            actor=current_actor(),
            target_code=str(payload.get("target_code") or ""),
            kind=str(payload.get("kind") or ""),
            note=payload.get("note") if isinstance(payload.get("note"), str) else None,
        )
    except ValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.errors.items()}
        return api_error(422, "invalid", "Some fields are not valid.", fields)
    response = jsonify(
        id=dependency.id, source=system.code, target=payload.get("target_code"), kind=dependency.kind
    )
    response.status_code = 201
    return response
