"""Site-wide pages: home, language switch, liveness and readiness probes."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, jsonify, redirect, request, session, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.i18n import LANGUAGE_KEY
from registry.jobs import queue_of
from registry.services import readiness
from registry.services.overlaps import portfolio_index
from registry.web import access, dashboard

bp = Blueprint("pages", __name__)


@bp.get("/")
@access.allow(Permission.VIEW_PORTFOLIO)
def home() -> str:
    """The dashboard: the portfolio in figures, in the order the signed-in role reads them."""
    return dashboard.render_dashboard()


@bp.get("/lang/<code>")
@access.public
def set_language(code: str) -> Response:
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session[LANGUAGE_KEY] = code
    return redirect(safe_next(request.args.get("next")))


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the switch cannot be used as an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("systems.index")


@bp.get("/healthz")
@access.public
def health() -> tuple[Response, int]:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/readyz")
@access.public
def ready() -> tuple[Response, int]:
    """Readiness for a load balancer: 200 when every check passes, 503 naming those that fail.

    Public and cheap (a few one-row queries and a queue length, never a fit of the index):
    it is polled every few seconds. Errors are named by their type only; the details, which
    may hold host names, go to the log.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    result = readiness.check(
        get_session(),
        index=portfolio_index(),
        queue=queue_of(app).huey.storage,
        index_required=bool(app.config.get("READY_REQUIRES_INDEX")),
    )
    return jsonify(result.record()), 200 if result.ready else 503
