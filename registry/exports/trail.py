"""The audit trail as a file an outside party can verify without the registry's code.

Each exported event carries the twelve hashed values in exactly the form that is hashed
(``occurred_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, ``before``/``after`` as JSON objects), its
``prev_hash`` and its ``hash``. The header names the event just before the first one exported
and the last one, with their hashes, so a file covering only a period verifies from its first
line and a file cut short is noticed. docs/audit-trail.md gives the procedure and a script.

CSV cells stay reversible, because the verifier must rebuild the exact values: a text that
begins like a formula (``= + - @``, tab, CR) *or with an apostrophe* gets one apostrophe in
front, which the reader drops; an empty cell in a column that may hold null is null, and an
empty text there is written as a lone apostrophe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from registry.exports.formats import FORMULA_STARTS, ExportMeta
from registry.exports.records import batched
from registry.models import AuditEvent
from registry.models.audit_chain import GENESIS, HASHED_FIELDS, timestamp

COLUMNS: tuple[str, ...] = (*HASHED_FIELDS, "prev_hash", "hash")
NULLABLE = frozenset({"actor_id", "system_id", "request_id", "before", "after"})


@dataclass(frozen=True)
class TrailRange:
    """The events exported: ``first_seq`` to ``last_seq``, chained to the event before."""

    first_seq: int
    last_seq: int
    prev_seq: int
    prev_hash: str
    last_hash: str

    def describe(self) -> str:
        return (
            f"chain: continues after event #{self.prev_seq} with hash {self.prev_hash}; "
            f"ends at event #{self.last_seq} with hash {self.last_hash}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "starts_after": {"seq": self.prev_seq, "hash": self.prev_hash},
            "ends_at": {"seq": self.last_seq, "hash": self.last_hash},
        }


def resolve(session: Session, since: datetime | None, until: datetime | None) -> TrailRange:
    """The sequence range of events at or after ``since`` and before ``until``, fixed now.

    Fixing the last ``seq`` when the export begins keeps events written during a long download
    out of the file, so its header and its rows agree.
    """
    conditions = []
    if since:
        conditions.append(AuditEvent.occurred_at >= since)
    if until:
        conditions.append(AuditEvent.occurred_at < until)
    first, last = session.execute(
        select(func.min(AuditEvent.seq), func.max(AuditEvent.seq)).where(*conditions)
    ).one()
    if first is None:  # nothing in the period: an empty file that still names where it stands
        earlier = [AuditEvent.occurred_at < since] if since else []
        before = session.scalar(select(func.max(AuditEvent.seq)).where(*earlier)) or 0
        first, last = before + 1, before
    prev = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq < first)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    last_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last))
    prev_seq, prev_hash = (prev.seq, prev.hash) if prev else (0, GENESIS)
    return TrailRange(first, last, prev_seq, prev_hash, last_hash or prev_hash)


def count(session: Session, span: TrailRange) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.seq.between(span.first_seq, span.last_seq))
        )
        or 0
    )


def rows(session: Session, span: TrailRange, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event of the range in ``seq`` order, its values exactly as they are hashed."""
    columns = [getattr(AuditEvent, name) for name in COLUMNS]
    query = select(*columns).where(AuditEvent.seq.between(span.first_seq, span.last_seq))
    for row in batched(session, query, AuditEvent.seq, batch):
        event = dict(zip(COLUMNS, row, strict=True))
        event["occurred_at"] = timestamp(event["occurred_at"])
        yield event


def jsonl_chunks(
    meta: ExportMeta,
    span: TrailRange,
    events: Iterable[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """JSON Lines: ``{"meta": {...}}`` first, then one event per line, in ``seq`` order."""
    head = {"meta": {**meta.as_dict(), **span.as_dict(), "columns": list(COLUMNS)}}
    yield (json.dumps(head, ensure_ascii=False) + "\n").encode()
    buffer: list[str] = []
    done = 0
    for event in events:
        buffer.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        done += 1
        if done % 500 == 0:
            yield ("\n".join(buffer) + "\n").encode()
            buffer.clear()
            if progress:
                progress(done)
    if buffer:
        yield ("\n".join(buffer) + "\n").encode()
    if progress:
        progress(done)


def csv_cells(events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The events as reversible CSV cells (see the module's docstring)."""
    for event in events:
        cells: dict[str, Any] = {}
        for name, value in event.items():
            if value is None:
                cells[name] = ""
            elif name in ("before", "after"):
                cells[name] = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            elif isinstance(value, str) and (value.startswith((*FORMULA_STARTS, "'")) or not value):
                cells[name] = "'" + value if value or name in NULLABLE else value
            else:
                cells[name] = value
        yield cells
