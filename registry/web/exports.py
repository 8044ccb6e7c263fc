"""Downloading the inventory, filtered exactly as the list page that offers the download."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, request, stream_with_context

from registry.auth.policy import Permission
from registry.db import get_session
from registry.exports import ecosystem, inventory
from registry.exports.formats import ExportMeta, csv_chunks, json_chunks, write_xlsx
from registry.filters import parse_filter
from registry.services import exports
from registry.web import access
from registry.web.access import current_actor
from registry.web.systems import load_or_404

bp = Blueprint("exports", __name__, url_prefix="/exports")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "yaml": "application/yaml; charset=utf-8",
}


@bp.get("/systems.<fmt>")
@access.allow(Permission.EXPORT)
def systems(fmt: str) -> Response:
    if fmt not in exports.FORMATS:
        abort(404)
    session = get_session()
    scope = exports.scope_for(current_actor(), parse_filter(request.args).filter)
    meta = exports.begin(session, current_actor(), fmt, scope)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if fmt in ecosystem.FORMATS:
        return _yaml(fmt, meta, inventory.rows(session, scope), f"registry-systems-{stamp}")
    headers = {"Content-Disposition": f'attachment; filename="registry-systems-{stamp}.{fmt}"'}
    if fmt == "xlsx":
        output = write_xlsx(meta, inventory.rows(session, scope), exports.related_sheets(session, scope))

        def chunks():  # type: ignore[no-untyped-def]
            with output:
                while block := output.read(256 * 1024):
                    yield block

        return Response(chunks(), mimetype=MIMETYPES[fmt], headers=headers)
    writer = csv_chunks if fmt == "csv" else json_chunks
    body = stream_with_context(writer(meta, inventory.rows(session, scope)))
    return Response(body, mimetype=MIMETYPES[fmt], headers=headers)


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
    return Response(stream_with_context(body), mimetype=MIMETYPES["yaml"], headers=headers)
