"""The inventory as flat rows, read in batches so that 100,000 systems take flat memory.

Every format writes the same columns in the same order (``COLUMNS``), so a CSV, an XLSX sheet
and a JSON array hold the same data and an import can read any of them back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from registry.filters import SystemFilter, filter_conditions
from registry.models import (
    Agency,
    Capability,
    DataDomain,
    InformationSystem,
    SystemCapabilityLink,
    SystemDataDomainLink,
    SystemUserAgencyLink,
)

BATCH = 2000
LIST_SEPARATOR = "; "
"""Several values in one cell (user agencies, capabilities) are codes joined by this."""

COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "description",
    "purpose",
    "status",
    "scope_level",
    "is_shared_platform",
    "instance_of",
    "owner_agency",
    "owner_agency_name",
    "operator_agency",
    "user_agencies",
    "legal_basis",
    "mandate",
    "operating_rules_ref",
    "operating_rules_date",
    "usage_orientation",
    "capabilities",
    "data_domains",
    "hosting",
    "security_level",
    "estimated_cost_vnd",
    "funding_source",
    "target_users",
    "active_users",
    "overlap_justification",
    "external_id",
    "version",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class ExportScope:
    """What is exported: the list page's filter, narrowed to one agency for submitters."""

    flt: SystemFilter
    owner_agency_id: int | None = None


def count(session: Session, scope: ExportScope) -> int:
    conditions = _conditions(session, scope)
    return session.scalar(select(func.count()).select_from(InformationSystem).where(*conditions)) or 0


def _conditions(session: Session, scope: ExportScope) -> list[Any]:
    conditions = filter_conditions(session, scope.flt)
    if scope.owner_agency_id is not None:
        conditions.append(InformationSystem.owner_agency_id == scope.owner_agency_id)
    return conditions


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def rows(session: Session, scope: ExportScope, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every matching system as a dict of ``COLUMNS``, in code order, ``batch`` at a time."""
    conditions = _conditions(session, scope)
    owner, operator, platform = aliased(Agency), aliased(Agency), aliased(InformationSystem)
    s = InformationSystem
    query = (
        select(
            s.id,
            s.code,
            s.name,
            s.description,
            s.purpose,
            s.status,
            s.scope_level,
            s.is_shared_platform,
            platform.code.label("instance_of"),
            owner.code.label("owner_agency"),
            owner.name.label("owner_agency_name"),
            operator.code.label("operator_agency"),
            s.legal_basis,
            s.mandate,
            s.operating_rules_ref,
            s.operating_rules_date,
            s.usage_orientation,
            s.hosting,
            s.security_level,
            s.estimated_cost_vnd,
            s.funding_source,
            s.target_users,
            s.active_users,
            s.overlap_justification,
            s.external_id,
            s.version,
            s.created_at,
            s.updated_at,
        )
        .join(owner, owner.id == s.owner_agency_id)
        .outerjoin(operator, operator.id == s.operator_agency_id)
        .outerjoin(platform, platform.id == s.instance_of_id)
        .where(*conditions)
        .order_by(s.code)
    )
    last = ""
    while True:
        chunk = list(session.execute(query.where(s.code > last).limit(batch)))
        if not chunk:
            return
        ids = [r.id for r in chunk]
        users = _codes(
            session,
            select(SystemUserAgencyLink.system_id, Agency.code).join(Agency),
            SystemUserAgencyLink.system_id,
            ids,
        )
        caps = _codes(
            session,
            select(SystemCapabilityLink.system_id, Capability.code).join(Capability),
            SystemCapabilityLink.system_id,
            ids,
        )
        domains = _codes(
            session,
            select(SystemDataDomainLink.system_id, DataDomain.code).join(DataDomain),
            SystemDataDomainLink.system_id,
            ids,
        )
        for r in chunk:
            values = r._asdict()
            system_id = values.pop("id")
            values["user_agencies"] = LIST_SEPARATOR.join(users.get(system_id, ()))
            values["capabilities"] = LIST_SEPARATOR.join(caps.get(system_id, ()))
            values["data_domains"] = LIST_SEPARATOR.join(domains.get(system_id, ()))
            yield {name: _iso(values.get(name)) for name in COLUMNS}
        last = chunk[-1].code
        session.expunge_all()


def _codes(session: Session, query: Any, key: Any, ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for system_id, code in session.execute(query.where(key.in_(ids))):
        found[system_id].append(code)
    return {k: sorted(v) for k, v in found.items()}
