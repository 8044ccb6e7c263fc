"""The audit trail: append events to a SHA-256 hash chain, verify it, read it back.

Every write service calls :func:`record` inside its own transaction, so an event exists exactly
when its change does. Each event's hash covers the previous event's hash and a canonical form
of all its own columns: changing, removing or reordering rows directly in the database breaks
the chain from that point, and :func:`verify` names the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from registry.auth.actor import Actor
from registry.bulk import driver_value, insert_tuples
from registry.fields import has_label
from registry.models import AuditEvent, AuditHead
from registry.models.audit_chain import (
    GENESIS,
    HASHED_FIELDS,
    chain_hash,
    json_native,
    timestamp,
)

EVENT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time
PLAIN_FIELDS = tuple(name for name in HASHED_FIELDS if name not in ("occurred_at", "before", "after"))
"""The hashed fields stored as they are hashed; the time and the two JSON values are not."""
EVENT_COLUMNS = (*PLAIN_FIELDS, "occurred_at", "before", "after", "prev_hash", "hash")
"""The columns :func:`record_many` writes, in the order of its tuples."""


def _advance_head(session: Session) -> tuple[int, str]:
    """Take the chain's lock and the next sequence number; return it with the previous hash.

    The ``UPDATE`` comes first: on PostgreSQL it locks the head row until commit, so concurrent
    writers queue here and each then reads the hash the previous one committed; on SQLite the
    write lock is already held. An emptied table (tests, a fresh database) gets its row back.
    """
    for _attempt in range(3):
        advanced = session.execute(
            update(AuditHead).where(col(AuditHead.id) == 1).values(seq=col(AuditHead.seq) + 1)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        if advanced:
            row = session.execute(
                select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1)
            ).one()
            return int(row.seq), str(row.hash)
        try:
            with session.begin_nested():
                last = session.execute(
                    select(col(AuditEvent.seq), col(AuditEvent.hash))
                    .order_by(col(AuditEvent.seq).desc())
                    .limit(1)
                ).first()
                session.execute(
                    insert(AuditHead).values(
                        id=1,
                        seq=last.seq if last else 0,
                        hash=last.hash if last else GENESIS,
                        updated_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            continue  # another writer created it first; take the lock on the next pass
    raise RuntimeError("could not take the audit chain's lock")


class UnlabelledAuditEvent(ValueError):
    """An event whose action or recorded keys have no label: people could not read it."""


def unlabelled(action: str, *snapshots: Mapping[str, Any] | None) -> list[str]:
    """What of an event has no label: its action, the keys of ``before``/``after`` and of
    the mappings nested in them (an export's filters), each with where its label belongs."""
    missing = []
    if action not in ACTION_LABELS:
        missing.append(f"action {action!r}: add its label to ACTION_LABELS in registry/services/audit.py")
    pending = [snapshot for snapshot in snapshots if snapshot]
    seen: set[str] = set()
    while pending:
        for key, value in pending.pop().items():
            if isinstance(value, dict):  # JSON's objects; a plain dict test is cheap per cell
                pending.append(value)
            if key not in seen and not has_label(key):
                seen.add(key)
                missing.append(f"key {key!r}: add its label to AUDIT_KEY_LABELS in registry/fields.py")
    return missing


def _require_labels(action: str, *snapshots: Mapping[str, Any] | None) -> None:
    """Refuse to write what the trail's pages would show as a program code.

    Every write service is exercised by the tests, so a new action or key without a label
    fails there, with the place to add it, long before anyone reads the trail.
    """
    missing = unlabelled(action, *snapshots)
    if missing:
        raise UnlabelledAuditEvent(
            "Audit event without a label (then extract and translate it, see the README): "
            + "; ".join(missing)
        )


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: object,
    object_label: str = "",
    system_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; it commits or rolls back with the change."""
    _require_labels(action, before, after)
    session.flush()
    seq, prev_hash = _advance_head(session)
    values: dict[str, Any] = {
        "seq": seq,
        "occurred_at": datetime.now(UTC),
        "actor_id": actor.user_id,
        "actor_label": actor.label[:100],
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_label": (object_label or "")[:200],
        "system_id": system_id,
        "before": json_native(before),
        "after": json_native(after),
        "request_id": actor.request_id,
    }
    digest = chain_hash(prev_hash, values)
    event = AuditEvent(**values, prev_hash=prev_hash, hash=digest)
    session.add(event)
    session.execute(
        update(AuditHead).where(col(AuditHead.id) == 1).values(hash=digest, updated_at=values["occurred_at"])
    )
    return event


def record_many(
    session: Session,
    actor: Actor,
    events: Iterable[Mapping[str, Any]],
    *,
    native: bool = False,
) -> int:
    """Append many events (an import's systems) in order, taking the chain's lock once.

    Each item has :func:`record`'s keyword arguments plus ``action``. Rows go to the driver as
    tuples (:mod:`registry.bulk`), and each event's ``before`` and ``after`` are serialised once,
    for the column and for the hash alike: 100,000 events cost seconds, not minutes.
    ``native=True`` promises that ``before`` and ``after`` already hold only JSON values
    (strings, not dates), sparing the round trip through JSON that makes them so.
    """
    session.flush()
    seq, prev_hash = _advance_head(session)
    seq -= 1  # _advance_head reserved one number; the loop below hands them out itself
    now = datetime.now(UTC)
    stamp, occurred_at = timestamp(now), driver_value(session, EVENT_TABLE.c.occurred_at, now)
    label = actor.label[:100]

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal seq, prev_hash
        for event in events:
            _require_labels(event["action"], event.get("before"), event.get("after"))
            seq += 1
            before = event.get("before") if native else json_native(event.get("before"))
            after = event.get("after") if native else json_native(event.get("after"))
            before_text, after_text = _sorted_json(before), _sorted_json(after)
            values = {
                "seq": seq,
                "actor_id": actor.user_id,
                "actor_label": label,
                "action": event["action"],
                "object_type": event["object_type"],
                "object_id": str(event["object_id"]),
                "object_label": (event.get("object_label") or "")[:200],
                "system_id": event.get("system_id"),
                "request_id": actor.request_id,
            }
            hashed = _canonical_from_parts({**values, "occurred_at": stamp}, before_text, after_text)
            digest = hashlib.sha256(prev_hash.encode("ascii") + b"\n" + hashed).hexdigest()
            yield (
                *(values[name] for name in PLAIN_FIELDS),
                occurred_at,
                before_text,
                after_text,
                prev_hash,
                digest,
            )
            prev_hash = digest

    count = insert_tuples(session, EVENT_TABLE, EVENT_COLUMNS, rows())
    session.execute(
        update(AuditHead).where(col(AuditHead.id) == 1).values(seq=seq, hash=prev_hash, updated_at=now)
    )
    return count


def _sorted_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _canonical_from_parts(values: Mapping[str, Any], before_text: str, after_text: str) -> bytes:
    """:func:`canonical` of an event whose ``before`` and ``after`` are already serialised.

    The hashed fields sort as ``…, "actor_label", "after", "before", "object_id", …``, so the
    two serialised values go in just before ``"object_id"``; a JSON string never holds an
    unescaped quote, so the first ``,"object_id":`` is the key. A test holds this equal to
    :func:`canonical`.
    """
    rest = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    spliced = rest.replace(',"object_id":', f',"after":{after_text},"before":{before_text},"object_id":', 1)
    return spliced.encode()


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, on each side: what a reader of the trail wants."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


# --- verification ----------------------------------------------------------------------------


@dataclass
class ChainProblem:
    seq: int | None
    kind: str
    message: str


@dataclass
class VerifyReport:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            return f"Audit trail intact: {self.checked} events, head #{self.last_seq} {self.last_hash}."
        problem = self.problems[0]
        return f"Audit trail BROKEN at event #{problem.seq}: {problem.message} ({self.checked} events read)."


def _events(session: Session, batch: int) -> Iterator[AuditEvent]:
    after = -1
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(col(AuditEvent.seq) > after)
                .order_by(col(AuditEvent.seq))
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def verify(session: Session, batch: int = 2000, stop_at_first: bool = True) -> VerifyReport:
    """Recompute the chain from the first event and compare it with what is stored.

    Reports an edited event (its hash no longer matches its content), a removed or inserted one
    (a gap in the sequence, or a ``prev_hash`` that names another predecessor), a reordering
    (both at once), and a trail whose newest events were removed (the head row disagrees).
    """
    report = VerifyReport()
    expected_seq, expected_prev = 1, GENESIS
    for event in _events(session, batch):
        report.checked += 1
        values = {name: getattr(event, name) for name in HASHED_FIELDS}
        if event.seq != expected_seq:
            report.problems.append(
                ChainProblem(
                    event.seq,
                    "sequence",
                    f"event #{expected_seq} is missing or out of order (found #{event.seq} next)",
                )
            )
        elif event.prev_hash != expected_prev:
            report.problems.append(
                ChainProblem(
                    event.seq, "link", "its link to the previous event does not match (removed or reordered)"
                )
            )
        elif chain_hash(event.prev_hash, values) != event.hash:
            report.problems.append(
                ChainProblem(event.seq, "content", "its content was changed after it was written")
            )
        if report.problems and stop_at_first:
            return report
        expected_seq, expected_prev = event.seq + 1, event.hash
        report.last_seq, report.last_hash = event.seq, event.hash
    head = session.execute(
        select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1)
    ).first()
    if head is not None and (head.seq, head.hash) != (report.last_seq, report.last_hash):
        report.problems.append(
            ChainProblem(
                head.seq,
                "tail",
                f"the chain ends at #{report.last_seq} but its head records #{head.seq}: "
                "newest events removed",
            )
        )
    return report


# --- reading ---------------------------------------------------------------------------------

ACTION_LABELS: dict[str, object] = {
    "system.create": _l("Registered"),
    "system.update": _l("Edited"),
    "dependency.add": _l("Dependency added"),
    "dependency.remove": _l("Dependency removed"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.password": _l("Password changed"),
    "token.issue": _l("API token issued"),
    "token.revoke": _l("API token revoked"),
    "overlap.scan": _l("Portfolio scanned for overlaps"),
    "overlap.index_build": _l("Overlap index built and saved"),
    "seed.load": _l("Demo data loaded"),
    "usage.file": _l("Usage reported"),
    "usage.correct": _l("Usage report corrected"),
    "system.attest": _l("Record attested"),
    "round.open": _l("Reporting round opened"),
    "round.close": _l("Reporting round closed"),
    "round.complete": _l("Agency completed its report"),
    "round.remind": _l("Reminders sent"),
    "round.extend": _l("Deadline extended"),
    "system.submit": _l("Submitted for review"),
    "system.withdraw": _l("Withdrawn to draft"),
    "system.start_review": _l("Taken into review"),
    "system.approve": _l("Approved"),
    "system.request_changes": _l("Changes requested"),
    "system.reject": _l("Rejected"),
    "system.deploy": _l("Put into operation"),
    "system.retire": _l("Retired"),
    "warning.dispose": _l("Duplication warning decided"),
    "agency.create": _l("Agency added"),
    "import.commit": _l("Systems imported"),
    "export.inventory": _l("Inventory exported"),
    "export.decisions": _l("Decision log exported"),
    "export.warnings": _l("Duplication warnings exported"),
    "export.audit_trail": _l("Audit trail exported"),
    "job.start": _l("Background job started"),
    "job.cancel": _l("Background job cancelled"),
    "job.fail": _l("Background job failed"),
    "review.assign": _l("Reviewer assigned"),
}
"""The label of every action :func:`record` accepts; it refuses any other."""


OBJECT_TYPE_LABELS: dict[str, object] = {
    "system": _l("System"),
    "dependency": _l("Dependency"),
    "warning": _l("Duplication warning"),
    "user": _l("Account"),
    "token": _l("API token"),
    "agency": _l("Agency"),
    "round": _l("Reporting round"),
    "usage_report": _l("Usage report"),
    "export": _l("Export"),
    "import": _l("Import"),
    "portfolio": _l("Whole portfolio"),
    "seed": _l("Demo data"),
    "job": _l("Background job"),
}
"""What an event is about, as the trail's page names it."""


def object_type_label(object_type: str) -> str:
    return str(OBJECT_TYPE_LABELS.get(object_type, object_type))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def history_of_system(session: Session, system_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(col(AuditEvent.system_id) == system_id)
            .order_by(col(AuditEvent.seq).desc())
        )
    )


@dataclass
class EventPage:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> EventPage:
    conditions = []
    if action:
        conditions.append(col(AuditEvent.action).startswith(action, autoescape=True))
    if actor:
        conditions.append(col(AuditEvent.actor_label) == actor)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    page = max(1, page)
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(col(AuditEvent.seq).desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return EventPage(events, total, page, per_page)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(col(AuditEvent.action)).distinct().order_by(col(AuditEvent.action))))
