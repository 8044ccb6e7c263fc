"""Systems, warnings and agencies as the REST API reads and writes them.

A system is exchanged as the interchange record (the inventory's columns, relations by code),
so what a client GETs it can PUT back unchanged. Writes go through the same services as the
forms (:func:`registry.services.systems.create_system` / ``update_system``), so the API applies
the same validation, permission checks, audit events and findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.errors import StaleEditError, ValidationError
from registry.interchange.record import WRITABLE_COLUMNS, CodeBook, RecordProblems, typed
from registry.models import Agency, DuplicateWarning, InformationSystem
from registry.services.list_figures import row_figures
from registry.services.systems import (
    SystemInput,
    create_system,
    system_snapshot,
    update_system,
    validate_system_input,
)


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            (value if value.tzinfo else value.replace(tzinfo=UTC))
            .astimezone(UTC)
            .isoformat(timespec="seconds")
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


def system_record(session: Session, system: InformationSystem, actor: Actor) -> dict[str, Any]:
    """The interchange record of one system, plus whether ``actor`` may edit it.

    Dates are ISO 8601 (Flask would otherwise write HTTP dates, which a PUT could not read back).
    """
    snapshot = system_snapshot(session, system)
    record: dict[str, Any] = {
        "code": system.code,
        **{column: iso(snapshot.get(column)) for column in WRITABLE_COLUMNS},
        "owner_agency_name": system.owner.name if system.owner else None,
        "external_id": system.external_id,
        "version": system.version,
        "created_at": iso(system.created_at),
        "updated_at": iso(system.updated_at),
        "editable": policy.can_edit_system(actor, system.owner_agency_id, system.status),
    }
    return record


def system_summaries(session: Session, systems: Sequence[InformationSystem]) -> list[dict[str, Any]]:
    """What the list page's rows show of each system, its open findings and best score included."""
    figures = row_figures(session, [s.id for s in systems if s.id is not None])
    return [
        {
            **system_summary(system),
            "open_findings": figures[system.id].open_findings,  # type: ignore[index]
            "best_warning_score": figures[system.id].best_score,  # type: ignore[index]
        }
        for system in systems
    ]


def system_summary(system: InformationSystem) -> dict[str, Any]:
    """What a list shows of a system; the full record is one more request away."""
    return {
        "code": system.code,
        "name": system.name,
        "status": system.status,
        "scope_level": system.scope_level,
        "is_shared_platform": bool(system.is_shared_platform),
        "owner_agency": system.owner.code if system.owner else None,
        "version": system.version,
        "updated_at": iso(system.updated_at),
    }


def _input_from(
    session: Session, payload: Mapping[str, Any], base: Mapping[str, Any]
) -> tuple[SystemInput, RecordProblems]:
    problems = RecordProblems()
    merged = {**base, **{k: v for k, v in payload.items() if k in WRITABLE_COLUMNS}}
    values = typed(merged, problems)
    data = CodeBook(session, all_systems=False).to_input(values, problems)
    return data, problems


def _refuse(problems: RecordProblems) -> None:
    raise ValidationError(problems.by_column)


def _by_column(exc: ValidationError) -> ValidationError:
    problems = RecordProblems()
    problems.extend(exc.errors)
    return ValidationError(problems.by_column)


def create_from_record(session: Session, payload: Mapping[str, Any], *, actor: Actor) -> InformationSystem:
    """Register a system from a record; errors are keyed by record column, not by input field."""
    data, problems = _input_from(session, payload, {})
    if problems:
        _refuse(problems)
    try:
        return create_system(session, data, actor=actor)
    except ValidationError as exc:
        raise _by_column(exc) from exc


def update_from_record(
    session: Session,
    system: InformationSystem,
    payload: Mapping[str, Any],
    *,
    actor: Actor,
    expected_version: int | None,
    partial: bool,
) -> InformationSystem:
    """Save a record over ``system``.

    ``partial=False`` (PUT) replaces the content: a writable column missing from the payload is
    cleared, except ``status``, which keeps its value because the workflow changes it.
    ``partial=True`` (PATCH) changes only the columns present.
    """
    policy.ensure(policy.can_edit_system(actor, system.owner_agency_id, system.status))
    base: dict[str, Any] = dict(system_snapshot(session, system)) if partial else {"status": system.status}
    data, problems = _input_from(session, payload, base)
    if problems:
        _refuse(problems)
    if expected_version != system.version:
        raise StaleEditError(system.version, expected_version)
    try:
        if _unchanged(validate_system_input(session, data, system_id=system.id), system):
            return system  # a client re-sending what it read changes nothing, not even the version
        return update_system(session, system, data, actor=actor, expected_version=expected_version)
    except ValidationError as exc:
        raise _by_column(exc) from exc


def correction_from_record(
    session: Session, system: InformationSystem, payload: Mapping[str, Any]
) -> SystemInput:
    """The system's content with the columns of ``payload`` changed (as PATCH reads them):
    the correction an attestation saves. Errors are keyed by record column."""
    data, problems = _input_from(session, payload, dict(system_snapshot(session, system)))
    if problems:
        _refuse(problems)
    return data


def by_column(exc: ValidationError) -> ValidationError:
    """A service's field errors renamed to record columns, as the API reports them."""
    return _by_column(exc)


def _unchanged(data: SystemInput, system: InformationSystem) -> bool:
    def comparable(values: SystemInput) -> dict[str, Any]:
        return {k: sorted(v) if isinstance(v, list) else v for k, v in values.as_dict().items()}

    return comparable(data) == comparable(SystemInput.from_system(system).normalised())


# --- warnings ------------------------------------------------------------------------------------


@dataclass
class WarningPage:
    items: list[DuplicateWarning]
    codes: dict[int, str]
    total: int


def list_warnings(
    session: Session,
    *,
    disposition: str | None,
    min_score: float | None,
    system_id: int | None = None,
    page: int,
    per_page: int,
) -> WarningPage:
    """Duplication warnings, highest score first, with the codes of the systems they pair."""
    conditions: list[Any] = []
    if disposition:
        conditions.append(col(DuplicateWarning.disposition) == disposition)
    if min_score is not None:
        conditions.append(col(DuplicateWarning.score) >= min_score)
    if system_id is not None:
        conditions.append(
            or_(
                col(DuplicateWarning.system_a_id) == system_id, col(DuplicateWarning.system_b_id) == system_id
            )
        )
    total = session.scalar(select(func.count()).select_from(DuplicateWarning).where(*conditions)) or 0
    items = list(
        session.scalars(
            select(DuplicateWarning)
            .where(*conditions)
            .order_by(col(DuplicateWarning.score).desc(), col(DuplicateWarning.id).asc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return WarningPage(items, system_codes(session, items), total)


def system_codes(session: Session, warnings: list[DuplicateWarning]) -> dict[int, str]:
    ids = {w.system_a_id for w in warnings} | {w.system_b_id for w in warnings}
    if not ids:
        return {}
    rows = session.execute(
        select(col(InformationSystem.id), col(InformationSystem.code)).where(
            col(InformationSystem.id).in_(ids)
        )
    )
    return {row.id: row.code for row in rows}


def warning_record(warning: DuplicateWarning, codes: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": warning.id,
        "system_a": codes.get(warning.system_a_id),
        "system_b": codes.get(warning.system_b_id),
        "score": round(float(warning.score), 4),
        "relation": warning.relation,
        "components": warning.components,
        "reasons": warning.reasons,
        "detector_version": warning.detector_version,
        "disposition": warning.disposition,
        "disposition_reason": warning.disposition_reason,
        "decided_by": warning.decided_by_label,
        "decided_at": iso(warning.decided_at),
        "version": warning.version,
    }


# --- agencies ------------------------------------------------------------------------------------


def list_agencies(
    session: Session, *, level: str | None, parent: str | None, page: int, per_page: int
) -> tuple[list[Agency], int, dict[int, str]]:
    """Agencies ordered by code, with the codes of their parents."""
    conditions: list[Any] = []
    if level:
        conditions.append(col(Agency.level) == level)
    if parent:
        parent_id = session.scalar(select(col(Agency.id)).where(col(Agency.code) == parent))
        conditions.append(
            col(Agency.parent_id) == parent_id if parent_id is not None else col(Agency.id).is_(None)
        )
    total = session.scalar(select(func.count()).select_from(Agency).where(*conditions)) or 0
    items = list(
        session.scalars(
            select(Agency)
            .where(*conditions)
            .order_by(col(Agency.code))
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return items, total, parent_codes(session, items)


def parent_codes(session: Session, agencies: list[Agency]) -> dict[int, str]:
    ids = {a.parent_id for a in agencies if a.parent_id is not None}
    if not ids:
        return {}
    return dict(
        session.execute(select(col(Agency.id), col(Agency.code)).where(col(Agency.id).in_(ids))).all()
    )


def agency_record(agency: Agency, parents: Mapping[int, str]) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "name_en": agency.name_en,
        "level": agency.level,
        "block": agency.block,
        "parent": parents.get(agency.parent_id) if agency.parent_id is not None else None,
    }
