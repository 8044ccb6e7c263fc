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

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlmodel import Session, col

from registry.choices import LABELS, AgencyBlock, AgencyLevel, Disposition, Severity, SystemStatus
from registry.filters import agency_subtree
from registry.models import Agency, AuditEvent, DuplicateWarning, Finding, InformationSystem
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
    """``systems`` (the filtered systems list) or ``review`` (the review queue)."""

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
class PortfolioStats:
    scope: str | None
    """The agency code the figures are limited to (owned by it or an agency below it), or None."""
    computed_at: datetime
    systems: int
    breakdowns: list[Breakdown]
    oldest_waiting: list[WaitingProposal]
    median_wait_days: int | None
    trend: Trend

    def breakdown(self, key: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.key == key)


_cache: WatermarkCache[PortfolioStats] = WatermarkCache(size=128)


def portfolio_stats(
    session: Session, *, agency: str | None = None, today: date | None = None
) -> PortfolioStats:
    """The dashboard's figures for the whole portfolio or one agency's subtree, from cache when
    nothing was written since they were computed."""
    today = today or datetime.now(UTC).date()
    return _cache.get(
        session, (agency or "", today), lambda: compute_stats(session, agency=agency, today=today)
    )


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

    def ids(self, session: Session) -> set[int] | None:
        if self.owners is None:
            return None
        return set(
            session.scalars(
                select(col(InformationSystem.id)).where(
                    col(InformationSystem.owner_agency_id).in_(self.owners)
                )
            )
        )


def _bars(
    counts: dict[str, int], members: Iterable[Any], labels: dict[Any, object], key: str, scope: _Scope
) -> list[Bar]:
    return [
        Bar(str(m), labels[m], counts.get(str(m), 0), filter=scope.link(**{key: str(m)})) for m in members
    ]


def _by_status(session: Session, scope: _Scope) -> Breakdown:
    counts = _grouped(session, scope, col(InformationSystem.status))
    return Breakdown(
        "status",
        _l("Systems by status"),
        _l("systems"),
        _bars(counts, SystemStatus, LABELS[SystemStatus], "status", scope),
    )


def _by_level(session: Session, scope: _Scope) -> Breakdown:
    counts = _grouped(session, scope, col(InformationSystem.scope_level))
    return Breakdown(
        "level",
        _l("Systems by scope level"),
        _l("systems"),
        _bars(counts, AgencyLevel, LABELS[AgencyLevel], "level", scope),
    )


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
    query = (
        select(col(Finding.severity), func.count())
        .join(InformationSystem, col(InformationSystem.id) == col(Finding.system_id))
        .group_by(col(Finding.severity))
    )
    counts = {str(k): int(v) for k, v in session.execute(scope.systems(query))}
    return Breakdown(
        "findings",
        _l("Open findings by severity"),
        _l("findings"),
        _bars(counts, Severity, LABELS[Severity], "severity", scope),
    )


def _warnings_by_score(session: Session, scope: _Scope) -> Breakdown:
    """Open warnings touching the scope on either side, by score band."""
    counts: Counter[str] = Counter()
    rows = session.execute(
        select(
            col(DuplicateWarning.system_a_id), col(DuplicateWarning.system_b_id), col(DuplicateWarning.score)
        ).where(
            col(DuplicateWarning.relation) == "overlap", col(DuplicateWarning.disposition) == Disposition.OPEN
        )
    )
    in_scope = scope.ids(session)
    for a, b, score in rows:
        if in_scope is not None and a not in in_scope and b not in in_scope:
            continue
        counts[next(key for key, floor, _label in SCORE_BANDS if score >= floor)] += 1
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
    cost, so a pair of two 5-billion systems puts 10 billion at stake.
    """
    sides = {
        disposition: union(
            select(col(DuplicateWarning.system_a_id).label("id")).where(
                col(DuplicateWarning.relation) == "overlap", col(DuplicateWarning.disposition) == disposition
            ),
            select(col(DuplicateWarning.system_b_id).label("id")).where(
                col(DuplicateWarning.relation) == "overlap", col(DuplicateWarning.disposition) == disposition
            ),
        ).subquery()
        for disposition in (Disposition.CONFIRMED, Disposition.OPEN)
    }
    confirmed = sides[Disposition.CONFIRMED]
    suspected = sides[Disposition.OPEN]
    figures: dict[str, tuple[int, int]] = {}
    for key, ids, excluded in (("confirmed", confirmed, None), ("suspected", suspected, confirmed)):
        query = select(
            func.count(), func.coalesce(func.sum(col(InformationSystem.estimated_cost_vnd)), 0)
        ).where(col(InformationSystem.id).in_(select(ids.c.id)))
        if excluded is not None:
            query = query.where(col(InformationSystem.id).not_in(select(excluded.c.id)))
        count, money = session.execute(scope.systems(query)).one()
        figures[key] = (int(count), int(money))
    return Breakdown(
        "duplicates",
        _l("Money in duplicate systems"),
        _l("systems"),
        [
            Bar(key, label, figures[key][0], figures[key][1], scope.link(warnings=key))
            for key, label in DUPLICATE_KINDS
        ],
    )


def _waiting(
    session: Session, scope: _Scope, today: date
) -> tuple[Breakdown, list[WaitingProposal], int | None]:
    """Proposals waiting for a decision, by how long since they were last submitted.

    The submission time comes from the audit trail (``system.submit``); a proposal recorded as
    submitted without that event (an import of another registry's queue) counts from its last
    change instead.
    """
    rows = session.execute(
        scope.systems(
            select(
                col(InformationSystem.id),
                col(InformationSystem.code),
                col(InformationSystem.name),
                col(InformationSystem.status),
                col(InformationSystem.updated_at),
                col(Agency.name),
            )
            .join(Agency, col(Agency.id) == col(InformationSystem.owner_agency_id))
            .where(col(InformationSystem.status).in_(WAITING_STATUSES))
        )
    ).all()
    submitted: dict[int, datetime] = {}
    if rows:
        ids = [row[0] for row in rows]
        for chunk in _chunks(ids, 900):
            for system_id, when in session.execute(
                select(col(AuditEvent.system_id), func.max(col(AuditEvent.occurred_at)))
                .where(col(AuditEvent.action) == "system.submit", col(AuditEvent.system_id).in_(chunk))
                .group_by(col(AuditEvent.system_id))
            ):
                submitted[int(system_id)] = when
    proposals = []
    for system_id, code, name, status, updated_at, agency_name in rows:
        since = _aware(submitted.get(system_id, updated_at))
        proposals.append(
            WaitingProposal(code, name, agency_name, status, since, max(0, (today - since.date()).days))
        )
    proposals.sort(key=lambda p: (-p.days, p.code))
    counts: Counter[str] = Counter(_age_band(p.days) for p in proposals)
    days = sorted(p.days for p in proposals)
    median = days[len(days) // 2] if days else None
    breakdown = Breakdown(
        "waiting",
        _l("Proposals waiting for a decision, by age"),
        _l("proposals"),
        [Bar(key, label, counts.get(key, 0)) for key, _limit, label in AGE_BANDS],
        target="review",
    )
    return breakdown, proposals[:10], median


def _age_band(days: int) -> str:
    return next(key for key, limit, _label in AGE_BANDS if limit is None or days <= limit)


def _trend(session: Session, scope: _Scope, today: date) -> Trend:
    months = _last_months(today, TREND_MONTHS)
    start = datetime(months[0].year, months[0].month, 1, tzinfo=UTC)
    action_series = {action: key for key, actions, _label in TREND_SERIES for action in actions}
    query = select(col(AuditEvent.action), col(AuditEvent.occurred_at), col(AuditEvent.system_id)).where(
        col(AuditEvent.action).in_(list(action_series)), col(AuditEvent.occurred_at) >= start
    )
    in_scope = scope.ids(session)
    index = {(m.year, m.month): i for i, m in enumerate(months)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for key, _actions, _label in TREND_SERIES:
        series[key] = [0] * len(months)
    for action, occurred_at, system_id in session.execute(query):
        if in_scope is not None and system_id not in in_scope:
            continue
        when = _aware(occurred_at)
        slot = index.get((when.year, when.month))
        if slot is not None:
            series[action_series[action]][slot] += 1
    return Trend(months, dict(series), {key: label for key, _actions, label in TREND_SERIES})


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
