"""The rest of the API: who am I, agencies, duplication warnings, similar systems."""

from __future__ import annotations

from flask import g, jsonify, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import StaleEditError, ValidationError
from registry.models import Agency, DuplicateWarning
from registry.services import api_records, review
from registry.services.similar import SimilarQuery, as_json, find_similar
from registry.web import access
from registry.web.access import current_actor
from registry.web.api import (
    api_error,
    bp,
    fail,
    invalid,
    json_object,
    page_response,
    read_query,
    request_json,
    stale,
)
from registry.web.api import schemas as s
from registry.web.api.openapi import operation
from registry.web.templating import current_locale


@bp.get("/me")
@access.signed_in
@operation("Who am I", tag="account", responses={200: s.Me})
def me() -> Response:
    """The account the token or session acts for, and the token's scope."""
    user = current_user
    return jsonify(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        agency=user.agency.code if user.agency else None,
        scope=g.get("token_scope", "session"),
    )


@bp.get("/agencies")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("List agencies", tag="agencies", query=s.AgencyListQuery, responses={200: s.AgencyPage})
def agencies_list() -> Response:
    """The central → province → commune tree, by code; ``parent`` lists one agency's children."""
    query = read_query(s.AgencyListQuery)
    items, total, parents = api_records.list_agencies(
        get_session(),
        level=query.level.value if query.level else None,
        parent=query.parent,
        page=query.page,
        per_page=query.per_page,
    )
    records = [api_records.agency_record(a, parents) for a in items]
    return page_response("api.agencies_list", query, records, total)


@bp.get("/agencies/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("Read an agency", tag="agencies", responses={200: s.Agency})
def agency_detail(code: str) -> Response:
    session = get_session()
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        fail(404, "not_found", "No agency has this code.")
    return jsonify(api_records.agency_record(agency, api_records.parent_codes(session, [agency])))


@bp.get("/warnings")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation(
    "List duplication warnings", tag="review", query=s.WarningListQuery, responses={200: s.WarningPage}
)
def warnings_list() -> Response:
    """Every pair of systems the engine flagged, highest score first; filter by disposition."""
    query = read_query(s.WarningListQuery)
    found = api_records.list_warnings(
        get_session(),
        disposition=query.disposition.value if query.disposition else None,
        min_score=query.min_score,
        page=query.page,
        per_page=query.per_page,
    )
    records = [api_records.warning_record(w, found.codes) for w in found.items]
    return page_response("api.warnings_list", query, records, found.total)


def _warning(warning_id: int) -> DuplicateWarning:
    warning = get_session().get(DuplicateWarning, warning_id)
    if warning is None:
        fail(404, "not_found", "No warning has this id.")
    return warning


@bp.get("/warnings/<int(max=2147483647):warning_id>")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("Read a duplication warning", tag="review", responses={200: s.DuplicateWarning})
def warning_detail(warning_id: int) -> Response:
    """The pair, its score and the score's parts, the engine's reasons, and any disposition."""
    warning = _warning(warning_id)
    return jsonify(api_records.warning_record(warning, api_records.system_codes(get_session(), [warning])))


@bp.post("/warnings/<int(max=2147483647):warning_id>/disposition")
@access.allow(Permission.REVIEW)
@operation(
    "Dispose of a warning",
    tag="review",
    body=s.Disposal,
    responses={200: s.DuplicateWarning},
    errors=(409,),
)
def warning_dispose(warning_id: int) -> Response:
    """The standing office's judgement: confirmed duplicate, justified overlap or false positive."""
    _warning(warning_id)
    payload = json_object()
    version = payload.get("version")
    session = get_session()
    try:
        warning = review.dispose_warning(
            session,
            warning_id,
            disposition=str(payload.get("disposition") or ""),
            reason=payload.get("reason") if isinstance(payload.get("reason"), str) else None,
            actor=current_actor(),
            expected_version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        )
    except ValidationError as exc:
        return invalid(exc)
    except StaleEditError as exc:
        return stale(exc)
    return jsonify(api_records.warning_record(warning, api_records.system_codes(session, [warning])))


@bp.post("/similar")
@access.allow(Permission.VIEW_PORTFOLIO, reads_only=True)
@operation(
    "Systems similar to a proposal", tag="similar", body=s.SimilarQuery, responses={200: s.SimilarResult}
)
def similar() -> Response:
    """Registered systems most like a proposal, best first, with the reasons: what the
    registration form shows while the proposal is typed."""
    payload = request_json()
    if not isinstance(payload, dict):
        return api_error(400, "bad_request", "Send a JSON object with at least a name or a description.")
    query = SimilarQuery.from_mapping(payload)
    k = payload.get("k") if isinstance(payload.get("k"), int) else 8
    matches = find_similar(get_session(), query, k=k, locale=current_locale())
    return jsonify(
        matches=[as_json(m, url_for("systems.detail", code=m.system.code)) for m in matches],
        too_short=query.too_short,
    )
