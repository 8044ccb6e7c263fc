"""Writing a planned import: every row, or nothing, through the operations a form uses.

New systems are inserted with set-based statements (100,000 rows in well under a minute), then
follow the same consequences as any save (:mod:`registry.services.consequences`): rules and,
for a small import, overlap warnings; updates go through the edit operation one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlmodel import Session, col

from registry import search_index
from registry.auth.actor import Actor
from registry.bulk import converter, driver_value, insert_tuples
from registry.db import ids_by_code
from registry.models import (
    Agency,
    Dependency,
    InformationSystem,
    SystemCapabilityLink,
    SystemDataDomainLink,
    SystemUserAgencyLink,
)
from registry.models.system import DATE_FIELDS
from registry.services import audit, consequences
from registry.services.codes import number_in, reserve_codes
from registry.services.import_plan import (
    Action,
    ImportPlan,
    ImportRefusedError,
    ImportResult,
    RowPlan,
    plan_import,
)
from registry.services.systems import (
    SystemInput,
    search_text_of,
    update_system,
)
from registry.text import fold

SYSTEM_TABLE = InformationSystem.__table__  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time
"""Core inserts: the ORM's bulk path validates every row through the model, ten times slower."""


def commit_import(
    session: Session,
    actor: Actor,
    filename: str,
    data: bytes,
    *,
    fmt: str | None = None,
    expected_fingerprint: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    plan: ImportPlan | None = None,
    default_owner: str | None = None,
) -> ImportResult:
    """Plan again on the registry as it is now and write everything (flushed), or nothing.

    ``expected_fingerprint`` is the preview's: if the registry changed in between so that the
    same file would now do something else, nothing is written and the caller shows the new plan.
    ``plan`` skips planning again, for a caller that planned this file in this session a moment
    ago (the command line); ``default_owner`` is the preview's. Every row is saved as a form
    saves it (:mod:`registry.services.consequences`, batched): rules, and for an import of up to
    ``consequences.LIVE_CHECK_LIMIT`` systems their overlap warnings; a larger one's come from the next scan.
    The caller commits.
    """
    plan = plan or plan_import(session, actor, filename, data, fmt=fmt, default_owner=default_owner)
    return commit_plan(session, actor, plan, expected_fingerprint=expected_fingerprint, progress=progress)


def commit_plan(
    session: Session,
    actor: Actor,
    plan: ImportPlan,
    *,
    expected_fingerprint: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Write a plan made on this session a moment ago: the one write of every import door.

    The command line plans a file it has just read; the web's import job plans the rows kept
    at upload. Both end here, so an import writes the same way whoever starts it.
    """
    if not plan.ok:
        raise ImportRefusedError(plan, _l("The file has problems; nothing was imported."))
    if expected_fingerprint is not None and plan.fingerprint() != expected_fingerprint:
        raise ImportRefusedError(
            plan, _l("The registry changed since the preview; check the new preview and import again.")
        )
    with consequences.batched(session):
        result = _write(session, actor, plan, progress)
    session.flush()
    return result


def _write(
    session: Session, actor: Actor, plan: ImportPlan, progress: Callable[[int, int], None] | None
) -> ImportResult:
    agency_ids = _create_agencies(session, actor, plan)
    creates = [row for row in plan.rows if row.action == Action.CREATE]
    updates = [row for row in plan.rows if row.action == Action.UPDATE]
    for row in creates + updates:
        assert row.data is not None
        row.data = _remap(row.data, agency_ids)
    total = len(creates) + len(updates)
    ids = _insert_systems(session, actor, creates, progress, total)
    _apply_updates(
        session,
        actor,
        [row for row in updates if row.changed != ["depends_on"]],
        progress,
        len(creates),
        total,
    )
    _insert_dependencies(session, actor, creates + updates, ids)
    consequences.follow_save(session, [_rule_subject(row) for row in creates], actor=actor)
    if any(row.depends_on for row in updates):  # R7 (isolated) may no longer hold
        consequences.follow_save(
            session,
            [session.get(InformationSystem, row.system_id) for row in updates if row.depends_on],
            actor=actor,
        )
    codes = [row.code for row in creates if row.code]
    counts = plan.counts
    audit.record(
        session,
        actor,
        "import.commit",
        object_type="import",
        object_id=plan.digest[:16],
        object_label=plan.filename[:200],
        after={
            "format": plan.format,
            "filename": plan.filename,
            "sha256": plan.digest,
            "created": counts[Action.CREATE],
            "updated": counts[Action.UPDATE],
            "unchanged": counts[Action.UNCHANGED],
            "agencies": [agency.code for agency in plan.new_agencies],
            **_default_owner_note(plan),
        },
    )
    return ImportResult(
        created=counts[Action.CREATE],
        updated=counts[Action.UPDATE],
        unchanged=counts[Action.UNCHANGED],
        agencies=len(plan.new_agencies),
        codes=codes,
    )


def _default_owner_note(plan: ImportPlan) -> dict[str, Any]:
    """The default managing agency, for the trail, only when one was chosen (older events lack it)."""
    if not plan.default_owner:
        return {}
    return {"default_owner": plan.default_owner, "defaulted": plan.defaulted}


def _create_agencies(session: Session, actor: Actor, plan: ImportPlan) -> dict[int, int]:
    """Insert the new agencies; map their placeholder ids (-1, -2…) to the real ones."""
    mapping: dict[int, int] = {}
    known = ids_by_code(session, Agency)
    for placeholder, agency in enumerate(plan.new_agencies, 1):
        row = Agency(
            code=agency.code,
            name=agency.name,
            level=agency.level,
            block=agency.block,
            parent_id=known.get(agency.parent_code) if agency.parent_code else None,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        known[agency.code] = row.id
        mapping[-placeholder] = row.id
        audit.record(
            session,
            actor,
            "agency.create",
            object_type="agency",
            object_id=agency.code,
            object_label=agency.name,
            after={"code": agency.code, "name": agency.name, "level": agency.level, "block": agency.block},
        )
    return mapping


def _remap(data: SystemInput, agency_ids: dict[int, int]) -> SystemInput:
    """Replace the placeholder ids of agencies created by this import with their real ids."""
    if not agency_ids:
        return data

    def real(value: int | None) -> int | None:
        return agency_ids.get(value, value) if value is not None else None

    return data.replace(
        owner_agency_id=real(data.owner_agency_id),
        operator_agency_id=real(data.operator_agency_id),
        user_agency_ids=[agency_ids.get(a, a) for a in data.user_agency_ids],
    )


def _allocate_codes(session: Session, rows: list[RowPlan], year: int) -> None:
    """Give every new row without a code of its own a fresh code of ``year``, above the codes
    of that year the file itself brings."""
    brought = [number_in(row.code, year) for row in rows if row.code]
    without = [row for row in rows if not row.code]
    fresh = reserve_codes(session, year, len(without), above=max([n for n in brought if n] or [0]))
    for row, code in zip(without, fresh, strict=True):
        row.code = code


SYSTEM_COLUMNS = (
    *InformationSystem.EDITABLE_FIELDS,
    "code",
    "external_id",
    "instance_of_id",
    "owner_agency_id",
    "operator_agency_id",
    "search_text",
    "name_key",
    "version",
    "created_at",
    "updated_at",
)
"""The columns a new system's row fills, in the order of :func:`_system_row`'s tuples."""
DATE_POSITIONS = [i for i, name in enumerate(InformationSystem.EDITABLE_FIELDS) if name in DATE_FIELDS]


def _system_row(row: RowPlan, stamp: Any, day: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The new system's row as the driver takes it (``stamp`` and ``day`` from :mod:`registry.bulk`)."""
    data = row.data
    assert data is not None and row.code is not None
    values = [getattr(data, name) for name in InformationSystem.EDITABLE_FIELDS]
    for position in DATE_POSITIONS:
        values[position] = day(values[position])
    return (
        *values,
        row.code,
        row.external_id,
        data.instance_of_id,
        data.owner_agency_id,
        data.operator_agency_id,
        search_text_of(row.code, data.name, data.description, data.purpose),
        fold(data.name or "")[:200],
        1,
        stamp,
        stamp,
    )


def _snapshot(row: RowPlan) -> dict[str, Any]:
    """What :func:`registry.services.systems.system_snapshot` would say of the new system, as
    JSON values (the date as ISO text), exactly as the trail stores it."""
    data = row.data
    assert data is not None
    values: dict[str, Any] = {name: getattr(data, name) for name in InformationSystem.EDITABLE_FIELDS}
    codes = row.values
    values.update(
        owner_agency=codes.get("owner_agency"),
        operator_agency=codes.get("operator_agency") if data.operator_agency_id else None,
        user_agencies=sorted(codes.get("user_agencies") or []),
        capabilities=sorted(codes.get("capabilities") or []),
        data_domains=sorted(codes.get("data_domains") or []),
        instance_of=codes.get("instance_of") if data.instance_of_id else None,
    )
    for name in DATE_FIELDS:
        if values[name] is not None:
            values[name] = values[name].isoformat()
    return {"code": row.code, "external_id": row.external_id, **values}


def _insert_systems(
    session: Session,
    actor: Actor,
    rows: list[RowPlan],
    progress: Callable[[int, int], None] | None,
    total: int,
    batch: int = 1000,
) -> dict[str, int]:
    """Insert the new systems with set-based statements: platforms first, so deployments that
    name a platform created by the same file find its id. Returns their ids by code and by
    external id."""
    if not rows:
        return {}
    now = datetime.now(UTC)
    _allocate_codes(session, rows, now.year)
    platforms = [row for row in rows if row.data is not None and row.data.is_shared_platform]
    others = [row for row in rows if row.data is not None and not row.data.is_shared_platform]
    ids: dict[str, int] = {}
    with search_index.bulk_inserts(session):
        _insert_groups(session, (platforms, others), ids, now, progress, total, batch)
    for row in rows:
        row.system_id = ids[row.code]  # type: ignore[index]  # codes are allocated before this point
    audit.record_many(
        session,
        actor,
        (
            {
                "action": "system.create",
                "object_type": "system",
                "object_id": row.code,
                "object_label": row.data.name if row.data else "",
                "system_id": row.system_id,
                "after": _snapshot(row),
            }
            for row in rows
        ),
        native=True,
    )
    return ids


def _rule_subject(row: RowPlan) -> Any:
    """What the justification rules read of a new system, without loading it back as an object."""
    data = row.data
    assert data is not None
    return SimpleNamespace(
        **data.as_dict(),
        id=row.system_id,
        capabilities=[SimpleNamespace(id=c) for c in data.capability_ids],
        user_agencies=data.user_agency_ids,
    )


def _insert_groups(
    session: Session,
    groups: tuple[list[RowPlan], ...],
    ids: dict[str, int],
    now: datetime,
    progress: Callable[[int, int], None] | None,
    total: int,
    batch: int,
) -> None:
    """Insert each group in batches (Core executemany), learning the new ids by code as it goes."""
    done = 0
    codes: dict[str, str] = {}
    stamp = driver_value(session, SYSTEM_TABLE.c.created_at, now)
    day = converter(session, SYSTEM_TABLE.c.operating_rules_date)
    for group in groups:
        for start in range(0, len(group), batch):
            chunk = group[start : start + batch]
            for row in chunk:
                assert row.data is not None
                if row.data.instance_of_id is not None and row.data.instance_of_id < 0:
                    platform = str(row.values.get("instance_of"))
                    row.data = row.data.replace(instance_of_id=ids[platform])
                    row.values["instance_of"] = codes[platform]
            insert_tuples(
                session, SYSTEM_TABLE, SYSTEM_COLUMNS, [_system_row(row, stamp, day) for row in chunk]
            )
            ids.update(
                session.execute(
                    select(col(InformationSystem.code), col(InformationSystem.id)).where(
                        col(InformationSystem.code).in_([row.code for row in chunk])
                    )
                ).all()
            )
            for row in chunk:
                assert row.code is not None  # allocated above
                codes[row.code] = row.code
                if row.external_id:
                    ids[row.external_id], codes[row.external_id] = ids[row.code], row.code
            _insert_links(session, chunk, ids)
            done += len(chunk)
            if progress:
                progress(done, total)


def _insert_dependencies(session: Session, actor: Actor, rows: list[RowPlan], ids: dict[str, int]) -> None:
    """Add the dependencies the file names, audited like additions made on a system's page."""
    wanted = [(row, key, kind, note) for row in rows for key, kind, note in row.depends_on]
    if not wanted:
        return
    known = {}
    for system_id, code, external_id in session.execute(
        select(col(InformationSystem.id), col(InformationSystem.code), col(InformationSystem.external_id))
    ):
        known[code] = (system_id, code)
        if external_id:
            known.setdefault(external_id, (system_id, code))
    values, events = [], []
    for row, key, kind, note in wanted:
        source = row.system_id if row.system_id is not None else ids[row.code]  # type: ignore[index]  # codes are allocated before this point
        target_id, target_code = known[key]
        values.append({"source_id": source, "target_id": target_id, "kind": kind, "note": note})
        source_code = row.code
        events.append(
            {
                "action": "dependency.add",
                "object_type": "dependency",
                "object_id": f"{source_code}>{target_code}",
                "object_label": f"{source_code} → {target_code}",
                "system_id": source,
                "after": {"source": source_code, "target": target_code, "kind": kind, "note": note},
            }
        )
    session.execute(insert(Dependency.__table__), values)  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time
    audit.record_many(session, actor, events, native=True)


def _insert_links(session: Session, rows: list[RowPlan], ids: dict[str, int]) -> None:
    users, capabilities, domains = [], [], []
    for row in rows:
        data = row.data
        assert data is not None
        system_id = ids[row.code]  # type: ignore[index]  # codes are allocated before this point
        users += [(system_id, a) for a in data.user_agency_ids]
        capabilities += [(system_id, c) for c in data.capability_ids]
        domains += [(system_id, d) for d in data.data_domain_ids]
    for model, column, values in (
        (SystemUserAgencyLink, "agency_id", users),
        (SystemCapabilityLink, "capability_id", capabilities),
        (SystemDataDomainLink, "data_domain_id", domains),
    ):
        insert_tuples(session, model.__table__, ("system_id", column), values)  # type: ignore[union-attr]  # SQLModel declares __table__ at run time


def _apply_updates(
    session: Session,
    actor: Actor,
    rows: list[RowPlan],
    progress: Callable[[int, int], None] | None,
    done: int,
    total: int,
) -> None:
    """Updates go through the edit service one by one: audited diffs, versions, findings."""
    for row in rows:
        system = session.get(InformationSystem, row.system_id)
        assert system is not None and row.data is not None
        update_system(session, system, row.data, actor=actor, expected_version=system.version)
        done += 1
        if progress and done % 100 == 0:
            progress(done, total)
