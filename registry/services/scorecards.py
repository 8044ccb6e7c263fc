"""Agency scorecards: measured indicators per agency, rolled up the tree, ranked within a level.

Which systems count for an agency: those it **manages** (``owner_agency_id``). An agency's
figures are its own systems together with those of every agency below it (a province's
committee includes its offices and its communes). Central agencies have no national parent, so
the national roll-up is given per block (:attr:`Scorecards.blocks`), summing every agency's own
systems once.

Everything is computed for all agencies at once with a handful of grouped queries (one row per
managing agency, never one query per agency), then summed up the tree in Python, and kept in
a cache keyed by the audit chain's head (:func:`watermark`): every write service records an
audit event, which advances the head, so each web worker sees on its next request that the
portfolio changed and computes again. Writes that bypass the services (a bulk load straight
into the database) are not seen until the next audited write or the next day.

Each indicator is defined once, in :data:`INDICATORS`; the pages, the print view, the CSV and
the API all read that list.
"""

from __future__ import annotations

import statistics
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, func, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from registry.choices import AgencyBlock, AgencyLevel, Disposition, SystemStatus
from registry.errors import NotFoundError
from registry.models import (
    Agency,
    Dependency,
    DuplicateWarning,
    Finding,
    InformationSystem,
    SystemAttestation,
    SystemUserAgencyLink,
    UsageReport,
)
from registry.rules.catalogue import USAGE_REPORT_MAX_AGE
from registry.services.watermark import portfolio_version

S = SystemStatus
PORTFOLIO_STATUSES: tuple[str, ...] = (
    S.SUBMITTED.value,
    S.IN_REVIEW.value,
    S.CHANGES_REQUESTED.value,
    S.APPROVED.value,
    S.IN_OPERATION.value,
)
"""Systems an agency answers for: proposals under or after review and systems in operation.
Drafts (not yet declared), rejected proposals and retired systems are left out."""
FRESHNESS_WINDOW = timedelta(days=365)
"""'Live' data (dữ liệu sống): confirmed within the last twelve months."""
SYSTEM_TABLE = InformationSystem.__table__  # type: ignore[attr-defined]  # SQLModel adds it at run time
DUPLICATE_DISPOSITIONS = (Disposition.OPEN.value, Disposition.CONFIRMED.value)


# --- definitions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One measured indicator: what it is called, how it is computed, how to read it.

    ``unit`` is ``share`` (a fraction 0–1, shown as a percentage), ``count`` or ``vnd``;
    ``better`` says which direction is good; ``in_score`` whether it enters the composite score.
    """

    key: str
    name: Any
    definition: Any
    unit: str
    better: str
    in_score: bool = False


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "governance",
        _l("Complete governance"),
        _l(
            "Share of the portfolio's systems that name an operating agency and at least one user "
            "agency (besides the managing agency), a legal basis and a usage orientation, and, once "
            "in operation, their operating rules (rules R1, R4 and R5 all pass)."
        ),
        "share",
        "higher",
        in_score=True,
    ),
    Indicator(
        "connected",
        _l("Connected to shared platforms"),
        _l(
            "Share of the portfolio's systems that are a shared platform, deploy one, or depend on "
            "one (the systems rule R7 does not flag as isolated)."
        ),
        "share",
        "higher",
        in_score=True,
    ),
    Indicator(
        "findings_high",
        _l("Open findings, high severity"),
        _l("Number of high-severity rule findings (R1–R10) currently open on the portfolio's systems."),
        "count",
        "lower",
    ),
    Indicator(
        "findings_medium",
        _l("Open findings, medium severity"),
        _l("Number of medium-severity rule findings currently open on the portfolio's systems."),
        "count",
        "lower",
    ),
    Indicator(
        "findings_low",
        _l("Open findings, low severity"),
        _l("Number of low-severity rule findings currently open on the portfolio's systems."),
        "count",
        "lower",
    ),
    Indicator(
        "duplicates",
        _l("In a duplicate pair"),
        _l(
            "Share of the portfolio's systems in at least one duplication warning that is still open "
            "or was confirmed as a duplicate (justified overlaps and false positives do not count)."
        ),
        "share",
        "lower",
        in_score=True,
    ),
    Indicator(
        "fresh",
        _l("Live data"),
        _l(
            "Share of the portfolio's systems whose record was updated or attested in the last "
            "12 months (“live” data)."
        ),
        "share",
        "higher",
        in_score=True,
    ),
    Indicator(
        "usage_reporting",
        _l("Usage reports on time"),
        _l(
            "Share of the systems in operation with a usage report whose period ended within the "
            "last year (the report rule R9 asks for)."
        ),
        "share",
        "higher",
        in_score=True,
    ),
    Indicator(
        "active_user_rate",
        _l("Active-user rate"),
        _l(
            "Active users divided by target users, summed over the systems in operation that give "
            "both (active users from the latest usage report, else as declared on the system)."
        ),
        "share",
        "higher",
        in_score=True,
    ),
    Indicator(
        "cost_per_active_user",
        _l("Cost per active user"),
        _l(
            "Estimated investment cost divided by active users, summed over the systems in "
            "operation that give both, in đồng."
        ),
        "vnd",
        "lower",
    ),
)
INDICATOR_KEYS: tuple[str, ...] = tuple(i.key for i in INDICATORS)
BY_KEY: dict[str, Indicator] = {i.key: i for i in INDICATORS}
SCORE_DEFINITION = _l(
    "The composite score (0–100) is the average of the indicators marked “in score” that can be "
    "computed for the agency: complete governance, connected, not in a duplicate pair (100% "
    "minus the duplicate share), live data, usage reports on time and the active-user rate "
    "(counted at most 100%). An indicator without systems to measure is left out rather than "
    "counted as zero. Agencies are ranked within their level by this score; an agency with no "
    "systems in its portfolio has no score and is listed last."
)
SCOPE_DEFINITION = _l(
    "Figures count the systems an agency manages (managing agency), together with those of every "
    "agency below it. The portfolio is the systems submitted, in review, approved or in operation: "
    "drafts, rejected proposals and retired systems are left out."
)
SORTS: tuple[str, ...] = ("rank", "name", "systems", *INDICATOR_KEYS)


def confirmed_since(cutoff: datetime) -> ColumnElement[bool]:
    """Whether a system's record was confirmed as current at or after ``cutoff``: the one
    definition of freshness ("live" data), which the scorecards read and nothing else.

    A record is confirmed by any save (``updated_at``: an edit, a workflow step) and by an
    attestation (confirmed or corrected, in a reporting round or not). Written as an ``IN`` over
    the recent attestations, which the database collects once, rather than each system's latest
    attestation looked up in turn.
    """
    recent = select(col(SystemAttestation.system_id)).where(col(SystemAttestation.attested_at) >= cutoff)
    return or_(SYSTEM_TABLE.c.updated_at >= cutoff, SYSTEM_TABLE.c.id.in_(recent))


# --- counting ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """The counts and sums behind the indicators, for one agency or a sum of agencies."""

    registered: int = 0
    portfolio: int = 0
    in_operation: int = 0
    governed: int = 0
    connected: int = 0
    fresh: int = 0
    duplicated: int = 0
    reporting: int = 0
    findings_high: int = 0
    findings_medium: int = 0
    findings_low: int = 0
    rate_active: int = 0
    rate_target: int = 0
    cost_vnd: int = 0
    cost_active: int = 0

    def add(self, other: Tally) -> None:
        for f in _TALLY_FIELDS:
            setattr(self, f, getattr(self, f) + getattr(other, f))

    def as_dict(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in _TALLY_FIELDS}


_TALLY_FIELDS = tuple(f.name for f in fields(Tally))


def _ratio(numerator: int, denominator: int) -> float | None:
    """``None`` when there is nothing to measure: a division by zero is no result, not zero."""
    return numerator / denominator if denominator else None


def indicator_values(t: Tally) -> dict[str, float | int | None]:
    """Every indicator of :data:`INDICATORS` from a tally."""
    has_portfolio = t.portfolio > 0
    return {
        "governance": _ratio(t.governed, t.portfolio),
        "connected": _ratio(t.connected, t.portfolio),
        "findings_high": t.findings_high if has_portfolio else None,
        "findings_medium": t.findings_medium if has_portfolio else None,
        "findings_low": t.findings_low if has_portfolio else None,
        "duplicates": _ratio(t.duplicated, t.portfolio),
        "fresh": _ratio(t.fresh, t.portfolio),
        "usage_reporting": _ratio(t.reporting, t.in_operation),
        "active_user_rate": _ratio(t.rate_active, t.rate_target),
        "cost_per_active_user": _ratio(t.cost_vnd, t.cost_active),
    }


def composite_score(values: Mapping[str, float | int | None]) -> float | None:
    """The mean of the available score indicators on a 0–100 scale (see :data:`SCORE_DEFINITION`)."""
    parts: list[float] = []
    for indicator in INDICATORS:
        value = values.get(indicator.key)
        if not indicator.in_score or value is None:
            continue
        share = min(float(value), 1.0)
        parts.append(share if indicator.better == "higher" else 1.0 - share)
    return round(100 * sum(parts) / len(parts), 1) if parts else None


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(func.cast(condition, Integer))


def _tallies(session: Session, today: date) -> dict[int, Tally]:
    """Each managing agency's own tally, from a few queries grouped by agency."""
    s = SYSTEM_TABLE
    in_portfolio = s.c.status.in_(PORTFOLIO_STATUSES)
    in_operation = s.c.status == S.IN_OPERATION.value
    cutoff = datetime.combine(today, datetime.min.time(), tzinfo=UTC) - FRESHNESS_WINDOW

    def filled(column: Any) -> ColumnElement[bool]:
        return and_(column.is_not(None), column != "")

    # Each "has a ..." test is an IN over a subquery that the database builds once (a hash or
    # an ephemeral index), not an EXISTS probed for each of 100,000 systems.
    has_user_agency = s.c.id.in_(select(col(SystemUserAgencyLink.system_id)))
    governed = and_(
        in_portfolio,
        s.c.operator_agency_id.is_not(None),
        has_user_agency,
        filled(s.c.legal_basis),
        filled(s.c.usage_orientation),
        or_(s.c.status != S.IN_OPERATION.value, filled(s.c.operating_rules_ref)),
    )
    platform = InformationSystem.__table__.alias("platform")  # type: ignore[attr-defined]
    uses_platform = s.c.id.in_(
        select(col(Dependency.source_id))
        .join(platform, platform.c.id == col(Dependency.target_id))
        .where(platform.c.is_shared_platform.is_(True))
    )
    connected = and_(
        in_portfolio, or_(s.c.is_shared_platform.is_(True), s.c.instance_of_id.is_not(None), uses_platform)
    )
    fresh = and_(in_portfolio, confirmed_since(cutoff))
    reported = s.c.id.in_(
        select(col(UsageReport.system_id)).where(col(UsageReport.period_end) >= today - USAGE_REPORT_MAX_AGE)
    )
    # Grouped by ``owner_agency_id + 0``, not the column: SQLite would otherwise walk the owner
    # index and fetch each wide row out of order, slower than one scan and a sort of 3,500 keys.
    owner_key = (s.c.owner_agency_id + 0).label("owner")
    # Each system's latest usage report, numbered by a window over the reports table once: a
    # correlated "latest report" subquery per system cost PostgreSQL seconds at 100,000 systems.
    numbered = select(
        col(UsageReport.system_id).label("system_id"),
        col(UsageReport.active_users).label("active_users"),
        func.row_number()
        .over(
            partition_by=col(UsageReport.system_id),
            order_by=(col(UsageReport.period_end).desc(), col(UsageReport.id).desc()),
        )
        .label("position"),
    ).subquery("numbered")
    latest = select(numbered.c.system_id, numbered.c.active_users).where(numbered.c.position == 1).subquery()
    base = (
        select(
            s.c.id,
            owner_key,
            s.c.status,
            s.c.target_users,
            s.c.estimated_cost_vnd,
            func.coalesce(latest.c.active_users, s.c.active_users).label("active"),
        )
        .select_from(s.outerjoin(latest, latest.c.system_id == s.c.id))
        .where(in_operation)
        .subquery("base")
    )
    tallies: dict[int, Tally] = defaultdict(Tally)

    counts = select(
        owner_key,
        func.count(),
        _count_if(in_portfolio),
        _count_if(in_operation),
        _count_if(governed),
        _count_if(connected),
        _count_if(fresh),
        _count_if(and_(in_operation, reported)),
    ).group_by(owner_key)
    for owner, registered, portfolio, operating, gov, conn, fr, rep in session.execute(counts):
        t = tallies[owner]
        t.registered, t.portfolio, t.in_operation = registered, portfolio or 0, operating or 0
        t.governed, t.connected, t.fresh, t.reporting = gov or 0, conn or 0, fr or 0, rep or 0

    usable = and_(base.c.status == S.IN_OPERATION.value, base.c.active.is_not(None))
    rate_row = and_(usable, base.c.target_users > 0)
    cost_row = and_(usable, base.c.active > 0, base.c.estimated_cost_vnd.is_not(None))
    use = (
        select(
            base.c.owner,
            func.sum(func.coalesce(base.c.active, 0) * func.cast(rate_row, Integer)),
            func.sum(func.coalesce(base.c.target_users, 0) * func.cast(rate_row, Integer)),
            func.sum(func.coalesce(base.c.estimated_cost_vnd, 0) * func.cast(cost_row, Integer)),
            func.sum(func.coalesce(base.c.active, 0) * func.cast(cost_row, Integer)),
        )
        .where(base.c.status == S.IN_OPERATION.value)
        .group_by(base.c.owner)
    )
    for owner, rate_active, rate_target, cost, cost_active in session.execute(use):
        t = tallies[owner]
        t.rate_active, t.rate_target = int(rate_active or 0), int(rate_target or 0)
        t.cost_vnd, t.cost_active = int(cost or 0), int(cost_active or 0)

    findings = (
        select(col(InformationSystem.owner_agency_id), col(Finding.severity), func.count())
        .join(InformationSystem, col(InformationSystem.id) == col(Finding.system_id))
        .where(col(InformationSystem.status).in_(PORTFOLIO_STATUSES))
        .group_by(col(InformationSystem.owner_agency_id), col(Finding.severity))
    )
    for owner, severity, number in session.execute(findings):
        attribute = f"findings_{severity}"
        if attribute in _TALLY_FIELDS:
            t = tallies[owner]
            setattr(t, attribute, getattr(t, attribute) + number)

    pair_filter = (
        col(DuplicateWarning.disposition).in_(DUPLICATE_DISPOSITIONS),
        col(DuplicateWarning.relation) == "overlap",
    )
    in_pairs = union_all(
        select(col(DuplicateWarning.system_a_id).label("system_id")).where(*pair_filter),
        select(col(DuplicateWarning.system_b_id).label("system_id")).where(*pair_filter),
    ).subquery("paired")
    duplicated = (
        select(col(InformationSystem.owner_agency_id), func.count(func.distinct(col(InformationSystem.id))))
        .join(in_pairs, in_pairs.c.system_id == col(InformationSystem.id))
        .where(col(InformationSystem.status).in_(PORTFOLIO_STATUSES))
        .group_by(col(InformationSystem.owner_agency_id))
    )
    for owner, number in session.execute(duplicated):
        tallies[owner].duplicated = number
    return dict(tallies)


# --- the whole set ------------------------------------------------------------------------------


@dataclass
class ScorecardRow:
    """One agency's scorecard: its own tally, the tally with everything below it, the values."""

    id: int
    code: str
    name: str
    name_en: str | None
    level: str
    block: str
    parent_id: int | None
    parent_code: str | None
    own: Tally
    total: Tally
    values: dict[str, float | int | None]
    score: float | None
    rank: int | None = None
    child_ids: list[int] = field(default_factory=list)

    @property
    def no_systems(self) -> bool:
        """Nothing registered for the agency or below it, in any status: itself a finding."""
        return self.total.registered == 0

    def name_in(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


@dataclass
class BlockTotal:
    block: str
    tally: Tally
    values: dict[str, float | int | None]
    score: float | None
    agencies: int


@dataclass
class Scorecards:
    """Every agency's scorecard, computed once per portfolio state."""

    computed_for: tuple[str, date]
    rows: dict[int, ScorecardRow]
    by_code: dict[str, int]
    ranked: dict[str, list[int]]
    """Level → agency ids in rank order (ties by name), agencies without a score last."""
    medians: dict[str, dict[str, float | None]]
    """Level → indicator key (and ``score``) → the median over the level's agencies that have one."""
    blocks: list[BlockTotal]
    national: BlockTotal


def compute_scorecards(session: Session, today: date | None = None, head: str = "") -> Scorecards:
    """Compute every agency's scorecard now (use :func:`scorecards` for the cached copy)."""
    today = today or datetime.now(UTC).date()
    own = _tallies(session, today)
    agencies = session.execute(
        select(
            col(Agency.id),
            col(Agency.code),
            col(Agency.name),
            col(Agency.name_en),
            col(Agency.level),
            col(Agency.block),
            col(Agency.parent_id),
        )
    ).all()
    codes = {a.id: a.code for a in agencies}
    children: dict[int | None, list[int]] = defaultdict(list)
    for a in agencies:
        children[a.parent_id if a.parent_id in codes else None].append(a.id)

    totals: dict[int, Tally] = {}

    def roll_up(agency_id: int) -> Tally:
        # Iterative post-order: a deep chain of nested agencies must not hit the recursion limit.
        stack: list[tuple[int, bool]] = [(agency_id, False)]
        while stack:
            current, expanded = stack.pop()
            if expanded:
                total = Tally()
                total.add(own.get(current, Tally()))
                for child in children.get(current, ()):
                    total.add(totals[child])
                totals[current] = total
            elif current not in totals:
                stack.append((current, True))
                stack.extend((child, False) for child in children.get(current, ()) if child not in totals)
        return totals[agency_id]

    rows: dict[int, ScorecardRow] = {}
    for a in agencies:
        total = roll_up(a.id)
        values = indicator_values(total)
        rows[a.id] = ScorecardRow(
            id=a.id,
            code=a.code,
            name=a.name,
            name_en=a.name_en,
            level=a.level,
            block=a.block,
            parent_id=a.parent_id if a.parent_id in codes else None,
            parent_code=codes.get(a.parent_id) if a.parent_id is not None else None,
            own=own.get(a.id, Tally()),
            total=total,
            values=values,
            score=composite_score(values),
            child_ids=children.get(a.id, []),
        )

    ranked: dict[str, list[int]] = {}
    medians: dict[str, dict[str, float | None]] = {}
    for level in AgencyLevel:
        members = [r for r in rows.values() if r.level == level.value]
        members.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.name, r.code))
        previous: tuple[float | None, int] = (None, 0)
        for position, row in enumerate(members, start=1):
            if row.score is None:
                continue
            rank = previous[1] if row.score == previous[0] else position
            row.rank = rank
            previous = (row.score, rank)
        ranked[level.value] = [r.id for r in members]
        medians[level.value] = _medians(members)

    block_tallies: dict[str, Tally] = defaultdict(Tally)
    block_counts: dict[str, int] = defaultdict(int)
    national = Tally()
    for agency_id, row in rows.items():
        block_tallies[row.block].add(own.get(agency_id, Tally()))
        block_counts[row.block] += 1
        national.add(own.get(agency_id, Tally()))
    blocks = [
        _block_total(block.value, block_tallies.get(block.value, Tally()), block_counts.get(block.value, 0))
        for block in AgencyBlock
    ]
    return Scorecards(
        computed_for=(head, today),
        rows=rows,
        by_code={r.code: r.id for r in rows.values()},
        ranked=ranked,
        medians=medians,
        blocks=blocks,
        national=_block_total("", national, len(rows)),
    )


def _block_total(block: str, tally: Tally, agencies: int) -> BlockTotal:
    values = indicator_values(tally)
    return BlockTotal(block, tally, values, composite_score(values), agencies)


def _medians(rows: Iterable[ScorecardRow]) -> dict[str, float | None]:
    rows = list(rows)
    found: dict[str, float | None] = {}
    for key in (*INDICATOR_KEYS, "score"):
        present = [v for r in rows if (v := (r.score if key == "score" else r.values[key])) is not None]
        found[key] = float(statistics.median(present)) if present else None
    return found


# --- the cache ----------------------------------------------------------------------------------


def watermark(session: Session) -> str:
    """The audit chain's head (:func:`registry.services.watermark.portfolio_version`) as text:
    every audited write moves it, so it names the portfolio's state. A database without a head
    yet (nothing written) reads as ``"0:"``."""
    seq, digest = portfolio_version(session)
    return f"{seq}:{digest}"


_cache: dict[str, Scorecards] = {}
_lock = threading.Lock()


def scorecards(session: Session, today: date | None = None) -> Scorecards:
    """Every agency's scorecard, computed once per portfolio state and reused until a write.

    The watermark is read *before* the figures: a write committed in between makes the cached
    copy newer than its key, never older, and only costs one extra computation.
    """
    today = today or datetime.now(UTC).date()
    head = watermark(session)
    key = str(session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached is not None and cached.computed_for == (head, today):
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.computed_for == (head, today):
            return cached
        fresh = compute_scorecards(session, today, head)
        _cache[key] = fresh
        return fresh


def clear_cache() -> None:
    _cache.clear()


# --- reading ------------------------------------------------------------------------------------


@dataclass
class ScorecardPage:
    items: list[ScorecardRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def select_rows(
    cards: Scorecards,
    *,
    level: str,
    block: str | None = None,
    parent: str | None = None,
    sort: str = "rank",
    descending: bool = False,
    locale: str = "vi",
) -> list[ScorecardRow]:
    """The level's scorecards, filtered by block and parent code, in the order asked.

    ``rank`` sorts by rank (best first); an indicator sorts best first unless ``descending``
    flips it; agencies without a value always come last.
    """
    rows = [cards.rows[i] for i in cards.ranked.get(level, [])]
    if block:
        rows = [r for r in rows if r.block == block]
    if parent:
        parent_id = cards.by_code.get(parent)
        rows = [r for r in rows if parent_id is not None and r.parent_id == parent_id]
    if sort in ("rank", "name", "systems"):
        if sort == "name":
            rows.sort(key=lambda r: r.name_in(locale).casefold(), reverse=descending)
        elif sort == "systems":
            rows.sort(key=lambda r: r.total.portfolio, reverse=not descending)
        elif descending:
            rows.reverse()
        return rows
    indicator = BY_KEY[sort]
    best_high = indicator.better == "higher"
    with_value = [r for r in rows if r.values[sort] is not None]
    without = [r for r in rows if r.values[sort] is None]
    with_value.sort(key=lambda r: float(r.values[sort] or 0), reverse=best_high != descending)
    return with_value + without


def list_scorecards(
    session: Session,
    *,
    level: str,
    block: str | None = None,
    parent: str | None = None,
    sort: str = "rank",
    descending: bool = False,
    page: int = 1,
    per_page: int = 25,
    locale: str = "vi",
) -> ScorecardPage:
    """One page of a level's scorecards; every agency of the level has a row, with or without systems."""
    rows = select_rows(
        scorecards(session),
        level=level,
        block=block,
        parent=parent,
        sort=sort,
        descending=descending,
        locale=locale,
    )
    start = (page - 1) * per_page
    return ScorecardPage(rows[start : start + per_page], len(rows), page, per_page)


@dataclass
class ScorecardDetail:
    row: ScorecardRow
    own_values: dict[str, float | int | None]
    median: dict[str, float | None]
    level_size: int
    children: list[ScorecardRow]
    parent: ScorecardRow | None


def get_scorecard(session: Session, code: str) -> ScorecardDetail:
    """One agency's scorecard with its level's medians and its children's rows (best first)."""
    cards = scorecards(session)
    agency_id = cards.by_code.get(code)
    if agency_id is None:
        raise NotFoundError(f"agency {code}")
    row = cards.rows[agency_id]
    children = [cards.rows[i] for i in row.child_ids]
    children.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.name))
    return ScorecardDetail(
        row=row,
        own_values=indicator_values(row.own),
        median=cards.medians.get(row.level, {}),
        level_size=len(cards.ranked.get(row.level, [])),
        children=children,
        parent=cards.rows.get(row.parent_id) if row.parent_id is not None else None,
    )


def row_record(row: ScorecardRow, locale: str = "vi") -> dict[str, Any]:
    """A scorecard as the API and the CSV give it: shares as fractions 0–1, ``None`` for no result."""
    return {
        "agency": {
            "code": row.code,
            "name": row.name_in(locale),
            "level": row.level,
            "block": row.block,
            "parent": row.parent_code,
        },
        "rank": row.rank,
        "score": row.score,
        "no_systems": row.no_systems,
        "systems": {
            "registered": row.total.registered,
            "portfolio": row.total.portfolio,
            "in_operation": row.total.in_operation,
            "own_registered": row.own.registered,
        },
        "indicators": dict(row.values),
        "counts": row.total.as_dict(),
    }


def definitions(locale_text: Any = str) -> list[dict[str, Any]]:
    """The indicator definitions, names and texts rendered by ``locale_text`` (``str`` in a request)."""
    return [
        {
            "key": i.key,
            "name": locale_text(i.name),
            "definition": locale_text(i.definition),
            "unit": i.unit,
            "better": i.better,
            "in_score": i.in_score,
        }
        for i in INDICATORS
    ]
