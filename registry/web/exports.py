"""Downloads: the inventory (now, or as of a past instant), filtered exactly as the list page
that offers it; the decision log and the warnings; the audit trail with its chain hashes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, stream_with_context, url_for

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import ValidationError
from registry.exports import as_of, ecosystem, inventory, records, trail
from registry.exports.formats import ExportMeta, csv_chunks, json_chunks, xlsx_chunks
from registry.filters import parse_filter
from registry.services import export_jobs, exports
from registry.web import access
from registry.web.access import current_actor
from registry.web.systems import load_or_404

bp = Blueprint("exports", __name__, url_prefix="/exports")

MIMETYPES = {  # full Content-Type values: passed as content_type, never completed again
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/jsonl",
    "yaml": "application/yaml; charset=utf-8",
}
TABLE_FORMATS = ("csv", "xlsx", "json")
"""The decision log and the warnings are tables: no ecosystem format describes them."""


@bp.get("/systems.<fmt>")
@access.allow(Permission.EXPORT)
def systems(fmt: str) -> Response:
    """``as_of=YYYY-MM-DD[THH:MM]`` rebuilds the rows from the audit trail as they stood then."""
    if fmt not in exports.FORMATS:
        abort(404)
    instant = as_of.parse_instant(request.args.get("as_of", "")) if request.args.get("as_of") else None
    if request.args.get("as_of") and instant is None:
        abort(400)
    session = get_session()
    flt = parse_filter(request.args).filter
    if instant is None and export_jobs.wants_job(session, current_actor(), fmt, flt):
        job, _created = export_jobs.start_export(session, current_actor(), fmt, flt)
        return redirect(url_for("jobs.detail", job_id=job.id))  # type: ignore[return-value]
    scope = exports.scope_for(current_actor(), flt)
    meta = exports.begin(session, current_actor(), fmt, scope, as_of=instant)
    if fmt in ecosystem.FORMATS:
        if instant is not None:
            abort(400)  # publiccode.yml and Backstage describe systems as they are
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return _yaml(fmt, meta, inventory.rows(session, scope), f"registry-systems-{stamp}")
    if instant is None:
        rows, sheets = inventory.rows(session, scope), exports.related_sheets(session, scope)
    else:  # today's dependencies and warnings would misdescribe the past: no related sheets
        rows, sheets = as_of.rows(session, exports.as_of_scope(scope, instant)), []
    return _download(meta, rows, fmt, "systems", inventory.COLUMNS, sheets)


@bp.get("/as-of")
@access.allow(Permission.EXPORT)
def as_of_form() -> Response | tuple[str, int]:
    """The inventory as of a past date: the date field in plain sight, and what is wrong with
    it next to it. A submitted form (``fmt`` set) with a good date goes on to the download."""
    session = get_session()
    flt = parse_filter(request.args).filter
    fmt, value = request.args.get("fmt"), request.args.get("as_of", "")
    errors: dict[str, list[object]] = {}
    if fmt is not None:
        if fmt not in exports.AS_OF_FORMATS:
            abort(404)
        try:
            exports.as_of_instant(session, value)
        except ValidationError as exc:
            errors = exc.errors
        else:
            args = flt.to_args(page="", per_page="")
            return redirect(url_for("exports.systems", fmt=fmt, as_of=value.strip(), **args))  # type: ignore[return-value]
    page = render_template(
        "exports/as_of.html",
        flt=flt,
        value=value,
        errors=errors.get("as_of", []),
        formats=exports.AS_OF_FORMATS,
        trail_start=as_of.trail_start(session),
    )
    return page, 422 if errors else 200


@bp.get("/decisions.<fmt>")
@access.allow(Permission.EXPORT)
def decisions(fmt: str) -> Response:
    """The decision log: ``since``/``until`` (dates), ``status`` = approve, reject, request_changes."""
    return _records("decisions", fmt, records.decision_rows, records.DECISION_COLUMNS)


@bp.get("/warnings.<fmt>")
@access.allow(Permission.EXPORT)
def warnings(fmt: str) -> Response:
    """The duplication warnings: ``since``/``until`` (raised), ``status`` = a disposition."""
    return _records("warnings", fmt, records.warning_rows, records.WARNING_COLUMNS)


def _records(kind: str, fmt: str, rows, columns: tuple[str, ...]) -> Response:  # type: ignore[no-untyped-def]
    if fmt not in TABLE_FORMATS:
        abort(404)
    session = get_session()
    flt = exports.record_filter_for(current_actor(), request.args)
    meta = exports.begin_records(session, current_actor(), kind, fmt, flt)
    return _download(meta, rows(session, flt), fmt, kind, columns, [])


@bp.get("/audit-trail.<fmt>")
@access.allow(Permission.READ_AUDIT)
def audit_trail(fmt: str) -> Response:
    """Every event with its chain hashes; ``since``/``until`` (dates, UTC) cut a period."""
    if fmt not in exports.TRAIL_FORMATS:
        abort(404)
    since, until = records.RecordFilter.parse(request.args).bounds()
    session = get_session()
    meta, span = exports.begin_trail(session, current_actor(), fmt, since, until)
    events = trail.rows(session, span)
    body = (
        trail.jsonl_chunks(meta, span, events)
        if fmt == "jsonl"
        else csv_chunks(meta, trail.csv_cells(events), columns=trail.COLUMNS)
    )
    return Response(
        stream_with_context(body), content_type=MIMETYPES[fmt], headers=_attachment("audit-trail", fmt)
    )


def _attachment(name: str, fmt: str) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return {"Content-Disposition": f'attachment; filename="registry-{name}-{stamp}.{fmt}"'}


def _download(meta, rows, fmt: str, name: str, columns, sheets) -> Response:  # type: ignore[no-untyped-def]
    headers = _attachment(name, fmt)
    if fmt == "xlsx":
        body = stream_with_context(xlsx_chunks(meta, rows, sheets, columns=columns))
        return Response(body, content_type=MIMETYPES[fmt], headers=headers)
    writer = csv_chunks if fmt == "csv" else json_chunks
    body = stream_with_context(writer(meta, rows, columns=columns))
    return Response(body, content_type=MIMETYPES[fmt], headers=headers)


@bp.get("/systems/<code>.<fmt>")
@access.allow(Permission.EXPORT)
def system(code: str, fmt: str) -> Response:
    """One system as publiccode.yml or catalog-info.yaml (its page offers both)."""
    if fmt not in ecosystem.FORMATS:
        abort(404)
    session = get_session()
    scope = exports.scope_for_system(current_actor(), load_or_404(code))
    meta = exports.begin(session, current_actor(), fmt, scope, single=True)
    return _yaml(fmt, meta, exports.system_rows(session, scope), code)


def _yaml(fmt: str, meta: ExportMeta, rows: Iterator[dict[str, Any]], stem: str) -> Response:
    spec = ecosystem.FORMATS[fmt]
    body = spec.writer(get_session(), meta, rows, base_url=request.url_root)
    headers = {"Content-Disposition": f'attachment; filename="{stem}.{spec.filename}"'}
    return Response(stream_with_context(body), content_type=MIMETYPES["yaml"], headers=headers)
