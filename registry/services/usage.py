"""Filing usage reports: a deployed system's active users, transactions and cost over a period.

:func:`file_usage_report` is the one write: the system's page, the API, the import and the
command line all call it. One report per system and period: filing the same period again
corrects the figures, and the audit event keeps them before and after. Rule R9 reads the
reports, so each filing refreshes the system's findings; a filing that completes the agency's
part of an open reporting round completes it (:func:`registry.services.reporting.note_progress`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.errors import ValidationError, too_long
from registry.models import InformationSystem, UsageReport
from registry.services import audit, reporting
from registry.services.findings import refresh_findings

FIGURES = ("active_users", "transactions", "cost_vnd")
FIGURE_LIMIT = 10**15
"""Above any real system's users, transactions or cost in VND (a quadrillion), well inside BIGINT."""
NOTE_LIMIT = 500
LONGEST_PERIOD = timedelta(days=366)
"""A report covers at most a year: a decade-long "period" would keep R9 quiet for a decade."""


@dataclass(frozen=True)
class UsageInput:
    """What a person files; the form, the API, the import and the CLI all build one."""

    period_start: date | None = None
    period_end: date | None = None
    active_users: int | None = None
    transactions: int | None = None
    cost_vnd: int | None = None
    note: str | None = None

    def normalised(self) -> UsageInput:
        note = (self.note or "").strip() or None
        return replace(self, note=note)


USAGE_FIELDS = tuple(f.name for f in fields(UsageInput))


def validate_usage_input(data: UsageInput, *, today: date | None = None) -> UsageInput:
    """The normalised input, or :class:`ValidationError` naming every bad field."""
    data = data.normalised()
    today = today or date.today()
    errors: dict[str, list[object]] = {}

    def add(name: str, message: object) -> None:
        errors.setdefault(name, []).append(message)

    if data.period_start is None:
        add("period_start", _l("Give the first day of the period."))
    if data.period_end is None:
        add("period_end", _l("Give the last day of the period."))
    if data.period_start is not None and data.period_end is not None:
        if data.period_end < data.period_start:
            add("period_end", _l("The period cannot end before it starts."))
        elif data.period_end - data.period_start >= LONGEST_PERIOD:
            add("period_end", _l("A report covers at most one year; file one report per year."))
    if data.period_start is not None and data.period_start > today:
        add("period_start", _l("The period has not started yet."))
    for name in FIGURES:
        value = getattr(data, name)
        if value is not None and not 0 <= value <= FIGURE_LIMIT:
            add(name, _l("Must be a whole number between 0 and %(limit)s.", limit=f"{FIGURE_LIMIT:,}"))
    if all(getattr(data, name) is None for name in FIGURES):
        add("active_users", _l("Give at least one figure: active users, transactions or cost."))
    if data.note is not None and len(data.note) > NOTE_LIMIT:
        add("note", too_long(NOTE_LIMIT, len(data.note)))
    if errors:
        raise ValidationError(errors)
    return data


def check_may_report(actor: Actor, system: InformationSystem) -> None:
    """Refuse anyone but the managing agency's submitters and administrators; refuse a system
    that is not deployed (proposals are not used yet, retired systems no longer are)."""
    policy.ensure(
        policy.can_report_for(actor, system.owner_agency_id),
        _l("Only the managing agency reports on its systems."),
    )
    if system.status not in policy.ATTESTED_STATUSES:
        raise ValidationError(
            {"system": [_l("Usage is reported for systems in operation only; this one is not deployed.")]}
        )


def snapshot(report: UsageReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in USAGE_FIELDS}


def file_usage_report(
    session: Session,
    system: InformationSystem,
    data: UsageInput,
    *,
    actor: Actor,
    today: date | None = None,
    now: datetime | None = None,
) -> tuple[UsageReport, bool]:
    """File (or correct) ``system``'s report for the period; return it and whether it changed.

    Permission, validation, the write, the audit event (``usage.file``, or ``usage.correct``
    with the figures before and after), then rule R9 and the agency's round progress. Filing
    the same figures again changes and records nothing. Flushes; the caller commits.
    ``today`` and ``now`` (UTC) stand in for the clock in tests and the seed's demo round.
    """
    check_may_report(actor, system)
    data = validate_usage_input(data, today=today)
    assert data.period_start is not None and data.period_end is not None
    report = session.scalar(
        select(UsageReport).where(
            col(UsageReport.system_id) == system.id,
            col(UsageReport.period_start) == data.period_start,
            col(UsageReport.period_end) == data.period_end,
        )
    )
    before = snapshot(report) if report is not None else None
    if report is None:
        report = UsageReport(system_id=system.id, period_start=data.period_start, period_end=data.period_end)  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        session.add(report)
    elif before == {name: getattr(data, name) for name in USAGE_FIELDS}:
        return report, False
    for name in USAGE_FIELDS:
        setattr(report, name, getattr(data, name))
    round_ = reporting.open_round_for(session, system.owner_agency_id, data.period_start, data.period_end)
    if round_ is not None:
        report.round_id = round_.id
    report.filed_by_id = actor.user_id
    report.filed_by_label = actor.label[:100]
    report.filed_at = now or datetime.now(UTC)
    session.flush()
    after = snapshot(report)
    if before is None:
        audit.record(
            session,
            actor,
            "usage.file",
            object_type="usage_report",
            object_id=report.id,
            object_label=system.name,
            system_id=system.id,
            after={**after, "round": round_.title if round_ else None},
        )
    else:
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor,
            "usage.correct",
            object_type="usage_report",
            object_id=report.id,
            object_label=system.name,
            system_id=system.id,
            before={"period_start": data.period_start, "period_end": data.period_end, **old},
            after={"period_start": data.period_start, "period_end": data.period_end, **new},
        )
    refresh_findings(session, [system], today=today)
    if round_ is not None:
        reporting.note_progress(session, round_, system.owner_agency_id, actor=actor, now=now)
    return report, True


def reports_of(session: Session, system_id: int) -> list[UsageReport]:
    """A system's reports, latest period first."""
    return list(
        session.scalars(
            select(UsageReport)
            .where(col(UsageReport.system_id) == system_id)
            .order_by(col(UsageReport.period_end).desc(), col(UsageReport.period_start).desc())
        )
    )


def report_record(report: UsageReport) -> dict[str, Any]:
    """A report as the API and exports show it."""
    return {
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "active_users": report.active_users,
        "transactions": report.transactions,
        "cost_vnd": report.cost_vnd,
        "note": report.note,
        "round_id": report.round_id,
        "filed_by": report.filed_by_label,
        "filed_at": reporting.iso_utc(report.filed_at),
    }
