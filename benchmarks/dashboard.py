"""Time the dashboard and ``GET /api/v1/stats`` against a large portfolio (see ``generate.py``).

    python benchmarks/dashboard.py --database-url sqlite:////tmp/bench.sqlite3 [--requests 50]

``generate.py`` makes systems, dependencies and usage reports but none of what the dashboard
counts besides them, so on first use this script adds, deterministically: findings (about one
system in two fails a rule, some two), overlap warnings (chains and small cliques, a tenth of
them decided), twelve months of audit events (one ``system.create`` per system, submissions
and decisions for the proposals) and the audit head the cache is keyed on. Those events carry
placeholder hashes: the chain of a benchmark database does not verify, and is not meant to.

Scenarios, each timed through Flask's test client with a read-only token (authentication
included): the home page and the API cold (cache emptied before every request, so every
request recomputes every figure: a worker's first reader), warm (nothing written since), just
after an audited write (the previous figures are served while a thread recomputes), and
scoped to one province.
The target is p95 <= 300 ms; nothing is asserted, the numbers are printed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask  # noqa: E402
from pages import client_fetch, percentile, reader_token  # noqa: E402 - after the path

from registry import migrate  # noqa: E402
from registry.config import normalise_database_url  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.factory import create_app  # noqa: E402
from registry.models import Agency, AuditEvent, AuditHead, DuplicateWarning, Finding, InformationSystem  # noqa: E402
from registry.services import stats as stats_service  # noqa: E402

TARGET_P95_MS = 300.0
DECISION_OF = {
    "approved": "system.approve",
    "rejected": "system.reject",
    "changes_requested": "system.request_changes",
}
RULES = (("R1", "high"), ("R4", "medium"), ("R5", "high"), ("R7", "medium"), ("R8", "low"), ("R9", "medium"))


def prepare(session: Session, seed: int) -> None:
    """Add findings, warnings and audit events once; a database that has them is left alone."""
    if session.scalar(select(func.count()).select_from(AuditEvent)):
        return
    rng = random.Random(seed)
    systems = session.execute(select(InformationSystem.id, InformationSystem.status)).all()
    started = time.perf_counter()
    now = datetime.now(UTC)
    findings = []
    for system_id, _status in systems:
        for rule, severity in rng.sample(RULES, rng.choice((0, 0, 1, 1, 2))):
            findings.append(
                {
                    "system_id": system_id,
                    "rule_code": rule,
                    "severity": severity,
                    "details": {},
                    "detected_at": now,
                }
            )
    _insert(session, Finding, findings)
    ids = [row[0] for row in systems]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < len(ids) // 2:
        a = rng.choice(ids)
        for b in rng.sample(ids, rng.choice((1, 1, 2, 3))):
            if a != b:
                pairs.add((min(a, b), max(a, b)))
    warnings = [
        {
            "system_a_id": a,
            "system_b_id": b,
            "score": round(rng.uniform(0.6, 0.99), 3),
            "relation": "overlap",
            "components": {},
            "reasons": [],
            "detector_version": "bench",
            "disposition": rng.choices(("open", "confirmed", "dismissed", "justified"), (90, 4, 4, 2))[0],
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for a, b in sorted(pairs)
    ]
    _insert(session, DuplicateWarning, warnings)
    events = []
    for system_id, status in systems:
        created = now - timedelta(days=rng.randint(0, 364), seconds=rng.randint(0, 86_399))
        events.append(_event(len(events) + 1, "system.create", system_id, created))
        if status not in ("draft", "in_operation", "retired"):
            submitted = min(now, created + timedelta(days=rng.randint(0, 30)))
            events.append(_event(len(events) + 1, "system.submit", system_id, submitted))
            if status in ("approved", "rejected", "changes_requested"):
                decided = min(now, submitted + timedelta(days=rng.randint(1, 60)))
                events.append(_event(len(events) + 1, DECISION_OF[status], system_id, decided))
    events.sort(key=lambda e: e["occurred_at"])
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
    _insert(session, AuditEvent, events)
    session.execute(
        insert(AuditHead).values(id=1, seq=len(events), hash="bench" * 12 + "0000", updated_at=now)
    )
    session.commit()
    print(
        f"prepared: {len(findings):,} findings, {len(warnings):,} warnings, {len(events):,} audit events "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _event(seq: int, action: str, system_id: int, when: datetime) -> dict[str, Any]:
    return {
        "seq": seq,
        "occurred_at": when,
        "actor_label": "benchmark",
        "action": action,
        "object_type": "system",
        "object_id": str(system_id),
        "object_label": "",
        "system_id": system_id,
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    table = model.__table__
    for start in range(0, len(rows), 5000):
        session.execute(table.insert(), rows[start : start + 5000])


def time_requests(
    fetch: Any, path: str, n: int, cold: bool, write: Callable[[], None] | None = None
) -> list[float]:
    fetch(path)  # warm-up: templates compiled, connections open
    times = []
    for _ in range(n):
        if cold:
            stats_service._cache.clear()
        if write is not None:
            write()
        started = time.perf_counter()
        status, _size = fetch(path)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return times


def audited_write(app: Flask) -> Callable[[], None]:
    """One audited write, as any save makes: it moves the audit head, so the figures held are
    no longer current and the next reader gets them while a thread recomputes."""
    from registry.auth.actor import Actor
    from registry.services import audit

    actor = Actor.operator("benchmark")

    def write() -> None:
        with app.app_context(), Session(get_engine(app)) as session:
            audit.record(session, actor, "benchmark.write", object_type="benchmark", object_id="1")
            session.commit()

    return write


def quiet_app(database_url: str) -> Flask:
    """The real app, migrated, without the background embedder: its first request would start
    embedding 100,000 texts in a thread whose CPU would be counted against every figure here
    (that work is timed by ``benchmarks/semantic.py``)."""
    url = normalise_database_url(database_url)
    app = create_app(
        {"DATABASE_URL": url, "AUTO_SETUP": False, "SECRET_KEY": "bench", "EMBED_IN_BACKGROUND": False}
    )
    migrate.upgrade(get_engine(app))
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=30, help="requests per scenario (default 30)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    app = quiet_app(args.database_url)
    with Session(get_engine(app)) as session:
        prepare(session, args.seed)
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (InformationSystem, Finding, DuplicateWarning, AuditEvent)
        }
        province = session.scalar(
            select(Agency.code)
            .where(Agency.level == "province", Agency.parent_id.is_(None))
            .order_by(Agency.id)
        )
    print(", ".join(f"{name}: {count:,}" for name, count in counts.items()))
    fetch = client_fetch(app, reader_token(app))
    scenarios = (
        ("home page, cold", "/", True, None),
        ("home page, warm", "/", False, None),
        ("home page, just after a write", "/", False, audited_write(app)),
        (f"home page of {province}, cold", f"/?scope={province}", True, None),
        ("GET /api/v1/stats, cold", "/api/v1/stats", True, None),
        ("GET /api/v1/stats, warm", "/api/v1/stats", False, None),
    )
    print(f"{'scenario':<40} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for label, path, cold, write in scenarios:
        times = time_requests(fetch, path, args.requests, cold, write)
        p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
        flag = "" if p95 <= TARGET_P95_MS else "   over the 300 ms target"
        print(f"{label:<40} {len(times):>4} {p50:>9.1f} {p95:>9.1f} {max(times):>9.1f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
