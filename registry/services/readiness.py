"""Whether this process can serve: database, schema, overlap index and job queue.

``/readyz`` asks it every few seconds for a load balancer or an orchestrator, and
``flask --app app doctor`` asks it once for a person: both read the same checks, so what the
probe calls ready is what the operator was told. Every check is cheap (a few one-row queries,
one queue length) and none does work on the probe's behalf: in particular the overlap index is
never fitted here, only compared with the database.

The overlap index is built lazily, at the first overlap check of each process, and then
catches up incrementally from the database's ``updated_at`` watermark. So by default "not built
yet" and "behind" are reported but do not fail readiness: a worker taken out of rotation until
its index is built would never receive the request that builds it. A deployment that warms the
index when a worker starts sets ``REGISTRY_READY_REQUIRES_INDEX=1``, and only then does an
unbuilt index keep the worker out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from registry import migrate
from registry.models import InformationSystem
from registry.services.overlaps import PortfolioIndex

log = logging.getLogger(__name__)

NOT_CHECKED = "not_checked"
"""The status of a check that could not run because one it depends on failed."""


class QueueStorage(Protocol):
    """The part of a Huey storage the probe uses: one length query, cheap on SQLite and Redis."""

    def queue_size(self) -> int: ...


@dataclass(frozen=True)
class Check:
    """One check's outcome: a machine word for probes and a sentence for people."""

    name: str
    ok: bool
    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    """What an operator should do, in one line; empty when there is nothing to do."""

    def record(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, **self.detail}


@dataclass(frozen=True)
class Readiness:
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[str]:
        """The checks that failed by themselves (not those skipped because another failed)."""
        return [check.name for check in self.checks if not check.ok and check.status != NOT_CHECKED]

    def record(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not_ready",
            "failing": self.failing,
            "checks": {check.name: check.record() for check in self.checks},
        }


def check_database(session: Session) -> Check:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database is the answer
        _rollback(session)
        log.warning("Readiness: the database is unreachable", exc_info=True)
        return Check(
            "database",
            False,
            "unreachable",
            {"error": type(exc).__name__},
            "Check DATABASE_URL, that the database server is up and that it accepts this host.",
        )
    return Check("database", True, "ok", {"dialect": session.get_bind().dialect.name})


def check_schema(session: Session) -> Check:
    """The database's Alembic revision against the newest one this code ships."""
    head = migrate.shipped_head()
    try:
        current = migrate.revision_of(session.connection())
    except Exception as exc:  # noqa: BLE001 - an unreadable version table is a failed check
        _rollback(session)
        log.warning("Readiness: the schema revision cannot be read", exc_info=True)
        return Check("schema", False, "unreadable", {"error": type(exc).__name__, "head": head})
    detail = {"current": current, "head": head}
    if current == head:
        return Check("schema", True, "ok", detail)
    if current is None:
        return Check("schema", False, "empty", detail, "Create the schema: flask --app app db upgrade.")
    if current in migrate.known_revisions():
        return Check(
            "schema",
            False,
            "behind",
            detail,
            f"Apply the migrations: flask --app app db upgrade (database at {current}, code expects {head}).",
        )
    return Check(
        "schema",
        False,
        "unknown_revision",
        detail,
        f"The database is at {current}, which this code does not know: it was migrated by a newer "
        "release; deploy that release here too.",
    )


def check_index(session: Session, index: PortfolioIndex, *, required: bool = False) -> Check:
    """How far this process's overlap index is behind the database, without building it.

    Behind is normal between two overlap checks: the next one catches up with the systems
    saved since (counted here). ``required`` makes an index not built yet a failure.
    """
    state = index.state()
    detail: dict[str, Any] = {"built": state.built, "busy": state.busy, "required": required}
    if not state.built:
        return Check(
            "index",
            not required,
            "not_built",
            detail,
            ""
            if not required
            else "Warm the index when the worker starts (see docs/deploy.md), "
            "or unset REGISTRY_READY_REQUIRES_INDEX to let the first overlap check build it.",
        )
    latest = session.scalar(select(func.max(col(InformationSystem.updated_at))))
    changed = 0
    behind_seconds = 0.0
    if latest is not None and (state.watermark is None or _aware(latest) > state.watermark):
        since = select(func.count()).select_from(InformationSystem)
        if state.watermark is not None:
            since = since.where(col(InformationSystem.updated_at) > state.watermark)
            behind_seconds = (_aware(latest) - state.watermark).total_seconds()
        changed = int(session.scalar(since) or 0)
    detail.update(
        systems=state.fitted + state.caught_up,
        watermark=state.watermark.isoformat() if state.watermark else None,
        changed_since=changed,
        behind_seconds=round(behind_seconds, 3),
    )
    return Check("index", True, "behind" if changed else "ok", detail)


def check_queue(storage: QueueStorage) -> Check:
    """Whether the job queue's storage answers (the SQLite file opens, Redis replies)."""
    kind = type(storage).__name__.removesuffix("Storage").lower() or "unknown"
    try:
        pending = storage.queue_size()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the queue is the answer
        log.warning("Readiness: the job queue is unreachable", exc_info=True)
        return Check(
            "queue",
            False,
            "unreachable",
            {"storage": kind, "error": type(exc).__name__},
            "Check REGISTRY_QUEUE_URL: Redis must be up and reachable, or the SQLite queue file writable.",
        )
    return Check("queue", True, "ok", {"storage": kind, "pending": int(pending)})


def check(
    session: Session, *, index: PortfolioIndex, queue: QueueStorage, index_required: bool = False
) -> Readiness:
    """Every readiness check, in dependency order: no schema or index check without a database."""
    database = check_database(session)
    if database.ok:
        schema = check_schema(session)
        index_check = (
            _index_or_error(session, index, required=index_required)
            if schema.ok
            else Check("index", False, NOT_CHECKED, {"because": "schema"})
        )
    else:
        schema = Check("schema", False, NOT_CHECKED, {"because": "database"})
        index_check = Check("index", False, NOT_CHECKED, {"because": "database"})
    return Readiness([database, schema, index_check, check_queue(queue)])


def _index_or_error(session: Session, index: PortfolioIndex, *, required: bool) -> Check:
    """The index check, or a failed one if its queries fail: a probe answers, never a 500."""
    try:
        return check_index(session, index, required=required)
    except Exception as exc:  # noqa: BLE001 - the database went away between two checks
        _rollback(session)
        log.warning("Readiness: the overlap index check failed", exc_info=True)
        return Check("index", False, "error", {"error": type(exc).__name__})


def _rollback(session: Session) -> None:
    """PostgreSQL refuses every statement after a failed one until the transaction ends."""
    try:
        session.rollback()
    except Exception:  # noqa: BLE001 - the connection itself may be gone; nothing more to undo
        log.debug("Rollback after a failed readiness query failed too", exc_info=True)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they are stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
