"""Reporting rounds: the standing office asks agencies to attest their inventory and report usage.

A round has a period, a deadline and the agencies it covers. Each agency attests every system
it manages that is in operation (confirms the record, or corrects it through the ordinary save)
and files usage for the round's period (:mod:`registry.services.usage`). An agency's part
completes by itself when its last system is attested and reported; an agency with no system in
operation completes by saying so (:func:`confirm_no_systems`). Reminders go to the agencies not
done, at most once a day (:func:`send_reminders`, also ``flask --app app reporting remind``).

Writes here are operations like every other: permission, checks, write, audit event; they
flush and the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import (
    AgencyBlock,
    AgencyLevel,
    AttestationOutcome,
    JobKind,
    JobStep,
    ReportingState,
    Role,
    RoundStatus,
)
from registry.errors import NotFoundError, ServiceError, ValidationError, too_long
from registry.models import (
    Agency,
    InformationSystem,
    Job,
    ReportingRound,
    RoundAgency,
    SystemAttestation,
    UsageReport,
    User,
)
from registry.models.system import SystemInput
from registry.services import audit, jobs, notifications
from registry.services.systems import update_system

TITLE_LIMIT = 200
NOTE_LIMIT = 500


class ReportingError(ServiceError):
    """The round's state does not allow this (closed, agency not covered, not done yet)."""

    def __init__(self, message: object):
        self.message = message
        super().__init__(str(message))


# --- opening and closing ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundInput:
    """A new round. Agencies are chosen by ``agency_ids``, or all of a ``level`` and/or ``block``."""

    title: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    deadline: date | None = None
    level: str | None = None
    block: str | None = None
    agency_ids: tuple[int, ...] = ()


def _chosen_agencies(session: Session, data: RoundInput) -> list[Agency]:
    if data.agency_ids:
        return list(session.scalars(select(Agency).where(col(Agency.id).in_(data.agency_ids))))
    conditions = []
    if data.level:
        conditions.append(col(Agency.level) == data.level)
    if data.block:
        conditions.append(col(Agency.block) == data.block)
    if not conditions:
        return []
    return list(session.scalars(select(Agency).where(*conditions).order_by(col(Agency.code))))


def open_round(
    session: Session, data: RoundInput, *, actor: Actor, today: date | None = None
) -> ReportingRound:
    """Open a round for the chosen agencies and tell their accounts; audited as ``round.open``."""
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_ROUNDS))
    today = today or date.today()
    errors: dict[str, list[object]] = {}

    def add(name: str, message: object) -> None:
        errors.setdefault(name, []).append(message)

    title = " ".join((data.title or "").split())
    if not title:
        add("title", _l("Give the round a title."))
    elif len(title) > TITLE_LIMIT:
        add("title", too_long(TITLE_LIMIT, len(title)))
    if data.period_start is None:
        add("period_start", _l("Give the first day of the period."))
    if data.period_end is None:
        add("period_end", _l("Give the last day of the period."))
    if data.period_start and data.period_end and data.period_end < data.period_start:
        add("period_end", _l("The period cannot end before it starts."))
    if data.deadline is None:
        add("deadline", _l("Give the deadline."))
    else:
        if data.deadline < today:
            add("deadline", _l("The deadline cannot be in the past."))
        if data.period_end and data.deadline < data.period_end:
            add("deadline", _l("The deadline must fall on or after the end of the period reported on."))
    if data.level and data.level not in AgencyLevel._value2member_map_:
        add("level", _l("Choose central, province or commune."))
    if data.block and data.block not in AgencyBlock._value2member_map_:
        add("block", _l("Choose a valid block."))
    agencies = _chosen_agencies(session, data)
    if data.agency_ids and len(agencies) != len(set(data.agency_ids)):
        add("agency_ids", _l("One of the chosen agencies does not exist."))
    elif not agencies:
        add("agency_ids", _l("Choose the agencies: a level, a block, or a list of agencies."))
    if errors:
        raise ValidationError(errors)
    assert data.period_start and data.period_end and data.deadline
    round_ = ReportingRound(
        title=title,
        period_start=data.period_start,
        period_end=data.period_end,
        deadline=data.deadline,
        status=RoundStatus.OPEN,
        opened_by_id=actor.user_id,
        opened_by_label=actor.label[:100],
    )
    session.add(round_)
    session.flush()
    session.add_all(RoundAgency(round_id=round_.id, agency_id=a.id) for a in agencies)  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
    audit.record(
        session,
        actor,
        "round.open",
        object_type="round",
        object_id=round_.id,
        object_label=round_.title,
        after={
            "title": round_.title,
            "period_start": round_.period_start,
            "period_end": round_.period_end,
            "deadline": round_.deadline,
            "agencies": sorted(a.code for a in agencies),
        },
    )
    _notify_agencies(session, round_, [a.id for a in agencies if a.id is not None], "round_opened", today)
    session.flush()
    return round_


def close_round(
    session: Session, round_id: int, *, actor: Actor, today: date | None = None
) -> ReportingRound:
    """Close an open round: nothing more is attested in it; audited with its final counts."""
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_ROUNDS))
    round_ = get_round(session, round_id)
    if round_.status != RoundStatus.OPEN:
        raise ReportingError(_l("This round is already closed."))
    progress = round_progress(session, round_id, today=today)
    round_.status = RoundStatus.CLOSED
    round_.closed_at = datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        actor,
        "round.close",
        object_type="round",
        object_id=round_.id,
        object_label=round_.title,
        before={"round_status": RoundStatus.OPEN},
        after={
            "round_status": RoundStatus.CLOSED,
            "completed": sum(p.state == ReportingState.COMPLETED for p in progress),
            "not_completed": sum(p.state != ReportingState.COMPLETED for p in progress),
        },
    )
    return round_


def get_round(session: Session, round_id: int) -> ReportingRound:
    round_ = session.get(ReportingRound, round_id)
    if round_ is None:
        raise NotFoundError(round_id)
    return round_


def open_round_for(
    session: Session, agency_id: int | None, period_start: date, period_end: date
) -> ReportingRound | None:
    """The open round covering this agency for exactly this period, if there is one."""
    if agency_id is None:
        return None
    return session.scalar(
        select(ReportingRound)
        .join(RoundAgency, col(RoundAgency.round_id) == col(ReportingRound.id))
        .where(
            col(ReportingRound.status) == RoundStatus.OPEN,
            col(ReportingRound.period_start) == period_start,
            col(ReportingRound.period_end) == period_end,
            col(RoundAgency.agency_id) == agency_id,
        )
        .order_by(col(ReportingRound.id).desc())
        .limit(1)
    )


# --- attesting ---------------------------------------------------------------------------------


def _covered(session: Session, round_id: int, agency_id: int | None) -> RoundAgency | None:
    if agency_id is None:
        return None
    return session.scalar(
        select(RoundAgency).where(
            col(RoundAgency.round_id) == round_id, col(RoundAgency.agency_id) == agency_id
        )
    )


def _open_part(
    session: Session, round_id: int, agency_id: int | None, actor: Actor
) -> tuple[ReportingRound, RoundAgency]:
    round_ = get_round(session, round_id)
    policy.ensure(policy.can_report_for(actor, agency_id), _l("Only the agency itself reports in a round."))
    if round_.status != RoundStatus.OPEN:
        raise ReportingError(_l("This round is closed."))
    part = _covered(session, round_id, agency_id)
    if part is None:
        raise ReportingError(_l("This round does not cover this agency."))
    return round_, part


def attest_system(
    session: Session,
    round_id: int,
    system: InformationSystem,
    *,
    actor: Actor,
    outcome: str,
    note: str | None = None,
    correction: SystemInput | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> SystemAttestation:
    """The agency states that ``system``'s record is true (``confirmed``), or corrects it first
    (``corrected``: ``correction`` is saved by :func:`registry.services.systems.update_system`,
    with its validation, optimistic lock and audited diff). Audited as ``system.attest``.
    ``now`` (UTC) dates the attestation; the seed's demo round uses it to replay past weeks."""
    round_, part = _open_part(session, round_id, system.owner_agency_id, actor)
    if system.status not in policy.ATTESTED_STATUSES:
        raise ReportingError(_l("Only systems in operation are attested."))
    errors: dict[str, list[object]] = {}
    note = (note or "").strip() or None
    if outcome not in AttestationOutcome._value2member_map_:
        errors.setdefault("outcome", []).append(_l("Confirm the record or correct it."))
    if note is not None and len(note) > NOTE_LIMIT:
        errors.setdefault("note", []).append(too_long(NOTE_LIMIT, len(note)))
    if outcome == AttestationOutcome.CORRECTED and correction is None:
        errors.setdefault("outcome", []).append(_l("A correction needs the corrected record."))
    if errors:
        raise ValidationError(errors)
    if outcome == AttestationOutcome.CORRECTED:
        assert correction is not None
        version = system.version
        update_system(
            session, system, correction, actor=actor, expected_version=expected_version, attesting=True
        )
        if system.version == version:
            raise ValidationError({"outcome": [_l("Nothing was changed: confirm the record instead.")]})
    attestation = SystemAttestation(
        system_id=system.id,  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        round_id=round_.id,
        agency_id=part.agency_id,
        attested_by_id=actor.user_id,
        attested_by_label=actor.label[:100],
        outcome=outcome,
        note=note,
        attested_at=now or datetime.now(UTC),
    )
    session.add(attestation)
    session.flush()
    audit.record(
        session,
        actor,
        "system.attest",
        object_type="system",
        object_id=system.code,
        object_label=system.name,
        system_id=system.id,
        after={"round": round_.title, "outcome": outcome, "note": note},
    )
    note_progress(session, round_, system.owner_agency_id, actor=actor, now=now)
    return attestation


def extend_deadline(
    session: Session, round_id: int, agency_id: int, deadline: date | None, *, actor: Actor
) -> RoundAgency:
    """Give one agency of an open round a later deadline (``None``: back to the round's).

    The standing office's answer to an agency that asks for time: it is no longer counted late
    until the new day passes. Audited as ``round.extend`` with the deadlines before and after.
    """
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_ROUNDS))
    round_ = get_round(session, round_id)
    if round_.status != RoundStatus.OPEN:
        raise ReportingError(_l("This round is closed."))
    part = _covered(session, round_id, agency_id)
    if part is None:
        raise ReportingError(_l("This round does not cover this agency."))
    if deadline is not None and deadline <= round_.deadline:
        raise ValidationError({"deadline": [_l("An extension must fall after the round's deadline.")]})
    before = part.deadline or round_.deadline
    part.deadline = deadline
    session.flush()
    agency = session.get(Agency, agency_id)
    audit.record(
        session,
        actor,
        "round.extend",
        object_type="round",
        object_id=round_.id,
        object_label=round_.title,
        before={"agency": agency.code if agency else agency_id, "deadline": before},
        after={"agency": agency.code if agency else agency_id, "deadline": deadline or round_.deadline},
    )
    return part


def confirm_no_systems(
    session: Session, round_id: int, agency_id: int, *, actor: Actor, now: datetime | None = None
) -> RoundAgency:
    """An agency that manages no system in operation completes its part by saying so."""
    round_, part = _open_part(session, round_id, agency_id, actor)
    if part.completed_at is not None:
        return part
    counts = _counts(session, round_, [agency_id]).get(agency_id, (0, 0, 0))
    if counts[0]:
        raise ReportingError(_l("This agency has systems in operation: attest them and report their usage."))
    _complete(session, round_, part, actor, now, confirmed_empty=True)
    return part


def note_progress(
    session: Session,
    round_: ReportingRound,
    agency_id: int | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> bool:
    """Complete the agency's part once every system is attested and reported; say whether it did."""
    if round_.status != RoundStatus.OPEN or round_.id is None:
        return False
    part = _covered(session, round_.id, agency_id)
    if part is None or part.completed_at is not None:
        return False
    total, attested, reported = _counts(session, round_, [part.agency_id]).get(part.agency_id, (0, 0, 0))
    if total == 0 or attested < total or reported < total:
        return False
    _complete(session, round_, part, actor, now)
    return True


def _complete(
    session: Session,
    round_: ReportingRound,
    part: RoundAgency,
    actor: Actor,
    now: datetime | None,
    confirmed_empty: bool = False,
) -> None:
    part.completed_at = now or datetime.now(UTC)
    session.flush()
    agency = session.get(Agency, part.agency_id)
    audit.record(
        session,
        actor,
        "round.complete",
        object_type="round",
        object_id=round_.id,
        object_label=round_.title,
        after={"agency": agency.code if agency else part.agency_id, "no_systems": confirmed_empty or None},
    )


# --- reminders -------------------------------------------------------------------------------


@dataclass
class ReminderReport:
    rounds: int = 0
    agencies: int = 0
    messages: int = 0
    without_accounts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.messages} reminders to {self.agencies} agencies in {self.rounds} open rounds."
        if self.without_accounts:
            shown = ", ".join(self.without_accounts[:10])
            more = len(self.without_accounts) - 10
            text += f" No account to remind in {len(self.without_accounts)} agencies: {shown}"
            text += f" and {more} more." if more > 0 else "."
        return text


def send_reminders(
    session: Session,
    *,
    actor: Actor,
    round_id: int | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReminderReport:
    """Remind the accounts of every agency not done in the open rounds (or in ``round_id``).

    At most once per agency and day: running it again the same day (a second cron run, a
    double click) sends nothing more. Each round's reminders are one audit event. ``now`` (UTC)
    is for tests; ``progress(done, total)`` counts a round's agencies as they are notified.
    """
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_ROUNDS))
    now = now or datetime.now(UTC)
    today = now.date()
    query = select(ReportingRound).where(col(ReportingRound.status) == RoundStatus.OPEN)
    if round_id is not None:
        query = query.where(col(ReportingRound.id) == round_id)
    report = ReminderReport()
    for round_ in session.scalars(query.order_by(col(ReportingRound.id))).all():
        parts = list(
            session.scalars(
                select(RoundAgency).where(
                    col(RoundAgency.round_id) == round_.id, col(RoundAgency.completed_at).is_(None)
                )
            )
        )
        due = [p for p in parts if p.last_reminded_at is None or _day(p.last_reminded_at) < today]
        if not due:
            continue
        sent = _notify_agencies(
            session, round_, [p.agency_id for p in due], "round_reminder", today, progress=progress
        )
        for part in due:
            part.last_reminded_at = now
            part.reminder_count += 1
        codes = dict(
            session.execute(
                select(col(Agency.id), col(Agency.code)).where(col(Agency.id).in_([p.agency_id for p in due]))
            ).all()
        )
        silent = sorted(codes[p.agency_id] for p in due if not sent.get(p.agency_id))
        report.rounds += 1
        report.agencies += len(due)
        report.messages += sum(sent.values())
        report.without_accounts += silent
        session.flush()
        audit.record(
            session,
            actor,
            "round.remind",
            object_type="round",
            object_id=round_.id,
            object_label=round_.title,
            after={
                "agencies": sorted(codes.values()),
                "messages": sum(sent.values()),
                "without_accounts": silent or None,
            },
        )
    return report


def start_reminders(session: Session, actor: Actor, round_id: int) -> tuple[Job, bool]:
    """Queue the round's reminders as a job; while one is queued or running, that one.

    A round of every commune reaches thousands of agencies and their accounts: the page that
    asks for it should not wait on that.
    """
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_ROUNDS))
    get_round(session, round_id)
    return jobs.start(
        session, actor, JobKind.REMIND, dedupe_key=f"remind:{round_id}", params={"round_id": round_id}
    )


def run_reminders(
    engine: Engine, progress: jobs.Progress, actor: Actor, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The reminder job's work: :func:`send_reminders` in one transaction.

    Cancelled, it sends nothing; delivered twice, or run again the same day, it sends nothing
    more, since an agency is reminded at most once a day.
    """
    with Session(engine, expire_on_commit=False) as session:
        progress.begin(JobStep.REMIND)
        report = send_reminders(session, actor=actor, round_id=params.get("round_id"), progress=progress)
        progress.check()
        session.commit()
    return {
        "agencies": report.agencies,
        "messages": report.messages,
        "without_accounts": len(report.without_accounts),
        "round_id": params.get("round_id"),
    }


def _day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def _notify_agencies(
    session: Session,
    round_: ReportingRound,
    agency_ids: list[int],
    kind: str,
    today: date,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, int]:
    """Notify the active accounts of these agencies; return how many each agency got."""
    if not agency_ids:
        return {}
    users = list(
        session.scalars(
            select(User).where(
                col(User.agency_id).in_(agency_ids),
                col(User.is_active).is_(True),
                col(User.role).in_([Role.SUBMITTER, Role.ADMIN]),
            )
        )
    )
    extended = dict(
        session.execute(
            select(col(RoundAgency.agency_id), col(RoundAgency.deadline)).where(
                col(RoundAgency.round_id) == round_.id,
                col(RoundAgency.agency_id).in_(agency_ids),
                col(RoundAgency.deadline).is_not(None),
            )
        ).all()
    )
    for done, agency_id in enumerate(agency_ids):
        if progress is not None:
            progress(done, len(agency_ids))
        deadline = extended.get(agency_id) or round_.deadline
        days_late = max(0, (today - deadline).days)
        details = {
            "round_id": round_.id,
            "round": round_.title,
            "deadline": deadline.isoformat(),
            "days_late": days_late or None,
        }
        notifications.notify_round(session, [u for u in users if u.agency_id == agency_id], kind, details)
    sent: dict[int, int] = {}
    for user in users:
        if user.agency_id is not None:
            sent[user.agency_id] = sent.get(user.agency_id, 0) + 1
    return sent


# --- reading -----------------------------------------------------------------------------------


@dataclass
class AgencyProgress:
    agency_id: int
    deadline: date
    """The round's, or the extension granted to this agency."""
    code: str
    name: str
    level: str
    systems: int
    attested: int
    with_usage: int
    state: str
    days_late: int
    completed_at: datetime | None
    last_reminded_at: datetime | None
    reminder_count: int

    @property
    def started(self) -> bool:
        return self.completed_at is not None or self.attested > 0 or self.with_usage > 0

    @property
    def percent(self) -> int:
        """How far the agency is: attestations and reports, each system counted twice."""
        if self.completed_at is not None:
            return 100
        if not self.systems:
            return 0
        return round(100 * (self.attested + self.with_usage) / (2 * self.systems))

    def record(self) -> dict[str, Any]:
        return {
            "agency": self.code,
            "name": self.name,
            "level": self.level,
            "systems": self.systems,
            "attested": self.attested,
            "with_usage": self.with_usage,
            "state": self.state,
            "deadline": self.deadline.isoformat(),
            "days_late": self.days_late,
            "completed_at": iso_utc(self.completed_at),
            "last_reminded_at": iso_utc(self.last_reminded_at),
        }


def _in_operation(agency_ids: ColumnElement[bool] | Any) -> list[ColumnElement[bool]]:
    return [
        col(InformationSystem.owner_agency_id).in_(agency_ids),
        col(InformationSystem.status).in_(policy.ATTESTED_STATUSES),
    ]


def systems_in_operation(session: Session) -> dict[int, int]:
    """Agency id → how many systems in operation it manages, over the whole portfolio.

    The costly part of a round's progress (a pass over every system in operation); several
    rounds read it once (:func:`list_rounds`).
    """
    owner = col(InformationSystem.owner_agency_id)
    return dict(
        session.execute(
            select(owner, func.count())
            .where(col(InformationSystem.status).in_(policy.ATTESTED_STATUSES))
            .group_by(owner)
        ).all()
    )


def _counts(
    session: Session,
    round_: ReportingRound,
    agency_ids: Collection[int] | None = None,
    totals: dict[int, int] | None = None,
) -> dict[int, tuple[int, int, int]]:
    """Agency id → (systems in operation, of them attested in the round, reported for its period).

    Three grouped queries whatever the number of agencies (3,300 communes in a round);
    ``totals`` (from :func:`systems_in_operation`) spares the first.
    """
    scope: Any = (
        list(agency_ids)
        if agency_ids is not None
        else select(col(RoundAgency.agency_id)).where(col(RoundAgency.round_id) == round_.id)
    )
    owner = col(InformationSystem.owner_agency_id)
    if totals is None:
        totals = dict(
            session.execute(select(owner, func.count()).where(*_in_operation(scope)).group_by(owner)).all()
        )
    attested = dict(
        session.execute(
            select(owner, func.count(func.distinct(col(SystemAttestation.system_id))))
            .join(SystemAttestation, col(SystemAttestation.system_id) == col(InformationSystem.id))
            .where(*_in_operation(scope), col(SystemAttestation.round_id) == round_.id)
            .group_by(owner)
        ).all()
    )
    reported = dict(
        session.execute(
            select(owner, func.count(func.distinct(col(UsageReport.system_id))))
            .join(UsageReport, col(UsageReport.system_id) == col(InformationSystem.id))
            .where(
                *_in_operation(scope),
                col(UsageReport.period_start) == round_.period_start,
                col(UsageReport.period_end) == round_.period_end,
            )
            .group_by(owner)
        ).all()
    )
    return {
        a: (totals.get(a, 0), attested.get(a, 0), reported.get(a, 0)) for a in {*totals, *attested, *reported}
    }


def round_progress(
    session: Session, round_id: int, *, today: date | None = None, totals: dict[int, int] | None = None
) -> list[AgencyProgress]:
    """Per agency of the round: systems in operation, attested, with usage for the period, its
    state and how many days late it is (against the deadline, as of ``today`` or the day the
    round closed), and when it was last reminded. Latest agencies first, then by code.

    States: ``completed`` once its part is done (even after the deadline); otherwise ``late``
    past the deadline, ``in_progress`` when something was attested or reported, else
    ``not_started``. ``days_late`` of a completed agency says how late it completed.
    ``totals`` is :func:`systems_in_operation`, when the caller already has it.
    """
    round_ = get_round(session, round_id)
    today = today or datetime.now(UTC).date()
    if round_.closed_at is not None:
        today = min(today, _day(round_.closed_at))
    counts = _counts(session, round_, totals=totals)
    # Plain columns, not ORM objects: a national round has 3,500 agencies.
    rows = session.execute(
        select(
            col(RoundAgency.agency_id),
            col(RoundAgency.deadline),
            col(RoundAgency.completed_at),
            col(RoundAgency.last_reminded_at),
            col(RoundAgency.reminder_count),
            col(Agency.code),
            col(Agency.name),
            col(Agency.level),
        )
        .join(Agency, col(Agency.id) == col(RoundAgency.agency_id))
        .where(col(RoundAgency.round_id) == round_id)
    ).all()
    result = []
    for part in rows:
        total, attested, reported = counts.get(part.agency_id, (0, 0, 0))
        deadline = part.deadline or round_.deadline
        if part.completed_at is not None:
            state = ReportingState.COMPLETED
            days_late = max(0, (_day(part.completed_at) - deadline).days)
        elif today > deadline:
            state, days_late = ReportingState.LATE, (today - deadline).days
        elif attested or reported:
            state, days_late = ReportingState.IN_PROGRESS, 0
        else:
            state, days_late = ReportingState.NOT_STARTED, 0
        result.append(
            AgencyProgress(
                agency_id=part.agency_id,
                deadline=deadline,
                code=part.code,
                name=part.name,
                level=part.level,
                systems=total,
                attested=attested,
                with_usage=reported,
                state=state,
                days_late=days_late,
                completed_at=part.completed_at,
                last_reminded_at=part.last_reminded_at,
                reminder_count=part.reminder_count,
            )
        )
    order = {ReportingState.LATE: 0, ReportingState.NOT_STARTED: 1, ReportingState.IN_PROGRESS: 2}
    result.sort(key=lambda p: (order.get(ReportingState(p.state), 3), -p.days_late, p.code))
    return result


@dataclass
class RoundSummary:
    round: ReportingRound
    agencies: int
    by_state: dict[str, int]

    @property
    def completed(self) -> int:
        return self.by_state.get(ReportingState.COMPLETED, 0)

    @property
    def not_reported(self) -> int:
        """Agencies that have done nothing at all: the "21 agencies did not report" figure."""
        return self.by_state.get("not_reported", 0)

    def record(self) -> dict[str, Any]:
        r = self.round
        return {
            "id": r.id,
            "title": r.title,
            "status": r.status,
            "period_start": r.period_start.isoformat(),
            "period_end": r.period_end.isoformat(),
            "deadline": r.deadline.isoformat(),
            "opened_by": r.opened_by_label,
            "opened_at": iso_utc(r.opened_at),
            "closed_at": iso_utc(r.closed_at),
            "agencies": self.agencies,
            "completed": self.completed,
            "in_progress": self.by_state.get(ReportingState.IN_PROGRESS, 0),
            "late": self.by_state.get(ReportingState.LATE, 0),
            "not_started": self.by_state.get(ReportingState.NOT_STARTED, 0),
            "not_reported": self.not_reported,
        }


def summarise(round_: ReportingRound, progress: Iterable[AgencyProgress]) -> RoundSummary:
    by_state: dict[str, int] = {}
    count = 0
    for p in progress:
        count += 1
        by_state[p.state] = by_state.get(p.state, 0) + 1
        if not p.started:
            by_state["not_reported"] = by_state.get("not_reported", 0) + 1
    return RoundSummary(round_, count, by_state)


def list_rounds(
    session: Session, *, today: date | None = None, status: str | None = None
) -> list[RoundSummary]:
    """Every round, open ones first, newest first, with its counts by state."""
    query = select(ReportingRound)
    if status:
        query = query.where(col(ReportingRound.status) == status)
    rounds = session.scalars(
        query.order_by(col(ReportingRound.status) != RoundStatus.OPEN, col(ReportingRound.id).desc())
    ).all()
    totals = systems_in_operation(session) if rounds else {}
    return [
        summarise(r, round_progress(session, r.id, today=today, totals=totals))
        for r in rounds
        if r.id is not None
    ]


@dataclass
class SystemInRound:
    system: InformationSystem
    attestation: SystemAttestation | None
    usage: UsageReport | None

    @property
    def done(self) -> bool:
        return self.attestation is not None and self.usage is not None


def agency_systems(session: Session, round_: ReportingRound, agency_id: int) -> list[SystemInRound]:
    """The agency's systems in operation, each with its latest attestation in the round and its
    usage report for the round's period: the agency's checklist."""
    systems = list(
        session.scalars(
            select(InformationSystem)
            .where(*_in_operation([agency_id]))
            .order_by(col(InformationSystem.name), col(InformationSystem.code))
        )
    )
    ids = [s.id for s in systems]
    attestations: dict[int, SystemAttestation] = {}
    for a in session.scalars(
        select(SystemAttestation)
        .where(col(SystemAttestation.round_id) == round_.id, col(SystemAttestation.system_id).in_(ids))
        .order_by(col(SystemAttestation.attested_at), col(SystemAttestation.id))
    ):
        attestations[a.system_id] = a
    usage = {
        r.system_id: r
        for r in session.scalars(
            select(UsageReport).where(
                col(UsageReport.system_id).in_(ids),
                col(UsageReport.period_start) == round_.period_start,
                col(UsageReport.period_end) == round_.period_end,
            )
        )
    }
    return [SystemInRound(s, attestations.get(s.id), usage.get(s.id)) for s in systems if s.id is not None]


def part_of(session: Session, round_id: int, agency_id: int | None) -> RoundAgency | None:
    """The agency's part in the round, if the round covers it."""
    return _covered(session, round_id, agency_id)


def open_rounds_of(session: Session, agency_id: int | None) -> list[ReportingRound]:
    """The open rounds covering this agency, newest first."""
    if agency_id is None:
        return []
    return list(
        session.scalars(
            select(ReportingRound)
            .join(RoundAgency, col(RoundAgency.round_id) == col(ReportingRound.id))
            .where(col(ReportingRound.status) == RoundStatus.OPEN, col(RoundAgency.agency_id) == agency_id)
            .order_by(col(ReportingRound.id).desc())
        )
    )


def last_attested_at() -> Any:
    """A correlated SQL expression: when the system in the outer query was last attested.

    For queries that compute data freshness themselves, e.g.
    ``select(InformationSystem.code, last_attested_at().label("attested_at"))``.
    """
    return (
        select(func.max(col(SystemAttestation.attested_at)))
        .where(col(SystemAttestation.system_id) == col(InformationSystem.id))
        .scalar_subquery()
    )


def latest_attestations(session: Session, system_ids: Collection[int] | None = None) -> dict[int, datetime]:
    """System id → when it was last attested (in a round or not); systems never attested are absent.

    Data freshness is "updated or attested within the last 12 months": compare this and
    ``InformationSystem.updated_at`` with a cut-off.
    """
    query = select(col(SystemAttestation.system_id), func.max(col(SystemAttestation.attested_at))).group_by(
        col(SystemAttestation.system_id)
    )
    if system_ids is not None:
        query = query.where(col(SystemAttestation.system_id).in_(list(system_ids)))
    return {system_id: _aware(moment) for system_id, moment in session.execute(query).all()}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC (SQLite hands times back without their zone)."""
    return None if moment is None else _aware(moment).astimezone(UTC).isoformat()
