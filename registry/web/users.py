"""Account administration: create accounts, change role or agency, deactivate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import StaleEditError, ValidationError
from registry.models import User
from registry.services import agencies as agency_service
from registry.services.users import UserInput, create_user, get_user, list_users, update_user
from registry.web import access
from registry.web.access import current_actor
from registry.web.account_forms import UserForm

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _form(formdata: Any = None, **kwargs: Any) -> UserForm:
    form = UserForm(formdata=formdata, **kwargs)
    form.fill_choices(agency_service.agency_choices(get_session()))
    return form


def _input(form: UserForm) -> UserInput:
    return UserInput(
        username=form.username.data,
        full_name=form.full_name.data,
        role=form.role.data,
        agency_id=form.agency_id.data,
        is_active=bool(form.is_active.data),
        password=form.password.data or None,
    )


@bp.get("/")
@access.allow(Permission.MANAGE_USERS)
def index() -> str:
    return render_template("users/list.html", users=list_users(get_session()))


@bp.route("/new", methods=["GET", "POST"])
@access.allow(Permission.MANAGE_USERS)
def create() -> Any:
    if request.method == "GET":
        return render_template("users/form.html", form=_form(), user=None)
    form = _form(request.form)
    if form.validate():
        try:
            user = create_user(
                get_session(), _input(form), actor=current_actor(), hasher=access.password_hasher()
            )
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            flash(gettext("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for(".index"))
    form.password.data = ""
    return render_template("users/form.html", form=form, user=None), 422


def _load(user_id: int) -> User:
    user = get_user(get_session(), user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@access.allow(Permission.MANAGE_USERS)
def edit(user_id: int) -> Any:
    user = _load(user_id)
    if request.method == "GET":
        form = _form(obj=user, version=user.version)
        return render_template("users/form.html", form=form, user=user)
    form = _form(request.form)
    form.username.data = user.username
    status = 422
    if form.validate():
        try:
            update_user(
                get_session(),
                user,
                _input(form),
                actor=current_actor(),
                hasher=access.password_hasher(),
                expected_version=form.submitted_version(),
            )
        except StaleEditError:
            form = _form(obj=user, version=user.version)
            form.form_errors.append(
                gettext(
                    "Someone else changed this account meanwhile. "
                    "Its current values are shown; apply your change again."
                )
            )
            status = 409
        except ValidationError as exc:
            form.attach_errors(exc.errors)
        else:
            flash(gettext("Account %(username)s saved.", username=user.username), "success")
            return redirect(url_for(".index"))
    form.password.data = ""
    return render_template("users/form.html", form=form, user=user), status
