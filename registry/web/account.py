"""One's own account: change the password, issue and revoke API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError, ValidationError
from registry.services import tokens as token_service
from registry.services.users import change_own_password
from registry.web import access
from registry.web.access import current_actor
from registry.web.account_forms import CsrfOnlyForm, PasswordChangeForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(
    password_form: PasswordChangeForm | None = None,
    token_form: TokenForm | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> Any:
    token_form = token_form or TokenForm()
    token_form.fill_choices()
    return (
        render_template(
            "account/index.html",
            password_form=password_form or PasswordChangeForm(),
            token_form=token_form,
            tokens=token_service.tokens_of(get_session(), current_user),  # type: ignore[arg-type]
            button_form=CsrfOnlyForm(),
            new_secret=new_secret,
        ),
        status,
    )


@bp.get("/")
@access.signed_in
def index() -> Any:
    return _page()


@bp.post("/password")
@access.signed_in
def change_password() -> Any:
    form = PasswordChangeForm(request.form)
    try:
        change_own_password(
            get_session(),
            current_user,  # type: ignore[arg-type]
            current=form.current_password.data or "",
            new=form.new_password.data or "",
            confirmation=form.confirm_password.data or "",
            hasher=access.password_hasher(),
            actor=current_actor(),
        )
    except ValidationError as exc:
        form.attach_errors(exc.errors)
        return _page(password_form=form, status=422)
    # Other sessions ended with the old epoch; this one continues under the new one.
    # The account itself, not the proxy: Flask-Login stores what it is given as the request's
    # user, and a proxy stored there resolves to itself for the rest of the request.
    login_user(current_user._get_current_object())  # type: ignore[attr-defined]
    session[access.SIGNED_IN_AT] = session.get(access.SIGNED_IN_AT)
    flash(gettext("Password changed. Your other sessions have been signed out."), "success")
    return redirect(url_for(".index"))


@bp.post("/tokens")
@access.allow(Permission.MANAGE_OWN_TOKENS)
def issue_token() -> Any:
    form = TokenForm(request.form)
    form.fill_choices()
    if form.validate():
        try:
            issued = token_service.issue_token(
                get_session(),
                current_user,  # type: ignore[arg-type]
                name=form.name.data,
                scope=form.scope.data or "",
                days=form.days.data,
                actor=current_actor(),
            )
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            return _page(new_secret=issued.secret, status=201)
    return _page(token_form=form, status=422)


@bp.post("/tokens/<int:token_id>/revoke")
@access.allow(Permission.MANAGE_OWN_TOKENS)
def revoke_token(token_id: int) -> Response:
    try:
        token_service.revoke_token(get_session(), token_id, actor=current_actor())
    except NotFoundError:
        abort(404)
    flash(gettext("Token revoked: programs using it can no longer connect."), "success")
    return redirect(url_for(".index"))
