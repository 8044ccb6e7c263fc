"""Dependencies between systems: reading both directions and editing them with checks."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import DependencyKind
from registry.errors import NotFoundError, ValidationError
from registry.models import Dependency, InformationSystem, UsageReport
from registry.services import audit
from registry.services.findings import refresh_findings
from registry.text import clean_line


@dataclass
class Edge:
    dependency: Dependency
    other: InformationSystem


@dataclass
class SystemNeighbourhood:
    """What the detail page shows around a system."""

    outgoing: list[Edge]
    incoming: list[Edge]
    incoming_count: int
    deployments: list[InformationSystem]
    deployment_count: int
    usage_reports: list[UsageReport]


DEPLOYMENTS_SHOWN = 50
INCOMING_SHOWN = 50
"""A national platform has thousands of dependants; the page shows the first and counts all."""


def neighbourhood(session: Session, system: InformationSystem) -> SystemNeighbourhood:
    outgoing = session.execute(
        select(Dependency, InformationSystem)
        .join(InformationSystem, col(InformationSystem.id) == col(Dependency.target_id))
        .where(col(Dependency.source_id) == system.id)
        .order_by(col(InformationSystem.name_key))
    ).all()
    incoming = session.execute(
        select(Dependency, InformationSystem)
        .join(InformationSystem, col(InformationSystem.id) == col(Dependency.source_id))
        .where(col(Dependency.target_id) == system.id)
        .order_by(col(InformationSystem.name_key))
        .limit(INCOMING_SHOWN)
    ).all()
    incoming_count = session.scalar(
        select(func.count()).select_from(Dependency).where(col(Dependency.target_id) == system.id)
    )
    deployment_count = session.scalar(
        select(func.count())
        .select_from(InformationSystem)
        .where(col(InformationSystem.instance_of_id) == system.id)
    )
    deployments = list(
        session.scalars(
            select(InformationSystem)
            .where(col(InformationSystem.instance_of_id) == system.id)
            .order_by(col(InformationSystem.name_key))
            .limit(DEPLOYMENTS_SHOWN)
        ).unique()
    )
    reports = list(
        session.scalars(
            select(UsageReport)
            .where(col(UsageReport.system_id) == system.id)
            .order_by(col(UsageReport.period_start).desc())
        )
    )
    return SystemNeighbourhood(
        outgoing=[Edge(d, s) for d, s in outgoing],
        incoming=[Edge(d, s) for d, s in incoming],
        incoming_count=incoming_count or 0,
        deployments=deployments,
        deployment_count=deployment_count or 0,
        usage_reports=reports,
    )


def _ensure_may_edit(actor: Actor, source: InformationSystem) -> None:
    policy.ensure(
        policy.can_edit_system(actor, source.owner_agency_id, source.status),
        _l("Only those who may edit this system may change its dependencies."),
    )


def _described(dependency: Dependency, source_code: str, target_code: str) -> dict[str, object]:
    return {"source": source_code, "target": target_code, "kind": dependency.kind, "note": dependency.note}


def add_dependency(
    session: Session,
    source: InformationSystem,
    *,
    actor: Actor,
    target_code: str,
    kind: str,
    note: str | None = None,
) -> Dependency:
    """Record that ``source`` depends on the system with public code ``target_code``."""
    _ensure_may_edit(actor, source)
    errors: dict[str, list[object]] = {}
    code = (clean_line(target_code) or "").upper()
    target = (
        session.scalar(select(InformationSystem).where(col(InformationSystem.code) == code)) if code else None
    )
    if not code:
        errors["target_code"] = [_l("Enter the public code of the system depended on.")]
    elif target is None:
        errors["target_code"] = [_l("No system has the code %(code)s.", code=code)]
    elif target.id == source.id:
        errors["target_code"] = [_l("A system cannot depend on itself.")]
    if kind not in DependencyKind._value2member_map_:
        errors["kind"] = [_l("Choose a valid kind of dependency.")]
    note = clean_line(note)
    if note and len(note) > 500:
        errors["note"] = [
            _l("Must be at most %(limit)s characters (now %(length)s).", limit=500, length=len(note))
        ]
    if not errors and target is not None:
        duplicate = session.scalar(
            select(col(Dependency.id)).where(
                col(Dependency.source_id) == source.id,
                col(Dependency.target_id) == target.id,
                col(Dependency.kind) == kind,
            )
        )
        if duplicate is not None:
            errors["target_code"] = [_l("This dependency is already recorded.")]
    if errors:
        raise ValidationError(errors)
    assert target is not None and source.id is not None and target.id is not None
    dependency = Dependency(source_id=source.id, target_id=target.id, kind=kind, note=note)
    session.add(dependency)
    session.flush()
    audit.record(
        session,
        actor,
        "dependency.add",
        object_type="dependency",
        object_id=dependency.id,
        object_label=f"{source.code} → {target.code}",
        system_id=source.id,
        after=_described(dependency, source.code, target.code),
    )
    refresh_findings(session, [source])  # R7: connected or isolated
    session.flush()
    return dependency


def remove_dependency(
    session: Session, source: InformationSystem, dependency_id: int, *, actor: Actor
) -> None:
    _ensure_may_edit(actor, source)
    dependency = session.get(Dependency, dependency_id)
    if dependency is None or dependency.source_id != source.id:
        raise NotFoundError(str(dependency_id))
    target_code = session.scalar(
        select(col(InformationSystem.code)).where(col(InformationSystem.id) == dependency.target_id)
    )
    before = _described(dependency, source.code, target_code or "")
    session.delete(dependency)
    audit.record(
        session,
        actor,
        "dependency.remove",
        object_type="dependency",
        object_id=dependency_id,
        object_label=f"{source.code} → {target_code}",
        system_id=source.id,
        before=before,
    )
    refresh_findings(session, [source])
    session.flush()
