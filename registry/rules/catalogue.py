"""The ten rules, from the directives: stop systems without basis, name who runs them, build
shared platforms centrally, connect rather than isolate, host on shared infrastructure, and
measure use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.choices import Hosting, Severity, SystemStatus
from registry.models import InformationSystem
from registry.rules.base import Rule, RuleContext

S = SystemStatus
PROPOSALS = frozenset({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED})
DEPLOYED = frozenset({S.IN_OPERATION})
LIVE = PROPOSALS | DEPLOYED

USAGE_REPORT_MAX_AGE = timedelta(days=366)
LOW_USE_SHARE = 0.1
"""Active users below this share of the target users count as low use (R9)."""


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def no_legal_basis(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    return {} if _blank(system.legal_basis) else None


def no_task_served(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    return {} if _blank(system.mandate) else None


def no_practical_grounding(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    if system.status in DEPLOYED:
        return {} if system.target_users is None and system.active_users is None else None
    return {} if system.target_users is None else None


def no_operating_rules(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    missing = []
    if system.status in DEPLOYED and _blank(system.operating_rules_ref):
        missing.append("operating_rules_ref")
    if _blank(system.usage_orientation):
        missing.append("usage_orientation")
    return {"missing": missing} if missing else None


def missing_agencies(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    missing = []
    if system.operator_agency_id is None:
        missing.append("operator_agency_id")
    if not system.user_agencies:
        missing.append("user_agency_ids")
    return {"missing": missing} if missing else None


def duplicates_central_platform(system: InformationSystem, context: RuleContext) -> dict[str, Any] | None:
    """A province or commune building for itself what a central shared platform already does."""
    if system.scope_level == "central" or system.is_shared_platform or system.instance_of_id is not None:
        return None
    mine = {c.id for c in system.capabilities if c.id is not None}
    shared_count: dict[int, int] = {}
    for capability_id in mine:
        for position in context.platforms_by_capability.get(capability_id, ()):
            shared_count[position] = shared_count.get(position, 0) + 1
    # The platform sharing most capabilities; on a tie, the first one listed.
    candidates = [
        (-count, position)
        for position, count in shared_count.items()
        if context.central_platforms[position].id != system.id
    ]
    if not candidates:
        return None
    best = context.central_platforms[min(candidates)[1]]
    shared = best.capability_ids & mine
    codes = sorted(context.capability_codes.get(c, str(c)) for c in shared)
    return {"platform_code": best.code, "platform": best.name, "capabilities": codes}


def isolated(system: InformationSystem, context: RuleContext) -> dict[str, Any] | None:
    if system.is_shared_platform or system.instance_of_id is not None:
        return None
    targets = context.depends_on.get(system.id or 0, frozenset())
    return None if targets & context.shared_platform_ids else {}


def own_infrastructure(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    return {} if system.hosting == Hosting.OWN_SERVER_ROOM else None


def no_recent_use(system: InformationSystem, context: RuleContext) -> dict[str, Any] | None:
    last = context.last_usage.get(system.id or 0)
    if last is None or last[0] < context.today - USAGE_REPORT_MAX_AGE:
        return {"last_report": last[0].isoformat() if last else None}
    active = last[1]
    if active is not None and system.target_users and active < LOW_USE_SHARE * system.target_users:
        return {"active_users": active, "target_users": system.target_users}
    return None


def no_security_level(system: InformationSystem, _context: RuleContext) -> dict[str, Any] | None:
    return {} if system.security_level is None else None


RULES: tuple[Rule, ...] = (
    Rule(
        "R1",
        Severity.HIGH,
        _l("No legal basis"),
        _l("No legal basis is given: a system may only be built or kept on a stated legal basis."),
        LIVE,
        no_legal_basis,
    ),
    Rule(
        "R2",
        Severity.HIGH,
        _l("No task served"),
        _l("It names no task or requirement that it serves."),
        LIVE,
        no_task_served,
    ),
    Rule(
        "R3",
        Severity.MEDIUM,
        _l("No practical grounding"),
        _l("No target users or measure of use is given, so its need cannot be judged."),
        LIVE,
        no_practical_grounding,
    ),
    Rule(
        "R4",
        Severity.MEDIUM,
        _l("No operating rules or usage orientation"),
        _l("Operating rules or the orientation for its use are missing."),
        LIVE,
        no_operating_rules,
    ),
    Rule(
        "R5",
        Severity.HIGH,
        _l("Missing operating or user agency"),
        _l("Every system must name its managing, operating and user agencies."),
        LIVE,
        missing_agencies,
    ),
    Rule(
        "R6",
        Severity.HIGH,
        _l("Duplicates a central shared platform"),
        _l(
            "The central shared platform %(platform)s already provides %(capabilities)s: "
            "deploy it instead of building locally."
        ),
        LIVE,
        duplicates_central_platform,
    ),
    Rule(
        "R7",
        Severity.MEDIUM,
        _l("Isolated"),
        _l("It connects to no shared platform or national database."),
        LIVE,
        isolated,
    ),
    Rule(
        "R8",
        Severity.LOW,
        _l("Own infrastructure"),
        _l("It runs in its own server room although shared data centres exist."),
        LIVE,
        own_infrastructure,
    ),
    Rule(
        "R9",
        Severity.MEDIUM,
        _l("No recent or low use"),
        _l(
            "In operation without a usage report in the last year, "
            "or used by under a tenth of its target users."
        ),
        DEPLOYED,
        no_recent_use,
    ),
    Rule(
        "R10",
        Severity.MEDIUM,
        _l("No security level"),
        _l("No information security level is declared."),
        LIVE,
        no_security_level,
    ),
)

_BY_CODE = {rule.code: rule for rule in RULES}


def rule_by_code(code: str) -> Rule | None:
    return _BY_CODE.get(code)
