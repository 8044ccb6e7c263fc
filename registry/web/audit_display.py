"""Turn audit events into rows people can read: labels, names instead of codes, formatted values.

The trail stores raw values (codes, ISO dates, plain numbers) so that it can be verified and
exported exactly; this module only decides how they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date, format_decimal, format_percent, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session

from registry.fields import field_label
from registry.models import Agency, AuditEvent, Capability, DataDomain
from registry.services.taxonomy import localized_name
from registry.web.templating import fmt_datetime_text, label_of

VOCABULARY_OF = {
    "status": "status",
    "scope_level": "level",
    "hosting": "hosting",
    "kind": "kind",
    "role": "role",
    "scope": "scope",
    "outcome": "outcome",
    "round_status": "round_status",
    "disposition": "disposition",
    "level": "level",
    "block": "block",
    "severity": "severity",
    "state": "job_state",
}
"""Keys whose values are codes of a vocabulary (:data:`registry.web.templating.VOCABULARIES`)."""
VALUE_LABELS: dict[str, dict[str, object]] = {
    "error": {"worker_lost": _l("the worker stopped while running it")},
    # The list page's filters an export records, labelled as the list page labels them.
    "agency_role": {
        "any": _l("in any role"),
        "owner": _l("as managing agency"),
        "operator": _l("as operating agency"),
        "user": _l("as user agency"),
    },
    "shared": {"yes": _l("Shared platforms only"), "no": _l("Not shared platforms")},
    "warnings": {
        "confirmed": _l("Confirmed duplicates"),
        "suspected": _l("Suspected duplicates (warning open)"),
    },
}
"""Keys whose values are codes of a small vocabulary that has no enum of its own."""
AGENCY_KEYS = frozenset(
    {"owner_agency", "operator_agency", "user_agencies", "agency", "agencies", "without_accounts"}
)
NUMBER_KEYS = frozenset(
    {
        "estimated_cost_vnd",
        "target_users",
        "active_users",
        "security_level",
        "version",
        "transactions",
        "cost_vnd",
        "messages",
        "completed",
        "not_completed",
    }
)
TERM_KEYS = {"capabilities": "capabilities", "capability": "capabilities", "data_domains": "data_domains"}
"""Keys holding codes of capabilities or data domains, and which of the two."""
HIDDEN_KEYS = frozenset({"version"})
DATE_KEYS = frozenset({"period_start", "period_end", "deadline", "operating_rules_date", "since", "until"})
DATETIME_KEYS = frozenset({"expires_at", "as_of", "heartbeat_at"})
PERCENT_KEYS = frozenset({"score", "min_score"})


@dataclass
class Row:
    label: str
    before: str | None
    after: str | None


@dataclass
class EventView:
    event: AuditEvent
    rows: list[Row]
    is_change: bool
    """True when the event has a before and an after (an edit), False for a creation or removal."""


class _Names:
    """Names of the agencies, capabilities and data domains the events mention, fetched once."""

    def __init__(self, session: Session, events: Iterable[AuditEvent], locale: str):
        codes: set[str] = set()
        for event in events:
            pending = [event.before or {}, event.after or {}]
            while pending:  # an export's filters nest the agency they named
                for key, value in pending.pop().items():
                    if isinstance(value, dict):
                        pending.append(value)
                    if key in AGENCY_KEYS or key in TERM_KEYS:
                        codes.update(value if isinstance(value, list) else [value] if value else [])
        self.agencies = {
            a.code: a.name for a in session.scalars(select(Agency).where(Agency.code.in_(codes)))
        }
        self.terms = {
            "capabilities": {
                c.code: localized_name(c, locale)
                for c in session.scalars(select(Capability).where(Capability.code.in_(codes)))
            },
            "data_domains": {
                d.code: localized_name(d, locale)
                for d in session.scalars(select(DataDomain).where(DataDomain.code.in_(codes)))
            },
        }

    def of(self, key: str, code: str) -> str:
        if key in AGENCY_KEYS:
            return self.agencies.get(code, code)
        return self.terms.get(TERM_KEYS.get(key, ""), {}).get(code, code)


def _text(key: str, value: Any, names: _Names) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list) and (key in VOCABULARY_OF or key in VALUE_LABELS):
        return ", ".join(filter(None, (_text(key, v, names) for v in value)))
    if key in VOCABULARY_OF and isinstance(value, str):
        return label_of(VOCABULARY_OF[key], value)
    if key in VALUE_LABELS and isinstance(value, str):
        return str(VALUE_LABELS[key].get(value, value))
    if key in PERCENT_KEYS and isinstance(value, int | float):
        return format_percent(value)
    if key in DATETIME_KEYS and isinstance(value, str):
        try:
            return fmt_datetime_text(value)
        except ValueError:
            return value
    if key in NUMBER_KEYS and isinstance(value, int):
        return format_decimal(value)
    if key in DATE_KEYS and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(names.of(key, str(v)) for v in value)
    if key in AGENCY_KEYS or key in TERM_KEYS:
        return names.of(key, str(value))
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {_text(k, v, names) or '—'}" for k, v in value.items())
    return str(value)


def present(session: Session, events: list[AuditEvent], locale: str) -> list[EventView]:
    names = _Names(session, events, locale)
    views = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        is_change = event.before is not None and event.after is not None
        rows = []
        for key in dict.fromkeys([*after, *before]):
            if key in HIDDEN_KEYS:
                continue
            old, new = _text(key, before.get(key), names), _text(key, after.get(key), names)
            if not is_change and old is None and new is None:
                continue  # a creation lists what was filled in, not every empty field
            rows.append(Row(field_label(key), old, new))
        views.append(EventView(event, rows, is_change))
    return views
