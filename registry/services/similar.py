"""Systems similar to a proposal being typed: the live panel and ``POST /api/v1/similar``.

The request path never fits the engine: it queries the per-process :class:`PortfolioIndex`,
which only catches up with what changed since its last use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from registry.choices import AgencyLevel
from registry.models import Capability, InformationSystem
from registry.models.system import TEXT_LIMITS
from registry.services.overlaps import EXCLUDED_STATUSES, describe_reason, function_names, portfolio_index
from registry.text import clean_line, clean_text

MAX_MATCHES = 20
MIN_TEXT = 4
PLATFORM_FIRST = 0.5
"""Score from which a shared platform is shown first ("deploy it instead"): more likely than
not to do the job proposed."""
OWN_AGENCY_FIRST = 0.25
"""Score from which a system of the proposer's own agency comes next: the agency knows its own
systems, so a weaker likeness is still worth putting in front of it."""
FORCED_LIMIT = 300
"""Own-agency systems and central platforms scored on every query, whatever retrieval finds."""
"""Fewer characters than this in name and description together say too little to compare."""


@dataclass
class SimilarQuery:
    name: str | None = None
    description: str | None = None
    purpose: str | None = None
    capability_ids: list[int] = field(default_factory=list)
    scope_level: str | None = None
    owner_agency_id: int | None = None
    system_id: int | None = None
    """The system being edited, left out of its own results."""

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> SimilarQuery:
        """Read a JSON object or a form leniently: wrong types are ignored, not fatal."""

        def text(key: str, multiline: bool = False) -> str | None:
            value = data.get(key)
            if not isinstance(value, str):
                return None
            value = (clean_text if multiline else clean_line)(value)
            return value[: TEXT_LIMITS.get(key, 4000)] if value else None

        def ints(key: str) -> list[int]:
            value = data.get(key)
            values = value if isinstance(value, list) else [value] if value is not None else []
            return [int(v) for v in values if not isinstance(v, bool) and str(v).strip().isdecimal()][:50]

        owner = ints("owner_agency_id")
        system = ints("system_id")
        level = data.get("scope_level")
        return cls(
            name=text("name"),
            description=text("description", True),
            purpose=text("purpose", True),
            capability_ids=ints("capability_ids"),
            scope_level=level if isinstance(level, str) and level in AgencyLevel._value2member_map_ else None,
            owner_agency_id=owner[0] if owner else None,
            system_id=system[0] if system else None,
        )

    @property
    def too_short(self) -> bool:
        return len((self.name or "") + (self.description or "")) < MIN_TEXT


@dataclass
class SimilarMatch:
    system: InformationSystem
    score: float
    relation: str
    reasons: list[str]
    kind: str = "other"
    """``shared_platform`` (deploy it instead), ``own_agency`` (the proposer already has one) or ``other``."""


def find_similar(
    session: Session, query: SimilarQuery, *, k: int = 8, locale: str = "vi"
) -> list[SimilarMatch]:
    if query.too_short:
        return []
    k = max(1, min(k, MAX_MATCHES))
    capabilities = {c.id: c for c in session.scalars(select(Capability))}
    record = {
        "id": f"proposal:{query.system_id}" if query.system_id else "proposal",
        "name": query.name or "",
        "description": query.description or "",
        "purpose": query.purpose,
        "capabilities": sorted(capabilities[i].code for i in query.capability_ids if i in capabilities)
        or None,
        "level": query.scope_level,
        "agency": query.owner_agency_id,
    }
    finder = portfolio_index().current(session)
    own = _own_agency_systems(session, query.owner_agency_id)
    platforms = _central_platforms(session)
    found = [
        m
        for m in finder.query(record, k=max(3 * k, 30), always=own | platforms)
        if m["id"] != query.system_id
    ]
    matches = sorted(found, key=lambda m: (_tier(m, own, platforms), -m["score"]))[:k]
    wanted = {m["id"] for m in matches} | _platforms(matches)
    systems = {
        s.id: s
        for s in session.scalars(
            select(InformationSystem).where(col(InformationSystem.id).in_(wanted))
        ).unique()
    }
    names = function_names(session, locale)
    kinds = {0: "shared_platform", 1: "own_agency"}
    return [
        SimilarMatch(
            systems[m["id"]],
            float(m["score"]),
            m["relation"],
            [text for r in m["reasons"] if (text := describe_reason(r, systems, names))],
            kinds.get(_tier(m, own, platforms), "other"),
        )
        for m in matches
        if m["id"] in systems
    ]


def _tier(match: dict[str, Any], own: set[int], platforms: set[int]) -> int:
    """What the person typing should see first: the platform to deploy instead, then what their
    own agency already runs, then everything else by score."""
    if match["score"] >= PLATFORM_FIRST and (match["id"] in platforms or match["relation"] == "reuse"):
        return 0
    return 1 if match["score"] >= OWN_AGENCY_FIRST and match["id"] in own else 2


def _own_agency_systems(session: Session, agency_id: int | None) -> set[int]:
    if agency_id is None:
        return set()
    query = (
        select(col(InformationSystem.id))
        .where(col(InformationSystem.owner_agency_id) == agency_id)
        .where(col(InformationSystem.status).not_in(EXCLUDED_STATUSES))
        .limit(FORCED_LIMIT)
    )
    return set(session.scalars(query))


def _central_platforms(session: Session) -> set[int]:
    query = (
        select(col(InformationSystem.id))
        .where(col(InformationSystem.is_shared_platform).is_(True))
        .where(col(InformationSystem.scope_level) == AgencyLevel.CENTRAL.value)
        .where(col(InformationSystem.status).not_in(EXCLUDED_STATUSES))
        .limit(FORCED_LIMIT)
    )
    return set(session.scalars(query))


def _platforms(matches: Iterable[dict[str, Any]]) -> set[int]:
    return {r["platform"] for m in matches for r in m["reasons"] if isinstance(r.get("platform"), int)}


def as_json(match: SimilarMatch, url: str) -> dict[str, Any]:
    system = match.system
    return {
        "code": system.code,
        "id": system.id,
        "name": system.name,
        "owner": system.owner.name,
        "status": system.status,
        "is_shared_platform": system.is_shared_platform,
        "score": round(match.score, 3),
        "relation": match.relation,
        "kind": match.kind,
        "reasons": match.reasons,
        "url": url,
    }
