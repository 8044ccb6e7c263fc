"""Forms for signing in, one's own account and API tokens, and account administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.validators import Optional as OptionalValue

from registry.choices import Role, TokenScope
from registry.web.forms import BaseForm, optional_int


class LoginForm(BaseForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )


class CsrfOnlyForm(BaseForm):
    """A button that changes something (sign out, revoke): only the CSRF token is sent."""


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        _l("New password"), render_kw={"autocomplete": "new-password", "minlength": 12, "maxlength": 128}
    )
    confirm_password = PasswordField(
        _l("New password, again"),
        render_kw={"autocomplete": "new-password", "maxlength": 128},
    )
    """Typed twice, as the command line asks: a typo here would lock the person out."""


class TokenForm(BaseForm):
    name = StringField(
        _l("What will use it"),
        render_kw={"maxlength": 100, "placeholder": _l("e.g. provincial inventory sync")},
    )
    scope = SelectField(_l("Scope"), validate_choice=False)
    days = IntegerField(
        _l("Valid for (days)"), default=90, validators=[OptionalValue()], render_kw={"min": 1, "max": 366}
    )

    def fill_choices(self) -> None:
        self.scope.choices = TokenScope.choices()


class UserForm(BaseForm):
    username = StringField(
        _l("Username"), render_kw={"maxlength": 64, "autocapitalize": "none", "autocomplete": "off"}
    )
    full_name = StringField(_l("Full name"), render_kw={"maxlength": 200})
    role = SelectField(_l("Role"), validate_choice=False)
    agency_id = SelectField(_l("Agency"), coerce=optional_int, validate_choice=False)
    is_active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"), render_kw={"autocomplete": "new-password", "minlength": 12, "maxlength": 128}
    )
    version = HiddenField()

    def fill_choices(self, agencies: list[tuple[int, str]]) -> None:
        self.role.choices = Role.choices()
        self.agency_id.choices = [("", _l("— none —")), *agencies]

    def submitted_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None
