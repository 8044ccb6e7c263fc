"""The decision log and the duplication warnings as flat rows, streamed in batches of ids.

Both are read like the inventory (:mod:`registry.exports.inventory`): plain Core rows from a
connection of their own, in ranges of primary keys, so a long log takes flat memory and, on
PostgreSQL, one snapshot for the whole file. The writers in :mod:`registry.exports.formats`
take these rows with their column tuple.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from registry.exports.inventory import BATCH, _iso
from registry.models import Agency, Decision, DuplicateWarning, InformationSystem

DECISION_COLUMNS: tuple[str, ...] = (
    "decided_at",
    "system_code",
    "system_name",
    "owner_agency",
    "action",
    "outcome",
    "reason",
    "reuse_code",
    "decided_by",
)
WARNING_COLUMNS: tuple[str, ...] = (
    "system_a",
    "system_a_name",
    "system_a_owner",
    "system_b",
    "system_b_name",
    "system_b_owner",
    "score",
    "relation",
    "components",
    "detector_version",
    "status",
    "reason",
    "decided_by",
    "decided_at",
    "flagged_at",
)
OUTCOMES = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected"}
"""The status each reviewer's decision moves a proposal to (the workflow's decision steps)."""


@dataclass(frozen=True)
class RecordFilter:
    """A period (whole days, UTC, both ends included), statuses, and the submitter's agency.

    ``statuses`` are decision actions (``approve``…) for the decision log and dispositions
    (``open``, ``dismissed``…) for warnings; the period is when a decision was taken, or when a
    warning was first raised. ``owner_ids`` is a chosen owner agency and those below it (the
    API's ``agency`` filter), on top of the submitter's own agency, which ``agency_id`` enforces.
    """

    since: date | None = None
    until: date | None = None
    statuses: list[str] = field(default_factory=list)
    agency_id: int | None = None
    owner_ids: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, args: Mapping[str, Any], agency_id: int | None = None) -> RecordFilter:
        """From a query string (``since``, ``until``, ``status`` repeated); bad dates are ignored."""
        getlist = getattr(args, "getlist", None)
        statuses = getlist("status") if getlist else [v for v in [args.get("status")] if v]
        return cls(
            since=_date(args.get("since")),
            until=_date(args.get("until")),
            statuses=[s[:20] for s in statuses if s][:10],
            agency_id=agency_id,
        )

    def describe(self) -> dict[str, Any]:
        values = {"since": self.since, "until": self.until, "status": self.statuses}
        values["owner_agency_id"] = self.agency_id
        values["owner_agency_ids"] = list(self.owner_ids) if self.owner_ids is not None else None
        return {k: str(v) if isinstance(v, date) else v for k, v in values.items() if v not in (None, [])}

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period as instants: the start of ``since``, the end of ``until`` (exclusive)."""
        since = datetime.combine(self.since, time(), UTC) if self.since else None
        until = None
        if self.until and self.until < date.max:  # the last day a date can name has no next day
            until = datetime.combine(self.until + timedelta(days=1), time(), UTC)
        return since, until

    def period(self, column: Any) -> list[Any]:
        since, until = self.bounds()
        conditions = [column >= since] if since else []
        return conditions + ([column < until] if until else [])


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _decision_query(flt: RecordFilter) -> Any:
    system, reuse, owner = aliased(InformationSystem), aliased(InformationSystem), aliased(Agency)
    conditions = flt.period(Decision.decided_at)
    if flt.statuses:
        conditions.append(Decision.outcome.in_(flt.statuses))
    if flt.agency_id is not None:
        conditions.append(system.owner_agency_id == flt.agency_id)
    if flt.owner_ids is not None:
        conditions.append(system.owner_agency_id.in_(flt.owner_ids))
    return (
        select(
            Decision.id,
            Decision.decided_at,
            system.code,
            system.name,
            owner.code,
            Decision.outcome,
            Decision.reason,
            reuse.code,
            Decision.reviewer_label,
        )
        .join(system, system.id == Decision.system_id)
        .join(owner, owner.id == system.owner_agency_id)
        .outerjoin(reuse, reuse.id == Decision.reuse_system_id)
        .where(*conditions)
    )


def _warning_query(flt: RecordFilter) -> Any:
    a, b = aliased(InformationSystem), aliased(InformationSystem)
    owner_a, owner_b = aliased(Agency), aliased(Agency)
    w = DuplicateWarning
    conditions = flt.period(w.created_at)
    if flt.statuses:
        conditions.append(w.disposition.in_(flt.statuses))
    if flt.agency_id is not None:
        conditions.append((a.owner_agency_id == flt.agency_id) | (b.owner_agency_id == flt.agency_id))
    if flt.owner_ids is not None:
        conditions.append(a.owner_agency_id.in_(flt.owner_ids) | b.owner_agency_id.in_(flt.owner_ids))
    return (
        select(
            w.id,
            a.code,
            a.name,
            owner_a.code,
            b.code,
            b.name,
            owner_b.code,
            w.score,
            w.relation,
            w.components,
            w.detector_version,
            w.disposition,
            w.disposition_reason,
            w.decided_by_label,
            w.decided_at,
            w.created_at,
        )
        .join(a, a.id == w.system_a_id)
        .join(b, b.id == w.system_b_id)
        .join(owner_a, owner_a.id == a.owner_agency_id)
        .join(owner_b, owner_b.id == b.owner_agency_id)
        .where(*conditions)
    )


def count_decisions(session: Session, flt: RecordFilter) -> int:
    return session.scalar(select(func.count()).select_from(_decision_query(flt).subquery())) or 0


def count_warnings(session: Session, flt: RecordFilter) -> int:
    return session.scalar(select(func.count()).select_from(_warning_query(flt).subquery())) or 0


def decision_rows(session: Session, flt: RecordFilter, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every decision in the filter, oldest first, as a dict of ``DECISION_COLUMNS``."""
    for row in batched(session, _decision_query(flt), Decision.id, batch):
        yield _decision_row(row)


def latest_decisions(session: Session, flt: RecordFilter, *, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of the decision log, latest first, as the rows the export writes.

    The API lists the log a page at a time with the export's filters, so both hold the same
    decisions for the same filter.
    """
    query = _decision_query(flt).order_by(Decision.decided_at.desc(), Decision.id.desc())
    return [_decision_row(row) for row in session.execute(query.offset(offset).limit(limit))]


def _decision_row(row: Any) -> dict[str, Any]:
    decided_at, code, name, owner, action, reason, reuse, by = row[1:]
    return {
        "decided_at": _iso(decided_at),
        "system_code": code,
        "system_name": name,
        "owner_agency": owner,
        "action": action,
        "outcome": OUTCOMES.get(action, action),
        "reason": reason,
        "reuse_code": reuse,
        "decided_by": by,
    }


def warning_rows(session: Session, flt: RecordFilter, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every warning in the filter, in the order raised, as a dict of ``WARNING_COLUMNS``.

    ``components`` (the score's parts) is one JSON object written as text, so CSV, XLSX and
    JSON carry the same cell.
    """
    for row in batched(session, _warning_query(flt), DuplicateWarning.id, batch):
        values = dict(zip(WARNING_COLUMNS, row[1:], strict=True))
        values["score"] = round(values["score"], 4)
        values["components"] = json.dumps(values["components"], ensure_ascii=False, sort_keys=True)
        values["decided_at"] = _iso(values["decided_at"])
        values["flagged_at"] = _iso(values["flagged_at"])
        yield values


def batched(session: Session, query: Any, key: Any, batch: int = BATCH) -> Iterator[Any]:
    """Rows of ``query`` (whose first column is ``key``) in ascending key, ``batch`` at a time.

    A connection of its own, released when the export ends or is abandoned; on PostgreSQL one
    REPEATABLE READ snapshot, so the file is consistent however long the download takes.
    """
    engine = session.get_bind()
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        last: Any = None
        while True:
            page = query if last is None else query.where(key > last)
            chunk = connection.execute(page.order_by(key).limit(batch)).all()
            if not chunk:
                return
            yield from chunk
            last = chunk[-1][0]
