"""Downloading the inventory, filtered exactly as the list page that offers the download."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, request, stream_with_context

from registry.auth.policy import Permission
from registry.db import get_session
from registry.exports import inventory
from registry.exports.formats import csv_chunks, json_chunks, write_xlsx
from registry.filters import parse_filter
from registry.services import exports
from registry.web import access
from registry.web.access import current_actor

bp = Blueprint("exports", __name__, url_prefix="/exports")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
