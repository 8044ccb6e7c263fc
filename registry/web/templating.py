"""Helpers every template can call: labels of stored values, numbers and dates in the user's language."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from registry.choices import (
    AgencyBlock,
    AgencyLevel,
    DependencyKind,
    Disposition,
    Hosting,
    LabelledEnum,
    SystemStatus,
)

VOCABULARIES: dict[str, type[LabelledEnum]] = {
    "status": SystemStatus,
    "level": AgencyLevel,
    "block": AgencyBlock,
    "hosting": Hosting,
    "kind": DependencyKind,
    "disposition": Disposition,
}


def label_of(vocabulary: str, value: str | None) -> str:
    """The label of a stored value; an unknown value is shown as is rather than hidden."""
    if value is None:
        return ""
    enum = VOCABULARIES[vocabulary]
    return enum(value).label if value in enum._value2member_map_ else value


def fmt_number(value: int | float | None) -> str:
    return "" if value is None else format_decimal(value)


def current_locale() -> str:
    return str(get_locale() or "vi")


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        label_of=label_of,
        fmt_number=fmt_number,
        format_date=format_date,
        format_datetime=format_datetime,
    )

    @app.context_processor
    def locale_context() -> dict[str, Any]:
        return {"current_locale": current_locale()}
