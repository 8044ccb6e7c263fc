"""Helpers every template can call: labels of stored values, numbers and dates in the user's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import get_timezone_name
from babel.numbers import format_compact_currency
from flask import Flask
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    get_timezone,
    to_user_timezone,
)
from markupsafe import Markup, escape

from registry.auth.actor import actor_name
from registry.choices import (
    AgencyBlock,
    AgencyLevel,
    AttestationOutcome,
    DependencyKind,
    Disposition,
    Hosting,
    JobKind,
    JobState,
    JobStep,
    LabelledEnum,
    ReportingState,
    Role,
    RoundStatus,
    Severity,
    SystemStatus,
    TokenScope,
)
from registry.services import review, workflow

VOCABULARIES: dict[str, type[LabelledEnum]] = {
    "status": SystemStatus,
    "level": AgencyLevel,
    "block": AgencyBlock,
    "hosting": Hosting,
    "kind": DependencyKind,
    "disposition": Disposition,
    "role": Role,
    "scope": TokenScope,
    "severity": Severity,
    "round_status": RoundStatus,
    "outcome": AttestationOutcome,
    "reporting_state": ReportingState,
    "job_state": JobState,
    "job_kind": JobKind,
    "job_step": JobStep,
}


def label_of(vocabulary: str, value: str | None) -> str:
    """The label of a stored value; an unknown value is shown as is rather than hidden."""
    if value is None:
        return ""
    enum = VOCABULARIES[vocabulary]
    return enum(value).label if value in enum._value2member_map_ else value


def fmt_number(value: int | float | None) -> str:
    return "" if value is None else format_decimal(value)


def fmt_percent(value: float | None) -> str:
    """A score (0–1) as the reader's language writes a percentage ("85 %", "85%")."""
    return "" if value is None else format_percent(value)


def fmt_compact_money(value: int | None) -> str:
    """A large sum in a few characters ("17 T ₫", "₫17B"), for figures read at a glance; the
    exact amount is shown beside it wherever it matters."""
    if value is None:
        return ""
    return format_compact_currency(value, "VND", locale=current_locale(), fraction_digits=1)


def fmt_money(value: int | float | None) -> str:
    """An amount in đồng as the reader's language writes money ("1.200.000 ₫", "₫1,200,000")."""
    return "" if value is None else format_currency(value, "VND")


def fmt_datetime_text(value: datetime | str | None) -> str:
    """An instant as the reader's language writes it, in the registry's time zone, the zone
    named: the one way pages show a date and time, so no reader has to guess the zone."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    zone = get_timezone_name(get_timezone(), locale=current_locale())
    return f"{format_datetime(value, 'medium')} ({zone})"


def fmt_datetime(value: datetime | str | None) -> Markup:
    """:func:`fmt_datetime_text` inside ``<time datetime=…>``, whose machine-readable value
    carries the zone's offset (a naive value is UTC, as the database stores it)."""
    if value is None or value == "":
        return Markup("")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    machine = to_user_timezone(value).isoformat(timespec="seconds")
    return Markup('<time datetime="{}">{}</time>').format(machine, escape(fmt_datetime_text(value)))


def may(permission: str) -> bool:
    """Whether the signed-in person holds ``permission``: menus show only what they can open."""
    from flask_login import current_user

    from registry.auth import policy
    from registry.web.access import current_actor

    return bool(current_user.is_authenticated) and policy.allows(
        current_actor(), policy.Permission(permission)
    )


def unread_notifications() -> int:
    from flask_login import current_user

    from registry.db import get_session
    from registry.services.notifications import unread_count

    return unread_count(get_session(), current_user.id) if current_user.is_authenticated else 0


def current_locale() -> str:
    return str(get_locale() or "vi")


REASON_MINIMUMS = {"decision": workflow.MIN_REASON, "disposition": review.MIN_REASON}
"""Said in the help text of each reason field, so nobody learns the minimum from an error."""


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.filters["datetime_text"] = fmt_datetime_text  # inside attributes and sentences
    app.jinja_env.globals.update(
        label_of=label_of,
        actor_name=actor_name,
        fmt_number=fmt_number,
        fmt_percent=fmt_percent,
        fmt_compact_money=fmt_compact_money,
        fmt_money=fmt_money,
        format_date=format_date,
        format_datetime=format_datetime,
        format_currency=format_currency,
        fmt_datetime=fmt_datetime,
        may=may,
        unread_notifications=unread_notifications,
        reason_minimums=REASON_MINIMUMS,
    )

    @app.context_processor
    def locale_context() -> dict[str, Any]:
        return {"current_locale": current_locale()}
