"""WTForms that parse what the browser sends; the services decide what is valid.

Forms only turn strings into typed values (numbers, dates, ids) and keep CSRF; the rules
(required fields, limits, references) live in :mod:`registry.services.systems` so the seed
loader, imports and the API enforce exactly the same ones. Service errors are attached back to
the fields they name, so each message appears next to its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import TextInput

from registry.choices import SECURITY_LEVELS, AgencyLevel, DependencyKind, Hosting, SystemStatus
from registry.fields import SYSTEM_FIELD_LABELS as L
from registry.models.system import (
    BOOLEAN_FIELDS,
    DATE_FIELDS,
    EDITABLE_FIELDS,
    INPUT_FIELDS,
    MULTILINE_FIELDS,
    NUMBER_LIMITS,
    RELATION_LISTS,
    TEXT_LIMITS,
    WEB_ADDRESS_FIELDS,
    SystemInput,
)


class _BabelTranslations:
    """Routes WTForms' own messages ("Not a valid date value.") through the app's catalogue."""

    def gettext(self, string: str) -> str:
        return gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)


class BaseForm(FlaskForm):
    class Meta:
        def get_translations(self, form: Any) -> _BabelTranslations:
            return _BabelTranslations()

        @property
        def csrf(self) -> bool:
            """A form posted with an API token carries no CSRF token, and needs none: the access
            check let it in by the token, and a forged cross-site request cannot add one."""
            enabled = bool(current_app.config.get("WTF_CSRF_ENABLED", True))
            return enabled and not (has_request_context() and request.authorization is not None)

    def attach_errors(self, errors: Mapping[str, list[object]]) -> list[object]:
        """Put service errors on their fields; return those that belong to no field."""
        unplaced: list[object] = []
        for name, messages in errors.items():
            field = self._fields.get(name)
            if field is None:
                unplaced.extend(messages)
                continue
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.extend(str(m) for m in messages)
        return unplaced


def optional_int(value: Any) -> int | None:
    """Coerce a select's value; the empty option means "none"."""
    if value in (None, "", "None"):
        return None
    return int(value)


class WholeNumberField(Field):
    """A non-negative whole number typed the way people write it: "12.500.000" or "12 500 000".

    VND has no fractional part, so dots, commas and spaces are all thousands separators.
    """

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:,}".replace(",", ".")

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist:
            return
        text = "".join(ch for ch in valuelist[0] if ch not in ".,  \u00a0\u202f")
        if not text:
            return
        if not text.isdigit():
            raise ValueError(gettext("Enter a whole number, e.g. 12.500.000."))
        self.data = int(text)


SEARCHABLE = {"data-searchable": "1"}
"""Long multiple choices: a script turns them into a searchable list; without it they stay plain."""


def _blank(label: object) -> tuple[str, object]:
    return ("", label)


class SystemForm(BaseForm):
    """The registration and edit form. Fields offering choices are declared here; every other
    field (text, numbers, dates) is made from its declaration in
    :class:`registry.models.system.SystemBase`, with its label and length limit."""

    status = SelectField(L["status"], validate_choice=False)
    scope_level = SelectField(L["scope_level"], validate_choice=False)
    instance_of_id = SelectField(L["instance_of_id"], coerce=optional_int, validate_choice=False)
    owner_agency_id = SelectField(L["owner_agency_id"], coerce=optional_int, validate_choice=False)
    operator_agency_id = SelectField(L["operator_agency_id"], coerce=optional_int, validate_choice=False)
    user_agency_ids = SelectMultipleField(
        L["user_agency_ids"], coerce=int, validate_choice=False, render_kw={"size": 8, **SEARCHABLE}
    )
    capability_ids = SelectMultipleField(
        L["capability_ids"], coerce=int, validate_choice=False, render_kw={"size": 8, **SEARCHABLE}
    )
    data_domain_ids = SelectMultipleField(
        L["data_domain_ids"], coerce=int, validate_choice=False, render_kw={"size": 6, **SEARCHABLE}
    )
    hosting = SelectField(L["hosting"], validate_choice=False)
    security_level = SelectField(L["security_level"], coerce=optional_int, validate_choice=False)
    version = HiddenField()
    reuse_of = HiddenField()
    """Public code of an existing system this record proposes to reuse (set by the similar panel)."""

    def fill_choices(
        self,
        *,
        agencies: list[tuple[int, str]],
        capabilities: list[tuple[int, str]],
        data_domains: list[tuple[int, str]],
        platforms: list[tuple[int, str]],
        owners: list[tuple[int, str]] | None = None,
        statuses: frozenset[str] | None = None,
    ) -> None:
        """Offer the choices; ``owners`` and ``statuses`` narrow what this person may pick."""
        none = _l("— none —")
        self.status.choices = [c for c in SystemStatus.choices() if statuses is None or c[0] in statuses]
        self.scope_level.choices = [_blank(_l("— choose —")), *AgencyLevel.choices()]
        self.hosting.choices = [_blank(_l("— not declared —")), *Hosting.choices()]
        self.security_level.choices = [
            _blank(_l("— not declared —")),
            *[(level, gettext("Level %(n)s", n=level)) for level in SECURITY_LEVELS],
        ]
        self.owner_agency_id.choices = (
            [_blank(_l("— choose —")), *agencies] if owners is None else list(owners)
        )
        self.operator_agency_id.choices = [_blank(none), *agencies]
        self.user_agency_ids.choices = agencies
        self.capability_ids.choices = capabilities
        self.data_domain_ids.choices = data_domains
        self.instance_of_id.choices = [_blank(_l("— not a deployment —")), *platforms]

    def mark_required(self, now: Iterable[str], for_review: Iterable[str] = ()) -> None:
        """Flag the fields the validation rules require: ``now`` to save, ``for_review`` to submit.

        The names come from the services' own rules, so the marks cannot drift from what a save
        or a submission refuses; a flagged field also gets the HTML ``required`` attribute.
        """
        for name in now:
            if name in self:
                self[name].flags.required = True
        for name in for_review:
            if name in self and not self[name].flags.required:
                self[name].flags.needed_for_review = True

    def to_input(self) -> SystemInput:
        values = {name: self[name].data for name in INPUT_FIELDS}
        values["status"] = values["status"] or ""
        values["scope_level"] = values["scope_level"] or None
        values["hosting"] = values["hosting"] or None
        values["is_shared_platform"] = bool(values["is_shared_platform"])
        for name in RELATION_LISTS:
            values[name] = list(values[name] or [])
        return SystemInput.of(**values)

    def submitted_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


def _declared_field(name: str) -> Field:
    """The form field for a plain field of the system, from its type and limit."""
    label = L[name]
    if name in BOOLEAN_FIELDS:
        return BooleanField(label)
    if name in DATE_FIELDS:
        return DateField(label, validators=[Optional()], default=None, render_kw={"type": "date"})
    if name in NUMBER_LIMITS:
        return WholeNumberField(label, render_kw={"inputmode": "numeric"})
    limit = TEXT_LIMITS[name]
    if name in MULTILINE_FIELDS or limit >= 1000:
        return TextAreaField(
            label, render_kw={"rows": 3 if name in MULTILINE_FIELDS else 2, "maxlength": limit}
        )
    kind = {"type": "url", "inputmode": "url"} if name in WEB_ADDRESS_FIELDS else {}
    return StringField(label, render_kw={"maxlength": limit, "autocomplete": "off", **kind})


for _name in EDITABLE_FIELDS:
    if not hasattr(SystemForm, _name):
        setattr(SystemForm, _name, _declared_field(_name))


class DependencyForm(BaseForm):
    target_code = StringField(
        _l("Public code of the system depended on"),
        render_kw={"placeholder": "HTTT-2024-000001", "maxlength": 16, "autocomplete": "off"},
    )
    kind = SelectField(_l("Kind"), validate_choice=False)
    note = StringField(_l("Note"), render_kw={"maxlength": 500})

    def fill_choices(self) -> None:
        self.kind.choices = DependencyKind.choices()
