"""One's notifications: decisions on one's proposals, new submissions for reviewers."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from registry.db import get_session
from registry.services import notifications
from registry.web import access

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@access.signed_in
def index() -> str:
    rows = notifications.recent(get_session(), current_user.id)
    return render_template("notifications/index.html", rows=rows, kind_label=notifications.kind_label)


@bp.post("/read")
@access.signed_in
def mark_read() -> Response:
    notifications.mark_all_read(get_session(), current_user.id)
    return redirect(url_for(".index"))
