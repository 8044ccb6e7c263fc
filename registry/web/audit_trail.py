"""The audit trail for auditors and administrators: browse it and verify its hash chain."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from registry.auth.policy import Permission
from registry.db import get_session
from registry.filters import page_number
from registry.services import audit
from registry.web import access
from registry.web.audit_display import present
from registry.web.templating import current_locale

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50


@bp.get("/")
@access.allow(Permission.READ_AUDIT)
def index() -> str:
    session = get_session()
    action = request.args.get("action", "").strip()[:40]
    actor = request.args.get("actor", "").strip()[:100]
    page = audit.list_events(
        session,
        action=action or None,
        actor=actor or None,
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
    )
    return render_template(
        "audit/index.html",
        page=page,
        views=present(session, page.events, current_locale()),
        action=action,
        actor=actor,
        actions=audit.actions(session),
        action_label=audit.action_label,
        object_type_label=audit.object_type_label,
    )


@bp.get("/verify")
@access.allow(Permission.READ_AUDIT)
def verify() -> str:
    report = audit.verify(get_session())
    return render_template("audit/verify.html", report=report)
