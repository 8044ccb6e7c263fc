"""The inventory as it stood at a past instant, rebuilt by replaying the audit trail.

Every registration keeps the full system in its ``system.create`` event (relations by code),
every edit the changed values and the new version, every workflow step the new status and
version. Replaying a system's events in ``seq`` order up to the instant gives its row then, in
the inventory's ``COLUMNS``. The replay walks the trail one range of system ids at a time
(``ORDER BY system_id, seq``), so each system is finished, filtered and written before the next
range is read: 100,000 systems take flat memory.

What the trail cannot say, and how the rows say so (the export's metadata repeats it):

- systems written into the database without a ``system.create`` event (bulk loads that
  bypass the services) do not exist for the replay; the reconstruction starts at the first
  event;
- ``created_at`` and ``updated_at`` are the times of the events, which follow the stored
  timestamps by the few milliseconds of the transaction;
- agency names (``owner_agency_name``) are today's: agencies are not versioned by the trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from registry.exports.inventory import BATCH, COLUMNS, LINKED, LIST_SEPARATOR
from registry.filters import SystemFilter
from registry.models import Agency, AuditEvent, InformationSystem
from registry.models.agency import subtree_ids
from registry.text import fold, search_terms

CREATE = "system.create"
STEP_KEYS = ("status", "version")
"""What a workflow step (``system.submit``, ``system.approve``…) changes in the row."""


@dataclass(frozen=True)
class AsOfScope:
    instant: datetime
    flt: SystemFilter
    owner_agency_id: int | None = None


def parse_instant(value: str) -> datetime | None:
    """``YYYY-MM-DD`` (the end of that day) or ``YYYY-MM-DDTHH:MM[:SS]``, in UTC."""
    value = (value or "").strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_second(moment: datetime) -> str:
    """An instant as exports write it: ISO 8601, UTC, to the second (no microseconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def trail_start(session: Session) -> datetime | None:
    """When the audit trail's first event happened: nothing can be rebuilt before it."""
    first = session.scalar(select(func.min(AuditEvent.occurred_at)))
    return None if first is None else first.replace(tzinfo=UTC) if first.tzinfo is None else first


def notes(session: Session, scope: AsOfScope) -> str:
    """The metadata's account of how the rows were made, with what the trail lacks."""
    first = trail_start(session)
    created = select(AuditEvent.system_id).where(AuditEvent.action == CREATE)
    untracked = session.scalar(
        select(func.count()).select_from(InformationSystem).where(InformationSystem.id.not_in(created))
    )
    start = iso_second(first) if first else "never (the trail is empty)"
    return (
        f"as of {iso_second(scope.instant)}: reconstructed from the audit trail, which starts "
        f"{start}; {untracked or 0} systems registered without a creation event are not "
        "included; created_at/updated_at are the times of their events; agency names are today's"
    )


def count(session: Session, scope: AsOfScope) -> int:
    """Systems in the file: registrations up to the instant, or a counting pass when filtered."""
    if scope.flt.is_filtered or scope.owner_agency_id is not None:
        return sum(1 for _ in rows(session, scope))
    return (
        session.scalar(
            select(func.count(AuditEvent.system_id.distinct())).where(
                AuditEvent.action == CREATE, AuditEvent.occurred_at <= scope.instant
            )
        )
        or 0
    )


def rows(session: Session, scope: AsOfScope, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Each system registered by ``scope.instant``, as it stood then, in registration order.

    Everything is read on a connection of its own, never through ``session``: a web response
    streams after its request's session is closed.
    """
    e = AuditEvent
    query = select(e.system_id, e.seq, e.action, e.occurred_at, e.after).where(
        e.action.startswith("system."), e.occurred_at <= scope.instant, e.system_id.is_not(None)
    )
    engine = session.get_bind()
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        agencies = {row.code: row for row in connection.execute(select(Agency.id, Agency.code, Agency.name))}
        keep = _matcher(connection, scope, agencies)
        low, high = connection.execute(
            select(func.min(e.system_id), func.max(e.system_id)).where(e.action == CREATE)
        ).one()
        for start in range(low or 0, (high or -1) + 1, batch):
            chunk = query.where(e.system_id.between(start, start + batch - 1))
            state: dict[str, Any] | None = None
            current = None
            for system_id, _seq, action, occurred_at, after in connection.execute(
                chunk.order_by(e.system_id, e.seq)
            ):
                if system_id != current:
                    if state is not None and keep(state):
                        yield _row(state, agencies)
                    current, state = system_id, None
                state = _apply(state, action, occurred_at, after or {})
            if state is not None and keep(state):
                yield _row(state, agencies)


def _apply(state: dict[str, Any] | None, action: str, occurred_at: datetime, after: dict[str, Any]) -> Any:
    moment = iso_second(occurred_at)
    if action == CREATE:
        return {**after, "version": 1, "created_at": moment, "updated_at": moment}
    if state is None:  # events of a system whose registration the trail does not hold
        return None
    if action == "system.update":
        state.update(after)
    else:
        state.update({k: after[k] for k in STEP_KEYS if k in after})
    state["updated_at"] = moment
    return state


def _row(state: dict[str, Any], agencies: dict[str, Any]) -> dict[str, Any]:
    row = {name: state.get(name) for name in COLUMNS}
    owner = agencies.get(state.get("owner_agency"))
    row["owner_agency_name"] = owner.name if owner else None
    for name in LINKED:
        row[name] = LIST_SEPARATOR.join(sorted(state.get(name) or ()))
    return row


def _matcher(connection: Any, scope: AsOfScope, agencies: dict[str, Any]) -> Any:
    """The list page's filter, applied to a reconstructed system (codes, not ids)."""
    flt = scope.flt
    by_id = {row.id: code for code, row in agencies.items()}
    subtree: set[str] = set()
    if flt.agency and flt.agency in agencies:
        subtree = {by_id[i] for i in subtree_ids(connection, agencies[flt.agency].id) if i in by_id}
    owner_code = by_id.get(scope.owner_agency_id) if scope.owner_agency_id is not None else None
    terms = search_terms(flt.q)

    def keep(state: dict[str, Any]) -> bool:
        if scope.owner_agency_id is not None and state.get("owner_agency") != owner_code:
            return False
        if flt.statuses and state.get("status") not in flt.statuses:
            return False
        if flt.level and state.get("scope_level") != flt.level:
            return False
        if flt.shared and bool(state.get("is_shared_platform")) != (flt.shared == "yes"):
            return False
        if flt.capability and flt.capability not in (state.get("capabilities") or ()):
            return False
        if flt.agency:
            roles = {
                "owner": {state.get("owner_agency")},
                "operator": {state.get("operator_agency")},
                "user": set(state.get("user_agencies") or ()),
            }
            wanted = [roles[flt.agency_role]] if flt.agency_role in roles else list(roles.values())
            if not any(codes & subtree for codes in wanted):
                return False
        if terms:
            text = " ".join(
                fold(state.get(k)) for k in ("code", "name", "description", "purpose") if state.get(k)
            )
            if not all(term in text for term in terms):
                return False
        return True

    return keep
