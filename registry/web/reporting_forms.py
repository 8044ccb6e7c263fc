"""Forms of the reporting area: a usage report, a new round, an attestation, a usage upload."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from registry.choices import AgencyBlock, AgencyLevel
from registry.fields import AUDIT_KEY_LABELS, SYSTEM_FIELD_LABELS
from registry.services.reporting import RoundInput
from registry.services.usage import UsageInput
from registry.web.forms import BaseForm, WholeNumberField


def field_label(name: str) -> object:
    """The field's label, still lazy: forms are declared before any request picks a language."""
    return SYSTEM_FIELD_LABELS.get(name) or AUDIT_KEY_LABELS[name]


class UsageForm(BaseForm):
    period_start = DateField(field_label("period_start"), validators=[Optional()])
    period_end = DateField(field_label("period_end"), validators=[Optional()])
    active_users = WholeNumberField(field_label("active_users"))
    transactions = WholeNumberField(field_label("transactions"))
    cost_vnd = WholeNumberField(field_label("cost_vnd"))
    note = TextAreaField(field_label("note"), render_kw={"rows": 2, "maxlength": 500})

    def to_input(self) -> UsageInput:
        return UsageInput(
            period_start=self.period_start.data,
            period_end=self.period_end.data,
            active_users=self.active_users.data,
            transactions=self.transactions.data,
            cost_vnd=self.cost_vnd.data,
            note=self.note.data,
        )


class RoundForm(BaseForm):
    title = StringField(field_label("title"), render_kw={"maxlength": 200})
    period_start = DateField(field_label("period_start"), validators=[Optional()])
    period_end = DateField(field_label("period_end"), validators=[Optional()])
    deadline = DateField(field_label("deadline"), validators=[Optional()])
    level = SelectField(_l("Every agency of the level"), validate_choice=False, default="")
    block = SelectField(_l("Every agency of the block"), validate_choice=False, default="")
    agency_ids = SelectMultipleField(
        _l("Or these agencies"), coerce=int, validate_choice=False, render_kw={"size": 10}
    )

    def fill_choices(self, agencies: list[tuple[int, str]]) -> None:
        self.level.choices = [("", _l("— any level —")), *AgencyLevel.choices()]
        self.block.choices = [("", _l("— any block —")), *AgencyBlock.choices()]
        self.agency_ids.choices = agencies

    def to_input(self) -> RoundInput:
        return RoundInput(
            title=self.title.data,
            period_start=self.period_start.data,
            period_end=self.period_end.data,
            deadline=self.deadline.data,
            level=self.level.data or None,
            block=self.block.data or None,
            agency_ids=tuple(self.agency_ids.data or ()),
        )


class AttestForm(BaseForm):
    note = StringField(field_label("note"), render_kw={"maxlength": 500})


class ExtensionForm(BaseForm):
    deadline = DateField(_l("New deadline for this agency"), validators=[Optional()])


class ActionForm(BaseForm):
    """A button that only needs CSRF (remind, close, "we have no system")."""


class UsageUploadForm(BaseForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to import."))])
