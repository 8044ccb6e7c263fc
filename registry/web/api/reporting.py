"""Usage reports and reporting rounds through the API: the same operations as the pages."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import ValidationError as InputError
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.models import Agency
from registry.services import api_records, reporting, usage
from registry.services.reporting import ReportingError
from registry.services.systems import get_system
from registry.web import access
from registry.web.access import current_actor
from registry.web.api import (
    api_error,
    bp,
    fail,
    invalid,
    json_object,
    load_system,
    page_response,
    read_query,
    stale,
)
from registry.web.api import schemas as s
from registry.web.api.openapi import operation


def _parsed(model: type[s.UsageWrite] | type[s.AttestationWrite], payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except InputError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "body"
            fields.setdefault(name, []).append(error["msg"])
        fail(422, "invalid", "Some fields are not valid.", fields=fields)


@bp.get("/systems/<code>/usage")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("A system's usage reports", tag="reporting", responses={200: s.UsageReportList})
def system_usage(code: str) -> Response:
    """Every usage report of the system, latest period first."""
    system = load_system(code)
    reports = usage.reports_of(get_session(), system.id)  # type: ignore[arg-type]
    return jsonify(items=[usage.report_record(r) for r in reports])


@bp.post("/systems/<code>/usage")
@access.allow(Permission.REPORT_USAGE)
@operation(
    "Report a system's usage",
    tag="reporting",
    body=s.UsageWrite,
    responses={200: s.UsageReport, 201: s.UsageReport},
)
def system_usage_file(code: str) -> Response:
    """File the usage of a system in operation for a period (201); the same period again
    corrects it (200). Only the managing agency's submitters and administrators report;
    the figures are audited, before and after for a correction."""
    system = load_system(code)
    body = _parsed(s.UsageWrite, json_object())
    data = usage.UsageInput(**body.model_dump())
    session = get_session()
    existed = any(
        r.period_start == data.period_start and r.period_end == data.period_end
        for r in usage.reports_of(session, system.id)  # type: ignore[arg-type]
    )
    try:
        report, _changed = usage.file_usage_report(session, system, data, actor=current_actor())
    except ValidationError as exc:
        return invalid(exc)
    response = jsonify(usage.report_record(report))
    response.status_code = 200 if existed else 201
    return response


@bp.get("/rounds")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("List reporting rounds", tag="reporting", query=s.RoundListQuery, responses={200: s.RoundPage})
def rounds_list() -> Response:
    """Every reporting round, open ones first, newest first, with how many agencies are done,
    in progress, late, not started, and have reported nothing at all."""
    query = read_query(s.RoundListQuery)
    summaries = reporting.list_rounds(get_session(), status=query.status)
    start = (query.page - 1) * query.per_page
    items = [summary.record() for summary in summaries[start : start + query.per_page]]
    return page_response("api.rounds_list", query, items, len(summaries))


@bp.get("/rounds/<int(max=2147483647):round_id>")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("Read a reporting round", tag="reporting", responses={200: s.Round})
def round_detail(round_id: int) -> Response:
    """The round and each agency's progress: systems in operation, attested, with usage, its
    state and days late, and when it was last reminded."""
    session = get_session()
    try:
        round_ = reporting.get_round(session, round_id)
    except NotFoundError:
        fail(404, "not_found", "No such reporting round.")
    progress = reporting.round_progress(session, round_id)
    return jsonify(**reporting.summarise(round_, progress).record(), progress=[p.record() for p in progress])


@bp.post("/rounds/<int(max=2147483647):round_id>/attestations")
@access.allow(Permission.REPORT_USAGE)
@operation(
    "Attest a system in a round",
    tag="reporting",
    body=s.AttestationWrite,
    responses={201: s.Attestation},
    errors=(409,),
)
def round_attest(round_id: int) -> Response:
    """Say that a system's record is still true (``confirmed``) or correct it first
    (``corrected``, with ``changes`` and ``version`` as for PATCH). Submitters attest their own
    agency's systems only. A closed round, or one not covering the agency, answers 409."""
    session = get_session()
    try:
        reporting.get_round(session, round_id)
    except NotFoundError:
        fail(404, "not_found", "No such reporting round.")
    body = _parsed(s.AttestationWrite, json_object())
    try:
        system = get_system(session, body.system.strip().upper())
    except NotFoundError:
        return api_error(
            422, "invalid", "Some fields are not valid.", {"system": ["No system has this code."]}
        )
    try:
        correction = (
            api_records.correction_from_record(session, system, body.changes)
            if body.outcome == "corrected" and body.changes is not None
            else None
        )
        attestation = reporting.attest_system(
            session,
            round_id,
            system,
            actor=current_actor(),
            outcome=body.outcome,
            note=body.note,
            correction=correction,
            expected_version=body.version,
        )
    except ValidationError as exc:
        return invalid(api_records.by_column(exc))
    except StaleEditError as exc:
        return stale(exc)
    except ReportingError as exc:
        return api_error(409, "conflict", str(exc.message))
    part = reporting.part_of(session, round_id, attestation.agency_id)
    agency = session.get(Agency, attestation.agency_id)
    response = jsonify(
        id=attestation.id,
        round_id=round_id,
        system=system.code,
        agency=agency.code if agency else "",
        outcome=attestation.outcome,
        note=attestation.note,
        attested_by=attestation.attested_by_label,
        attested_at=reporting.iso_utc(attestation.attested_at),
        agency_completed=part is not None and part.completed_at is not None,
    )
    response.status_code = 201
    return response
