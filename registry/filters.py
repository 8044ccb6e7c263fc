"""One definition of how the portfolio is filtered, sorted and paged.

The list page uses it today; the API and the exports take the same query string, so an
auditor's export holds exactly what the filtered page showed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, column, false, func, literal, select, text, union
from sqlmodel import Session

from registry.choices import AgencyBlock, AgencyLevel, Disposition, Severity, SystemStatus
from registry.config import PAGE_SIZES
from registry.models import (
    Agency,
    Capability,
    DuplicateWarning,
    Finding,
    InformationSystem,
    ReviewAssignment,
    SystemCapabilityLink,
    SystemUserAgencyLink,
)
from registry.models.agency import subtree_ids
from registry.text import fold, search_terms

AGENCY_ROLES = ("any", "owner", "operator", "user")
WARNING_FILTERS = ("", "confirmed", "suspected")

RELEVANCE = "relevance"
STANDING_DISPOSITIONS = (Disposition.OPEN, Disposition.CONFIRMED)
"""A warning counts towards a system's best score while it stands: open, or confirmed by the
standing office (the review queue's rule)."""


def _rank(column_: Any, vocabulary: type[StrEnum]) -> Any:
    """A vocabulary's own order (the lifecycle, central → commune), not the alphabet of its codes."""
    return case({m.value: i for i, m in enumerate(vocabulary)}, value=column_, else_=len(vocabulary))


def open_findings_count() -> Any:
    """How many rules the system fails now: every stored finding is an open one."""
    return (
        select(func.count(Finding.id))
        .where(Finding.system_id == InformationSystem.id)
        .correlate(InformationSystem)
        .scalar_subquery()
    )


def best_warning_score() -> Any:
    """The highest score of the system's standing duplication warnings, 0 without one."""

    def side(own: Any) -> Any:
        best = (
            select(func.max(DuplicateWarning.score))
            .where(
                own == InformationSystem.id,
                DuplicateWarning.relation == "overlap",
                DuplicateWarning.disposition.in_(STANDING_DISPOSITIONS),
            )
            .correlate(InformationSystem)
            .scalar_subquery()
        )
        return func.coalesce(best, 0.0)

    # Each side is answered from its own index; SQLite has no GREATEST, so a CASE picks.
    a, b = side(DuplicateWarning.system_a_id), side(DuplicateWarning.system_b_id)
    return case((a >= b, a), else_=b)


_BY_NAME = (InformationSystem.name_key.asc(), InformationSystem.id.asc())
SORTS: dict[str, tuple[Any, ...]] = {
    RELEVANCE: _BY_NAME,  # with a query, :func:`sort_order` puts the best matches first
    "name": _BY_NAME,
    "-name": (InformationSystem.name_key.desc(), InformationSystem.id.desc()),
    "code": (InformationSystem.code.asc(),),
    "-code": (InformationSystem.code.desc(),),
    "status": (_rank(InformationSystem.status, SystemStatus).asc(), *_BY_NAME),
    "-status": (_rank(InformationSystem.status, SystemStatus).desc(), *_BY_NAME),
    "level": (_rank(InformationSystem.scope_level, AgencyLevel).asc(), *_BY_NAME),
    "-level": (_rank(InformationSystem.scope_level, AgencyLevel).desc(), *_BY_NAME),
    "findings": (open_findings_count().asc(), *_BY_NAME),
    "-findings": (open_findings_count().desc(), *_BY_NAME),
    "score": (best_warning_score().asc(), *_BY_NAME),
    "-score": (best_warning_score().desc(), *_BY_NAME),
    "updated": (InformationSystem.updated_at.asc(), InformationSystem.id.asc()),
    "-updated": (InformationSystem.updated_at.desc(), InformationSystem.id.desc()),
    "cost": (InformationSystem.estimated_cost_vnd.asc().nulls_first(), InformationSystem.id.asc()),
    "-cost": (InformationSystem.estimated_cost_vnd.desc().nulls_last(), InformationSystem.id.desc()),
}
"""Every ``sort=`` value the list page, the API and the exports accept; ``-`` is descending.
Ties fall back to the name, so a page never reshuffles between two requests."""
SORT_LABELS: dict[str, object] = {
    RELEVANCE: _l("Best match first"),
    "name": _l("Name (A–Z)"),
    "-name": _l("Name (Z–A)"),
    "code": _l("Oldest code first"),
    "-code": _l("Newest code first"),
    "status": _l("Status (lifecycle order)"),
    "-status": _l("Status (reverse lifecycle order)"),
    "level": _l("Scope level (central first)"),
    "-level": _l("Scope level (commune first)"),
    "-findings": _l("Most open findings"),
    "findings": _l("Fewest open findings"),
    "-score": _l("Highest warning score"),
    "score": _l("Lowest warning score"),
    "-updated": _l("Recently updated"),
    "updated": _l("Least recently updated"),
    "-cost": _l("Highest cost"),
    "cost": _l("Lowest cost"),
}
assert set(SORT_LABELS) == set(SORTS)


def relevance(query: str) -> Any:
    """How well a system matches a search, as a number every database computes the same way.

    Every listed system already contains all the words somewhere (name, description, purpose
    or code), so the score only ranks where they are: the code typed exactly, the whole phrase
    in the name (at its start counts more), each word in the name, then the whole phrase
    anywhere. Plain ``LIKE`` over the folded copies, so SQLite and PostgreSQL agree without
    either's full-text ranking.
    """
    phrase = fold(query)
    terms = search_terms(query)
    if not phrase:
        return literal(0)
    name, anywhere = InformationSystem.name_key, InformationSystem.search_text
    escaped = _like_pattern(phrase)[1:]  # the phrase followed by "%": "starts with"
    weights = [
        (func.lower(InformationSystem.code) == phrase, 20),
        (name.like(escaped, escape="\\"), 4),
        (name.like(_like_pattern(phrase), escape="\\"), 8),
        *((name.like(_like_pattern(term), escape="\\"), 3) for term in terms),
        (anywhere.like(_like_pattern(phrase), escape="\\"), 2),
    ]
    return sum((case((condition, weight), else_=0) for condition, weight in weights), literal(0))


def sort_order(flt: SystemFilter) -> tuple[Any, ...]:
    """The ORDER BY of a filter: its sort, or the best matches first when it searches."""
    sort = flt.effective_sort
    if sort == RELEVANCE and search_terms(flt.q):
        return (relevance(flt.q).desc(), *_BY_NAME)
    return SORTS[sort]


@dataclass
class SystemFilter:
    q: str = ""
    statuses: list[str] = field(default_factory=list)
    agency: str = ""
    agency_role: str = "any"
    level: str = ""
    capability: str = ""
    shared: str = ""
    block: str = ""
    severity: str = ""
    warnings: str = ""
    sort: str = ""
    """A key of :data:`SORTS`, or "" for the default: best match first when searching, else name."""
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments that reproduce this filter (for links, pagers and exports)."""
        values = {
            "q": self.q,
            "status": self.statuses,
            "agency": self.agency,
            "agency_role": self.agency_role if self.agency_role != "any" else "",
            "level": self.level,
            "capability": self.capability,
            "shared": self.shared,
            "block": self.block,
            "severity": self.severity,
            "warnings": self.warnings,
            "sort": self.sort,
            "page": self.page if self.page != 1 else "",
            "per_page": self.per_page if self.per_page != PAGE_SIZES[0] else "",
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None, [])}

    @property
    def effective_sort(self) -> str:
        """The order the list shows: the chosen one, else relevance for a search, else by name."""
        return self.sort or (RELEVANCE if search_terms(self.q) else "name")

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.statuses
            or self.agency
            or self.level
            or self.capability
            or self.shared
            or self.block
            or self.severity
            or self.warnings
        )


@dataclass
class ParsedFilter:
    filter: SystemFilter
    problems: list[object]


def parse_filter(args: Mapping[str, Any]) -> ParsedFilter:
    """Read a query string; unknown values are dropped and reported, never fatal for a list page."""
    problems: list[object] = []
    get_list = getattr(args, "getlist", None)
    raw_statuses: Sequence[str] = get_list("status") if get_list else _as_list(args.get("status"))
    statuses = [s for s in raw_statuses if s in SystemStatus._value2member_map_]
    if len(statuses) != len([s for s in raw_statuses if s]):
        problems.append(_l("An unknown status in the filter was ignored."))

    level = (args.get("level") or "").strip()
    if level and level not in AgencyLevel._value2member_map_:
        problems.append(_l("An unknown scope level in the filter was ignored."))
        level = ""
    shared = (args.get("shared") or "").strip()
    if shared not in ("", "yes", "no"):
        problems.append(_l("The shared-platform filter must be yes or no; it was ignored."))
        shared = ""
    block = _known(
        args.get("block"), AgencyBlock, _l("An unknown block in the filter was ignored."), problems
    )
    severity = _known(
        args.get("severity"), Severity, _l("An unknown finding severity in the filter was ignored."), problems
    )
    warnings = (args.get("warnings") or "").strip()
    if warnings not in WARNING_FILTERS:
        problems.append(_l("The duplication-warning filter must be confirmed or suspected; it was ignored."))
        warnings = ""
    role = (args.get("agency_role") or "any").strip()
    if role not in AGENCY_ROLES:
        problems.append(_l("An unknown agency role in the filter was ignored."))
        role = "any"
    sort = (args.get("sort") or "").strip()
    if sort and sort not in SORTS:
        problems.append(_l("An unknown sort order was ignored."))
        sort = ""
    page = page_number(args.get("page"))
    per_page = _positive_int(args.get("per_page"), PAGE_SIZES[0])
    if per_page not in PAGE_SIZES:
        problems.append(_l("Page size must be 25, 50 or 100."))
        per_page = PAGE_SIZES[0]
    return ParsedFilter(
        SystemFilter(
            q=(args.get("q") or "").strip()[:200],
            statuses=list(dict.fromkeys(statuses)),
            agency=(args.get("agency") or "").strip()[:40],
            agency_role=role,
            level=level,
            capability=(args.get("capability") or "").strip()[:40],
            shared=shared,
            block=block,
            severity=severity,
            warnings=warnings,
            sort=sort,
            page=min(page, 100_000),
            per_page=per_page,
        ),
        problems,
    )


def _known(value: Any, vocabulary: type[StrEnum], problem: object, problems: list[object]) -> str:
    """A stored value of ``vocabulary``, or "" with ``problem`` reported when it is not one."""
    value = (value or "").strip()
    if value and value not in vocabulary._value2member_map_:
        problems.append(problem)
        return ""
    return str(value)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


MAX_PAGE = 100_000
"""No list has this many pages; a larger number would overflow the database's OFFSET."""


def page_number(value: Any) -> int:
    """A page number from a query string: 1 when missing or invalid, at most :data:`MAX_PAGE`.

    >>> page_number("3"), page_number("1e20"), page_number("-2"), page_number("9" * 30)
    (3, 1, 1, 100000)
    """
    return min(_positive_int(value, 1), MAX_PAGE)


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def filter_conditions(session: Session, flt: SystemFilter) -> list[Any]:
    """SQL conditions for a filter, shared by the page query and its count."""
    conditions: list[Any] = []
    terms = search_terms(flt.q)
    if terms:
        conditions.extend(_search_conditions(session, terms))
    if flt.statuses:
        conditions.append(InformationSystem.status.in_(flt.statuses))
    if flt.level:
        conditions.append(InformationSystem.scope_level == flt.level)
    if flt.shared:
        conditions.append(InformationSystem.is_shared_platform.is_(flt.shared == "yes"))
    if flt.capability:
        # "id IN (systems having it)" is answered from the link table's capability index; a
        # correlated EXISTS made the database test every system in turn.
        having = (
            select(SystemCapabilityLink.system_id)
            .join(Capability, Capability.id == SystemCapabilityLink.capability_id)
            .where(Capability.code == flt.capability)
        )
        conditions.append(InformationSystem.id.in_(having))
    if flt.block:
        conditions.append(
            InformationSystem.owner_agency_id.in_(select(Agency.id).where(Agency.block == flt.block))
        )
    if flt.severity:
        conditions.append(
            InformationSystem.id.in_(select(Finding.system_id).where(Finding.severity == flt.severity))
        )
    if flt.warnings:
        conditions.append(warning_condition(flt.warnings))
    if flt.agency:
        conditions.append(_agency_condition(session, flt.agency, flt.agency_role))
    return conditions


def warning_condition(kind: str) -> Any:
    """Systems in a confirmed duplicate pair, or (``suspected``) only in open warnings: the
    dashboard's two groups of money in duplicates."""

    def sides(disposition: str) -> Any:
        standing = (DuplicateWarning.relation == "overlap", DuplicateWarning.disposition == disposition)
        return union(
            select(DuplicateWarning.system_a_id.label("id")).where(*standing),
            select(DuplicateWarning.system_b_id.label("id")).where(*standing),
        ).subquery()

    confirmed = sides(Disposition.CONFIRMED)
    if kind == "confirmed":
        return InformationSystem.id.in_(select(confirmed.c.id))
    suspected = sides(Disposition.OPEN)
    return and_(
        InformationSystem.id.in_(select(suspected.c.id)), InformationSystem.id.not_in(select(confirmed.c.id))
    )


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_conditions(session: Session, terms: list[str]) -> list[Any]:
    """Every term must occur in the folded text (name, description, purpose, code).

    On SQLite, terms of three characters or more are answered by the FTS5 trigram index; on
    PostgreSQL the trigram GIN index serves the same LIKE. Shorter terms ("an") cannot use
    trigrams and are checked row by row, after the indexed terms have narrowed the rows.
    """
    # FTS5 answers LIKE from its index only for plain patterns: no ESCAPE, no wildcard typed.
    indexed = [t for t in terms if len(t) >= 3 and not set(t) & {"%", "_", "\\"}]
    rest = [t for t in terms if t not in indexed]
    conditions: list[Any] = []
    if indexed and session.get_bind().dialect.name == "sqlite":
        likes = " AND ".join(f"search_text LIKE :term{i}" for i in range(len(indexed)))
        subquery = text(f"SELECT rowid FROM system_search WHERE {likes}").bindparams(
            **{f"term{i}": f"%{t}%" for i, t in enumerate(indexed)}
        )
        conditions.append(InformationSystem.id.in_(subquery.columns(column("rowid"))))
    else:
        rest = terms
    conditions.extend(InformationSystem.search_text.like(_like_pattern(t), escape="\\") for t in rest)
    return conditions


def agency_subtree(session: Session, code: str) -> list[int]:
    """The agency with this code and every agency below it, as the agency filter reads a code;
    empty for an unknown code. The API's portfolio lists filter by owner the same way."""
    agency_id = session.scalar(select(Agency.id).where(Agency.code == code))
    return sorted(subtree_ids(session, agency_id)) if agency_id is not None else []


def _agency_condition(session: Session, code: str, role: str) -> Any:
    ids = agency_subtree(session, code)
    if not ids:
        return false()
    by_role = {
        "owner": select(InformationSystem.id).where(InformationSystem.owner_agency_id.in_(ids)),
        "operator": select(InformationSystem.id).where(InformationSystem.operator_agency_id.in_(ids)),
        "user": select(SystemUserAgencyLink.system_id).where(SystemUserAgencyLink.agency_id.in_(ids)),
    }
    # Each role is a set of ids found through its own index; "any role" is their union. An OR
    # of the three conditions made the databases scan every system instead.
    if role in by_role:
        return InformationSystem.id.in_(by_role[role])
    return InformationSystem.id.in_(union(*by_role.values()))


@dataclass
class Page:
    items: list[InformationSystem]
    total: int
    page: int
    per_page: int
    more: bool = False
    """True when more than :data:`COUNT_LIMIT` systems match and ``total`` stopped counting."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.items else 0


COUNT_LIMIT = 2000
"""A filtered list counts its matches up to here, then says "more than 2,000": an exact count
of 60,000 matches costs a full scan on every page, and nobody pages through them all."""


def list_systems(session: Session, flt: SystemFilter) -> Page:
    """One page of systems matching ``flt``; a page past the end shows the last page."""
    conditions = filter_conditions(session, flt)
    more = False
    if conditions:
        matching = select(InformationSystem.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery()
        total = session.scalar(select(func.count()).select_from(matching)) or 0
        more, total = total > COUNT_LIMIT, min(total, COUNT_LIMIT)
    else:
        total = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
    pages = max(1, -(-total // flt.per_page))
    page = min(flt.page, pages)
    query = (
        select(InformationSystem)
        .where(*conditions)
        .order_by(*sort_order(flt))
        .offset((page - 1) * flt.per_page)
        .limit(flt.per_page)
    )
    items = list(session.scalars(query).unique())
    return Page(items=items, total=total, page=page, per_page=flt.per_page, more=more)


QUEUE_AGES: dict[str, tuple[int, int | None]] = {
    "week": (0, 7),
    "month": (8, 30),
    "quarter": (31, 90),
    "older": (91, None),
}
"""How long a proposal has waited since it was (last) submitted, in whole days, both bounds
included: the dashboard's bands of waiting proposals, so a bar there opens the same list."""
QUEUE_AGE_LABELS: dict[str, object] = {
    "week": _l("Up to 7 days"),
    "month": _l("8 to 30 days"),
    "quarter": _l("31 to 90 days"),
    "older": _l("More than 90 days"),
}
QUEUE_ASSIGNEES = ("", "mine", "unassigned")
QUEUE_STATUSES = (SystemStatus.SUBMITTED, SystemStatus.IN_REVIEW)


@dataclass
class QueueFilter:
    """The review queue's filters: the same codes as the systems list where they overlap."""

    status: str = ""
    agency: str = ""
    capability: str = ""
    age: str = ""
    assignee: str = ""

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        values = {
            "status": self.status,
            "agency": self.agency,
            "capability": self.capability,
            "age": self.age,
            "assignee": self.assignee,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v}

    @property
    def is_filtered(self) -> bool:
        return bool(self.agency or self.capability or self.age or self.assignee)


@dataclass
class ParsedQueueFilter:
    filter: QueueFilter
    problems: list[object]


def parse_queue_filter(args: Mapping[str, Any]) -> ParsedQueueFilter:
    """Read the queue's query string; as for the list page, a wrong value is dropped and said."""
    problems: list[object] = []
    status = (args.get("status") or "").strip()
    if status and status not in QUEUE_STATUSES:
        problems.append(_l("The queue holds only proposals submitted or in review; the status was ignored."))
        status = ""
    age = (args.get("age") or "").strip()
    if age and age not in QUEUE_AGES:
        problems.append(_l("An unknown waiting time in the filter was ignored."))
        age = ""
    assignee = (args.get("assignee") or "").strip()
    if assignee not in QUEUE_ASSIGNEES:
        problems.append(_l("The reviewer filter must be mine or unassigned; it was ignored."))
        assignee = ""
    return ParsedQueueFilter(
        QueueFilter(
            status=status,
            agency=(args.get("agency") or "").strip()[:40],
            capability=(args.get("capability") or "").strip()[:40],
            age=age,
            assignee=assignee,
        ),
        problems,
    )


def queue_conditions(session: Session, flt: QueueFilter, user_id: int | None) -> list[Any]:
    """SQL conditions of the queue's agency, capability and reviewer filters (status and age are
    the service's: it counts by status, and measures the wait from the audit trail)."""
    conditions: list[Any] = []
    if flt.agency:
        conditions.append(_agency_condition(session, flt.agency, "owner"))
    if flt.capability:
        having = (
            select(SystemCapabilityLink.system_id)
            .join(Capability, Capability.id == SystemCapabilityLink.capability_id)
            .where(Capability.code == flt.capability)
        )
        conditions.append(InformationSystem.id.in_(having))
    if flt.assignee == "unassigned":
        conditions.append(InformationSystem.id.not_in(select(ReviewAssignment.system_id)))
    elif flt.assignee == "mine":
        conditions.append(
            InformationSystem.id.in_(
                select(ReviewAssignment.system_id).where(ReviewAssignment.reviewer_id == user_id)
            )
        )
    return conditions


def in_age_band(days: int, band: str) -> bool:
    low, high = QUEUE_AGES[band]
    return days >= low and (high is None or days <= high)
