"""Running the justification rules and keeping their findings current.

Findings are derived data: recomputed for a system when it is saved or changes status, and for
the whole portfolio by the scan. The portfolio facts the rules need are loaded once per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col

from registry.bulk import driver_value, insert_tuples, json_text
from registry.choices import Severity, SystemStatus
from registry.models import (
    Capability,
    Dependency,
    Finding,
    InformationSystem,
    SystemCapabilityLink,
    UsageReport,
)
from registry.rules import RULES, Rule, RuleContext, Violation, rule_by_code
from registry.rules.base import PlatformFacts
from registry.services.taxonomy import localized_name

SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
SCAN_BATCH = 2000
FINDING_TABLE = Finding.__table__  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time
FINDING_COLUMNS = ("system_id", "rule_code", "severity", "details", "detected_at")


def build_context(
    session: Session, system_ids: Collection[int] | None, today: date | None = None
) -> RuleContext:
    """The facts the rules need about these systems (``None``: the whole portfolio)."""
    platforms = list(
        session.execute(
            select(col(InformationSystem.id), col(InformationSystem.code), col(InformationSystem.name)).where(
                col(InformationSystem.is_shared_platform).is_(True),
                col(InformationSystem.scope_level) == "central",
                col(InformationSystem.status) == SystemStatus.IN_OPERATION,
            )
        )
    )
    platform_caps: dict[int, set[int]] = defaultdict(set)
    if platforms:
        for system_id, capability_id in session.execute(
            select(col(SystemCapabilityLink.system_id), col(SystemCapabilityLink.capability_id)).where(
                col(SystemCapabilityLink.system_id).in_([p.id for p in platforms])
            )
        ):
            platform_caps[system_id].add(capability_id)
    shared = frozenset(
        session.scalars(
            select(col(InformationSystem.id)).where(col(InformationSystem.is_shared_platform).is_(True))
        )
    )

    edges = select(col(Dependency.source_id), col(Dependency.target_id))
    reports = select(col(UsageReport.system_id), col(UsageReport.period_end), col(UsageReport.active_users))
    if system_ids is not None:
        edges = edges.where(col(Dependency.source_id).in_(system_ids))
        reports = reports.where(col(UsageReport.system_id).in_(system_ids))
    depends_on: dict[int, set[int]] = defaultdict(set)
    for source, target in session.execute(edges):
        depends_on[source].add(target)
    last_usage: dict[int, tuple[date, int | None]] = {}
    for system_id, period_end, active in session.execute(reports):
        if system_id not in last_usage or period_end > last_usage[system_id][0]:
            last_usage[system_id] = (period_end, active)
    return RuleContext(
        today=today or date.today(),
        central_platforms=[
            PlatformFacts(p.id, p.code, p.name, frozenset(platform_caps[p.id])) for p in platforms
        ],
        shared_platform_ids=frozenset(i for i in shared if i is not None),
        depends_on={k: frozenset(v) for k, v in depends_on.items()},
        last_usage=last_usage,
        capability_codes={
            row.id: row.code for row in session.execute(select(col(Capability.id), col(Capability.code)))
        },
    )


def evaluate(system: InformationSystem, context: RuleContext) -> list[Violation]:
    found = (rule.evaluate(system, context) for rule in RULES)
    return [violation for violation in found if violation is not None]


def refresh_findings(
    session: Session,
    systems: Iterable[InformationSystem],
    today: date | None = None,
    context: RuleContext | None = None,
) -> dict[int, list[Violation]]:
    """Replace the stored findings of ``systems`` with what the rules say now (no commit)."""
    systems = [s for s in systems if s.id is not None]
    if not systems:
        return {}
    ids: list[int] = [s.id for s in systems if s.id is not None]
    context = context or build_context(session, ids, today)
    session.execute(delete(Finding).where(col(Finding.system_id).in_(ids)))
    results: dict[int, list[Violation]] = {}
    detected_at = driver_value(session, FINDING_TABLE.c.detected_at, datetime.now(UTC))
    rows = []
    for system in systems:
        violations = evaluate(system, context)
        results[system.id] = violations  # type: ignore[index]  # ids of saved rows are set; SQLModel types them optional
        rows += [
            (system.id, v.rule.code, v.rule.severity, json_text(v.details), detected_at) for v in violations
        ]
    # Tuples straight to the driver: an import refreshes the findings of 100,000 systems at once.
    insert_tuples(session, FINDING_TABLE, FINDING_COLUMNS, rows)
    return results


def refresh_portfolio(
    session: Session, *, today: date | None = None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Recompute every system's findings in batches; returns how many findings there are now."""
    total = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
    context = build_context(session, None, today)
    done, last_id = 0, 0
    while True:
        batch = list(
            session.scalars(
                select(InformationSystem)
                .where(col(InformationSystem.id) > last_id)
                .order_by(col(InformationSystem.id))
                .limit(SCAN_BATCH)
                .options(
                    # Relationships, which SQLModel types as their lists.
                    selectinload(InformationSystem.capabilities),  # type: ignore[arg-type]  # a relationship, which SQLModel types as its list
                    selectinload(InformationSystem.user_agencies),  # type: ignore[arg-type]  # a relationship, which SQLModel types as its list
                )
            )
        )
        if not batch:
            break
        refresh_findings(session, batch, context=context)
        done += len(batch)
        last_id = batch[-1].id  # type: ignore[assignment]  # ids of saved rows are set; SQLModel types them optional
        if progress:
            progress(done, total)
        session.commit()
        session.expunge_all()
    return session.scalar(select(func.count()).select_from(Finding)) or 0


@dataclass
class FindingView:
    rule: Rule
    severity: str
    title: str
    message: str
    details: dict[str, Any]


def describe(rule: Rule, details: dict[str, Any], names: dict[str, str] | None = None) -> FindingView:
    params = dict(details)
    if "capabilities" in params:
        params["capabilities"] = ", ".join((names or {}).get(code, code) for code in params["capabilities"])
    template = str(rule.message)  # translated now, in the reader's language
    try:
        message = template % params if "%(" in template else template
    except (KeyError, ValueError, TypeError):
        message = template
    return FindingView(rule, rule.severity, str(rule.title), message, details)


def capability_names(session: Session, locale: str) -> dict[str, str]:
    """Capability names by code in the reader's language, for the messages that list them."""
    return {c.code: localized_name(c, locale) for c in session.scalars(select(Capability))}


def findings_of(session: Session, system_id: int, locale: str) -> list[FindingView]:
    stored = list(session.scalars(select(Finding).where(col(Finding.system_id) == system_id)))
    names = capability_names(session, locale) if stored else {}
    views = [describe(rule, f.details, names) for f in stored if (rule := rule_by_code(f.rule_code))]
    return sorted(views, key=lambda v: (SEVERITY_ORDER.get(Severity(v.severity), 9), int(v.rule.code[1:])))
