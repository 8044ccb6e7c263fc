"""Signing in and out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from registry.db import get_session
from registry.i18n import LANGUAGE_KEY
from registry.services.login import authenticate
from registry.web import access
from registry.web.account_forms import LoginForm
from registry.web.pages import safe_next

bp = Blueprint("auth", __name__)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _start_session(user: Any) -> None:
    """Rotate the session: nothing from before sign-in survives except the chosen language.

    The cookie session is signed, not stored; starting from an empty one gives a new CSRF token
    and drops any value an attacker may have planted before the victim signed in.
    """
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    session.permanent = True
    login_user(user)
    session[access.SIGNED_IN_AT] = datetime.now(UTC).timestamp()


@bp.route("/login", methods=["GET", "POST"])
@access.public
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    status = 401
    if form.validate():
        result = authenticate(
            get_session(),
            form.username.data or "",
            form.password.data or "",
            address=_client_address(),
            hasher=access.password_hasher(),
            allow_demo=access.demo_accounts_allowed(),
        )
        if result.retry_after is not None:
            seconds = int(result.retry_after.total_seconds())
            form.form_errors.append(
                gettext(
                    "Too many failed attempts. Try again in %(minutes)s minutes.",
                    minutes=max(1, -(-seconds // 60)),
                )
            )
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(seconds)}
        if result.user is not None:
            _start_session(result.user)
            return redirect(safe_next(request.args.get("next")))
        form.form_errors.append(gettext("The username or password is not correct."))
    else:
        status = 400
    form.password.data = ""
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@access.signed_in
def logout() -> Response:
    language = session.get(LANGUAGE_KEY)
    logout_user()
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.login"))
