"""The dashboard's figures: the portfolio measured in numbers, each with the list behind it.

The directives ask units to "measure, don't list": how many systems stand in each state, what
the standing office still has to decide and for how long, how much money sits in systems
suspected or confirmed to duplicate another, and how all of this moved month by month. The
page, its CSV downloads and ``GET /api/v1/stats`` all read :func:`portfolio_stats`, so the
three never disagree.

Figures are a few grouped queries (no per-system work), then cached until the next audited
write (:mod:`registry.services.watermark`), so every web worker serves the same numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, union_all
from sqlmodel import Session, col

from registry.choices import (
    LABELS,
    AgencyBlock,
    AgencyLevel,
    Disposition,
    ReportingState,
    RoundStatus,
    Severity,
    SystemStatus,
)
from registry.filters import agency_subtree
from registry.models import Agency, AuditEvent, DuplicateWarning, Finding, InformationSystem
from registry.services import reporting
from registry.services.reporting import AgencyProgress
from registry.services.watermark import WatermarkCache

WAITING_STATUSES = (SystemStatus.SUBMITTED, SystemStatus.IN_REVIEW)
"""Proposals the standing office has not decided yet."""

AGE_BANDS: tuple[tuple[str, int | None, object], ...] = (
    ("week", 7, _l("Up to 7 days")),
    ("month", 30, _l("8 to 30 days")),
    ("quarter", 90, _l("31 to 90 days")),
    ("older", None, _l("More than 90 days")),
)
"""How long proposals have waited since they were (last) submitted, upper bound in days."""

SCORE_BANDS: tuple[tuple[str, float, object], ...] = (
    ("strong", 0.85, _l("Very similar (%(low)s or more)", low="85%")),
    ("likely", 0.7, _l("Similar (%(low)s to %(high)s)", low="70%", high="84%")),
    ("possible", 0.0, _l("Possibly similar (below %(high)s)", high="70%")),
)
"""Open warnings by score, strongest first; the lower bound of each band."""

DUPLICATE_KINDS: tuple[tuple[str, object], ...] = (
    ("confirmed", _l("Confirmed duplicates")),
    ("suspected", _l("Suspected duplicates (warning open)")),
)

TREND_SERIES: tuple[tuple[str, tuple[str, ...], object], ...] = (
    ("registered", ("system.create",), _l("Systems registered")),
    ("submitted", ("system.submit",), _l("Proposals submitted")),
    ("decided", ("system.approve", "system.request_changes", "system.reject"), _l("Proposals decided")),
    ("warnings_decided", ("warning.dispose",), _l("Warnings decided")),
)
"""Monthly counts read from the audit trail: what happened, not what a row says today."""

TREND_MONTHS = 12

ROUND_STATES = (
    ReportingState.COMPLETED,
    ReportingState.IN_PROGRESS,
    ReportingState.LATE,
    ReportingState.NOT_STARTED,
)


@dataclass(frozen=True)
class Bar:
    """One category of a breakdown: its stored value, how many, and the list that shows them."""

    key: str
    label: object
    value: int
    amount_vnd: int | None = None
    filter: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Breakdown:
    """One chart: a titled set of bars, and which list its bars open."""

    key: str
    title: object
    unit: object
    bars: list[Bar]
    target: str = "systems"
    """``systems`` (the filtered systems list), ``review`` (the review queue) or ``round`` (the
    reporting round ``round_id``, filtered by state)."""
    round_id: int | None = None

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def peak(self) -> int:
        return max((bar.value for bar in self.bars), default=0)


@dataclass(frozen=True)
class WaitingProposal:
    code: str
    name: str
    agency: str
    status: str
    since: datetime
    days: int


@dataclass(frozen=True)
class Trend:
    months: list[date]
    series: dict[str, list[int]]
    labels: dict[str, object]


@dataclass(frozen=True)
class RoundStanding:
    """An open reporting round: who has reported, who is late and by how much."""

    id: int
    title: str
    deadline: date
    agencies: int
    not_reported: int
    """Agencies that have done nothing at all in the round."""
    states: Breakdown
    late: list[AgencyProgress]
    """The latest agencies, longest overdue first (at most ten)."""


@dataclass(frozen=True)
class PortfolioStats:
    scope: str | None
    """The agency code the figures are limited to (owned by it or an agency below it), or None."""
    computed_at: datetime
    systems: int
    breakdowns: list[Breakdown]
    oldest_waiting: list[WaitingProposal]
    median_wait_days: int | None
    trend: Trend
    rounds: list[RoundStanding] = field(default_factory=list)

    def breakdown(self, key: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.key == key)


_cache: WatermarkCache[PortfolioStats] = WatermarkCache(size=128)


def portfolio_stats(
    session: Session, *, agency: str | None = None, today: date | None = None, app: Any = None
) -> PortfolioStats:
    """The dashboard's figures for the whole portfolio or one agency's subtree, from cache when
    nothing was written since they were computed. Given the running ``app``, figures computed
    before the latest write are served at once while one thread recomputes them (their
    ``computed_at`` tells when; :func:`is_current` whether they still hold)."""
    today = today or datetime.now(UTC).date()
    key = (agency or "", today)
    return _cache.get(session, key, lambda own: compute_stats(own, agency=agency, today=today), app=app)


def is_current(session: Session, stats: PortfolioStats, today: date | None = None) -> bool:
    return _cache.is_current(session, (stats.scope or "", today or datetime.now(UTC).date()))


def compute_stats(session: Session, *, agency: str | None = None, today: date) -> PortfolioStats:
    scope = _Scope(agency, agency_subtree(session, agency) if agency else None)
    breakdowns = [
        _by_status(session, scope),
        _by_level(session, scope),
        _by_block(session, scope),
        _findings_by_severity(session, scope),
        _warnings_by_score(session, scope),
        _money_in_duplicates(session, scope),
    ]
    waiting, oldest, median = _waiting(session, scope, today)
    breakdowns.append(waiting)
    systems = breakdowns[0].total
    return PortfolioStats(
        scope=agency or None,
        computed_at=datetime.now(UTC),
        systems=systems,
        breakdowns=breakdowns,
        oldest_waiting=oldest,
        median_wait_days=median,
        trend=_trend(session, scope, today),
        rounds=_open_rounds(session, scope, today),
    )


class _Scope:
    """Limits every query to the systems owned by an agency and those below it, or to none."""

    def __init__(self, agency: str | None, owners: Sequence[int] | None) -> None:
        self.agency = agency
        self.owners = owners

    def systems(self, query: Any) -> Any:
        if self.owners is None:
            return query
        return query.where(col(InformationSystem.owner_agency_id).in_(self.owners))

    def link(self, **args: str) -> dict[str, str]:
        """The systems-list filter showing these systems within the scope."""
        return {**args, "agency": self.agency, "agency_role": "owner"} if self.agency else dict(args)

    def system_ids(self) -> Any:
        """A subquery of the ids of the systems in scope, for conditions on other tables."""
        return select(col(InformationSystem.id)).where(
            col(InformationSystem.owner_agency_id).in_(self.owners or [])
        )


def _bars(
    counts: dict[str, int], members: Iterable[Any], labels: dict[Any, object], key: str, scope: _Scope
) -> list[Bar]:
    return [
        Bar(str(m), labels[m], counts.get(str(m), 0), filter=scope.link(**{key: str(m)})) for m in members
    ]


def _by_status(session: Session, scope: _Scope) -> Breakdown:
    return _by_vocabulary(session, scope, "status", _l("Systems by status"), SystemStatus, "status")


def _by_level(session: Session, scope: _Scope) -> Breakdown:
    return _by_vocabulary(session, scope, "level", _l("Systems by scope level"), AgencyLevel, "scope_level")


def _by_vocabulary(
    session: Session, scope: _Scope, key: str, title: object, vocabulary: Any, field_name: str
) -> Breakdown:
    """Systems counted by one of their own coded fields; each bar filters the list by ``key``."""
    counts = _grouped(session, scope, col(getattr(InformationSystem, field_name)))
    return Breakdown(key, title, _l("systems"), _bars(counts, vocabulary, LABELS[vocabulary], key, scope))


def _by_block(session: Session, scope: _Scope) -> Breakdown:
    query = scope.systems(
        select(col(Agency.block), func.count())
        .select_from(InformationSystem)
        .join(Agency, col(Agency.id) == col(InformationSystem.owner_agency_id))
        .group_by(col(Agency.block))
    )
    counts = {str(k): int(v) for k, v in session.execute(query)}
    return Breakdown(
        "block",
        _l("Systems by block of the managing agency"),
        _l("systems"),
        _bars(counts, AgencyBlock, LABELS[AgencyBlock], "block", scope),
    )


def _findings_by_severity(session: Session, scope: _Scope) -> Breakdown:
    query = select(col(Finding.severity), func.count()).group_by(col(Finding.severity))
    if scope.owners is not None:
        query = query.where(col(Finding.system_id).in_(scope.system_ids()))
    counts = {str(k): int(v) for k, v in session.execute(query)}
    return Breakdown(
        "findings",
        _l("Open findings by severity"),
        _l("findings"),
        _bars(counts, Severity, LABELS[Severity], "severity", scope),
    )


def _warnings_by_score(session: Session, scope: _Scope) -> Breakdown:
    """Open warnings touching the scope on either side, by score band, counted by the database."""
    band = case(
        *((col(DuplicateWarning.score) >= floor, key) for key, floor, _label in SCORE_BANDS[:-1]),
        else_=SCORE_BANDS[-1][0],
    )
    query = (
        select(band, func.count())
        .where(
            col(DuplicateWarning.relation) == "overlap", col(DuplicateWarning.disposition) == Disposition.OPEN
        )
        .group_by(band)
    )
    if scope.owners is not None:
        ids = scope.system_ids()
        query = query.where(
            or_(col(DuplicateWarning.system_a_id).in_(ids), col(DuplicateWarning.system_b_id).in_(ids))
        )
    counts = {str(k): int(v) for k, v in session.execute(query)}
    return Breakdown(
        "warnings",
        _l("Open duplication warnings by score"),
        _l("warnings"),
        [Bar(key, label, counts.get(key, 0)) for key, _floor, label in SCORE_BANDS],
        target="review",
    )


def _money_in_duplicates(session: Session, scope: _Scope) -> Breakdown:
    """Systems in a confirmed duplicate pair, then those only in open warnings, with their cost.

    A system counts once, under its strongest state; the money is the systems' own estimated
    cost, so a pair of two 5-billion systems puts 10 billion at stake. These are the systems
    list's ``warnings`` filters (a test holds them together), counted in one pass over the
    warnings: each side of each standing warning, grouped by system.
    """
    standing = (
        col(DuplicateWarning.relation) == "overlap",
        col(DuplicateWarning.disposition).in_((Disposition.OPEN, Disposition.CONFIRMED)),
    )
    confirmed = case((col(DuplicateWarning.disposition) == Disposition.CONFIRMED, 1), else_=0)
    sides = union_all(
        select(col(DuplicateWarning.system_a_id).label("id"), confirmed.label("confirmed")).where(*standing),
        select(col(DuplicateWarning.system_b_id).label("id"), confirmed.label("confirmed")).where(*standing),
    ).subquery()
    per_system = (
        select(sides.c.id, func.max(sides.c.confirmed).label("confirmed")).group_by(sides.c.id).subquery()
    )
    query = (
        select(
            per_system.c.confirmed,
            func.count(),
            func.coalesce(func.sum(col(InformationSystem.estimated_cost_vnd)), 0),
        )
        .join(InformationSystem, col(InformationSystem.id) == per_system.c.id)
        .group_by(per_system.c.confirmed)
    )
    figures = {
        "confirmed" if flag else "suspected": (int(count), int(money))
        for flag, count, money in session.execute(scope.systems(query))
    }
    return Breakdown(
        "duplicates",
        _l("Money in duplicate systems"),
        _l("systems"),
        [
            Bar(key, label, *figures.get(key, (0, 0)), filter=scope.link(warnings=key))
            for key, label in DUPLICATE_KINDS
        ],
    )


def _waiting(
    session: Session, scope: _Scope, today: date
) -> tuple[Breakdown, list[WaitingProposal], int | None]:
    """Proposals waiting for a decision, by how long since they were last submitted.

    The submission time comes from the audit trail (``system.submit``); a proposal recorded as
    submitted without that event (an import of another registry's queue) counts from its last
    change instead. The database groups the proposals by the day they were submitted, so the
    bands and the median come from a few hundred rows, not one per proposal.
    """
    last_submit = (
        select(col(AuditEvent.system_id).label("id"), func.max(col(AuditEvent.occurred_at)).label("at"))
        .where(col(AuditEvent.action) == "system.submit")
        .group_by(col(AuditEvent.system_id))
        .subquery()
    )
    since = func.coalesce(last_submit.c.at, col(InformationSystem.updated_at))
    waiting = scope.systems(
        select(col(InformationSystem.id), since.label("since"))
        .outerjoin(last_submit, last_submit.c.id == col(InformationSystem.id))
        .where(col(InformationSystem.status).in_(WAITING_STATUSES))
    ).subquery()
    day = _day_of(session, waiting.c.since)
    by_day = [
        (max(0, (today - _as_date(when)).days), int(count))
        for when, count in session.execute(select(day, func.count()).group_by(day))
    ]
    counts: Counter[str] = Counter()
    for days, count in by_day:
        counts[_age_band(days)] += count
    oldest_rows = session.execute(
        select(waiting.c.id, waiting.c.since).order_by(waiting.c.since, waiting.c.id).limit(10)
    )
    oldest = [
        (max(0, (today - _aware(at).date()).days), system_id, _aware(at)) for system_id, at in oldest_rows
    ]
    breakdown = Breakdown(
        "waiting",
        _l("Proposals waiting for a decision, by age"),
        _l("proposals"),
        [Bar(key, label, counts.get(key, 0)) for key, _limit, label in AGE_BANDS],
        target="review",
    )
    return breakdown, _describe_waiting(session, oldest), _median(by_day)


def _open_rounds(session: Session, scope: _Scope, today: date) -> list[RoundStanding]:
    """Every open round's progress, limited to the agencies in scope."""
    standings = []
    for summary in reporting.list_rounds(session, today=today, status=RoundStatus.OPEN):
        round_ = summary.round
        progress = reporting.round_progress(session, round_.id, today=today)  # type: ignore[arg-type]  # saved rows have ids
        if scope.owners is not None:
            inside = set(scope.owners)
            progress = [p for p in progress if p.agency_id in inside]
        counts = Counter(p.state for p in progress)
        late = sorted(
            (p for p in progress if p.state == ReportingState.LATE), key=lambda p: (-p.days_late, p.code)
        )
        standings.append(
            RoundStanding(
                id=round_.id,  # type: ignore[arg-type]  # saved rows have ids
                title=round_.title,
                deadline=round_.deadline,
                agencies=len(progress),
                not_reported=sum(1 for p in progress if not p.started),
                states=Breakdown(
                    "round",
                    _l("Agencies by reporting state"),
                    _l("agencies"),
                    [
                        Bar(str(state), LABELS[ReportingState][state], counts.get(state, 0))
                        for state in ROUND_STATES
                    ],
                    target="round",
                    round_id=round_.id,
                ),
                late=late[:10],
            )
        )
    return standings


def _median(counted: list[tuple[int, int]]) -> int | None:
    """The median of values given with their counts (the upper one of an even count)."""
    total = sum(count for _value, count in counted)
    if not total:
        return None
    seen = 0
    for value, count in sorted(counted):
        seen += count
        if seen > total // 2:
            return value
    return None  # pragma: no cover - the loop always reaches the middle


def _describe_waiting(session: Session, waits: list[tuple[int, int, datetime]]) -> list[WaitingProposal]:
    if not waits:
        return []
    known = {system_id: (days, since) for days, system_id, since in waits}
    rows = session.execute(
        select(
            col(InformationSystem.id),
            col(InformationSystem.code),
            col(InformationSystem.name),
            col(InformationSystem.status),
            col(Agency.name),
        )
        .join(Agency, col(Agency.id) == col(InformationSystem.owner_agency_id))
        .where(col(InformationSystem.id).in_(list(known)))
    )
    proposals = [
        WaitingProposal(code, name, agency, status, known[system_id][1], known[system_id][0])
        for system_id, code, name, status, agency in rows
    ]
    return sorted(proposals, key=lambda p: (-p.days, p.code))


def _age_band(days: int) -> str:
    return next(key for key, limit, _label in AGE_BANDS if limit is None or days <= limit)


def _trend(session: Session, scope: _Scope, today: date) -> Trend:
    """Events per month and series, grouped by the database: a year of a national registry's
    trail is a few hundred thousand rows, and only a few dozen sums come back."""
    months = _last_months(today, TREND_MONTHS)
    start = datetime(months[0].year, months[0].month, 1, tzinfo=UTC)
    action_series = {action: key for key, actions, _label in TREND_SERIES for action in actions}
    month = _month_of(session, col(AuditEvent.occurred_at))
    query = (
        select(col(AuditEvent.action), month, func.count())
        .where(col(AuditEvent.action).in_(list(action_series)), col(AuditEvent.occurred_at) >= start)
        .group_by(col(AuditEvent.action), month)
    )
    if scope.owners is not None:
        query = query.where(col(AuditEvent.system_id).in_(scope.system_ids()))
    index = {f"{m.year:04d}-{m.month:02d}": i for i, m in enumerate(months)}
    series = {key: [0] * len(months) for key, _actions, _label in TREND_SERIES}
    for action, label, count in session.execute(query):
        slot = index.get(str(label))
        if slot is not None:
            series[action_series[action]][slot] += int(count)
    return Trend(months, series, {key: label for key, _actions, label in TREND_SERIES})


def _day_of(session: Session, moment: Any) -> Any:
    """The UTC calendar day of a stored time, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", moment))
    return func.date(moment)


def _as_date(value: Any) -> date:
    """A day as the database hands it back: a date (PostgreSQL) or ``YYYY-MM-DD`` (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _month_of(session: Session, moment: Any) -> Any:
    """``YYYY-MM`` of a stored time, in UTC, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM")
    return func.strftime("%Y-%m", moment)


def _last_months(today: date, count: int) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _grouped(session: Session, scope: _Scope, column: Any) -> dict[str, int]:
    query = scope.systems(select(column, func.count()).select_from(InformationSystem).group_by(column))
    return {str(k): int(v) for k, v in session.execute(query) if k is not None}


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive times; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
