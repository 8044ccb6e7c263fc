"""Time the exports against a large portfolio (see ``generate.py``).

    python benchmarks/exports.py --database-url sqlite:////tmp/bench.sqlite3
    python benchmarks/exports.py --database-url sqlite:////tmp/bench.sqlite3 \
        --synthesize --formats baseline,decisions,warnings,trail,as_of --as-of 2026-06-30

Each format runs in its own process, through the same code as ``flask --app app export
systems``, writing to a temporary file; the table gives the wall time, the CPU time of that
process (user + system: a shared machine stretches the wall time, not this; PostgreSQL's own
work is in its server and not counted), the file size and the process's peak resident memory,
beside a baseline process that only loads the app and counts the systems (so "flat memory" can
be read off: peak minus baseline). Targets at 100,000
systems: CSV <= 5 s, XLSX <= 30 s, JSON <= 5 s; publiccode.yml and Backstage (one YAML document
per system) have no target yet. ``--formats read-publiccode,read-backstage`` times reading such a
file back (what an import does first); its peak memory holds the whole file and every parsed
document. Nothing is asserted; figures are printed.

``generate.py`` writes no audit trail, decisions or warnings. ``--synthesize`` adds them once
to a benchmark database (never a real one): a ``system.create`` event holding each system's
row at its ``created_at``, an edit of every tenth system a week later, all chained as
``services.audit`` chains them; a decision for every tenth system; a warning for every pair of
neighbouring systems. ``as_of`` then replays that trail (CSV) at ``--as-of``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TARGETS = {"csv": 5.0, "xlsx": 30.0, "json": 5.0}
RECORDS = {"decisions", "warnings"}


def child(database_url: str, fmt: str, as_of: str = "") -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pages import make_app
    from sqlmodel import Session

    from registry.auth.actor import Actor
    from registry.db import get_engine
    from registry.exports import ecosystem, inventory
    from registry.exports.formats import csv_chunks, json_chunks, write_xlsx
    from registry.filters import SystemFilter
    from registry.services import exports

    app = make_app(database_url)
    actor = Actor.operator("benchmark")
    reading = fmt.startswith("read-")
    fmt = fmt.removeprefix("read-")
    started, cpu = time.perf_counter(), time.process_time()
    size = 0
    with app.app_context(), Session(get_engine(app)) as session:
        if fmt in RECORDS | {"trail", "as_of"}:
            size, count = _new_export(session, actor, fmt, as_of)
            return {
                "seconds": time.perf_counter() - started,
                "cpu": time.process_time() - cpu,
                "bytes": size,
                "rows": count,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        scope = exports.scope_for(actor, SystemFilter())
        meta = exports.begin(session, actor, fmt, scope)
        if reading:
            return _read_back(session, meta, inventory.rows(session, scope), fmt)
        if fmt != "baseline":
            with tempfile.TemporaryFile() as handle:
                rows = inventory.rows(session, scope)
                if fmt in ecosystem.FORMATS:
                    writer = ecosystem.FORMATS[fmt].writer
                    for chunk in writer(session, meta, rows, base_url="https://registry.example"):
                        handle.write(chunk)
                elif fmt == "xlsx":
                    with write_xlsx(meta, rows, exports.related_sheets(session, scope)) as book:
                        while block := book.read(1024 * 1024):
                            handle.write(block)
                else:
                    for chunk in (csv_chunks if fmt == "csv" else json_chunks)(meta, rows):
                        handle.write(chunk)
                size = handle.tell()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "bytes": size,
        "rows": meta.count,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _read_back(session: Any, meta: Any, rows: Any, fmt: str) -> dict[str, float]:
    """Export to memory, then time only the reader an import would call on that file."""
    from registry.exports import ecosystem
    from registry.interchange.backstage import read_backstage
    from registry.interchange.publiccode import read_publiccode

    writer = ecosystem.FORMATS[fmt].writer
    data = b"".join(writer(session, meta, rows, base_url="https://registry.example"))
    reader = read_publiccode if fmt == "publiccode" else read_backstage
    started, cpu = time.perf_counter(), time.process_time()
    source = reader(data, max_bytes=len(data))
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "bytes": len(data),
        "rows": len(source.records),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _new_export(session, actor, fmt: str, as_of: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The decision log or warnings (CSV), the audit trail (JSON Lines), the inventory as of."""
    from registry.exports import as_of as past
    from registry.exports import records, trail
    from registry.exports.formats import csv_chunks
    from registry.filters import SystemFilter
    from registry.services import exports

    if fmt in RECORDS:
        flt = records.RecordFilter()
        meta = exports.begin_records(session, actor, fmt, "csv", flt)
        rows = (
            records.decision_rows(session, flt) if fmt == "decisions" else records.warning_rows(session, flt)
        )
        columns = records.DECISION_COLUMNS if fmt == "decisions" else records.WARNING_COLUMNS
        chunks = csv_chunks(meta, rows, columns=columns)
    elif fmt == "trail":
        meta, span = exports.begin_trail(session, actor, "jsonl", None, None)
        chunks = trail.jsonl_chunks(meta, span, trail.rows(session, span))
    else:
        instant = past.parse_instant(as_of)
        scope = exports.scope_for(actor, SystemFilter())
        meta = exports.begin(session, actor, "csv", scope, as_of=instant)
        chunks = csv_chunks(meta, past.rows(session, exports.as_of_scope(scope, instant)))
    with tempfile.TemporaryFile() as handle:
        for chunk in chunks:
            handle.write(chunk)
        return handle.tell(), meta.count


def synthesize(database_url: str) -> str:
    """Give a generated portfolio an audit trail, decisions and warnings (once; see above)."""
    import random
    from datetime import UTC, datetime, timedelta

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pages import make_app
    from sqlalchemy import func, insert, select
    from sqlmodel import Session

    from registry.db import get_engine
    from registry.exports import inventory
    from registry.filters import SystemFilter
    from registry.models import AuditEvent, AuditHead, Decision, DuplicateWarning, InformationSystem
    from registry.models.audit_chain import GENESIS, chain_hash

    app = make_app(database_url)
    with app.app_context(), Session(get_engine(app)) as session:
        if session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "system.create")
        ):
            return "already synthesized"
        ids = dict(session.execute(select(InformationSystem.code, InformationSystem.id)).all())
        events = []
        lists = {"user_agencies", "capabilities", "data_domains"}
        for row in inventory.rows(session, inventory.ExportScope(flt=SystemFilter())):
            created = datetime.fromisoformat(row["created_at"])
            after = {
                k: v
                for k, v in row.items()
                if k not in {"owner_agency_name", "version", "created_at", "updated_at"}
            }
            after.update({k: [c for c in row[k].split("; ") if c] for k in lists})
            system_id = ids[row["code"]]
            events.append((created, system_id, "system.create", None, after, row))
            if system_id % 10 == 0:
                edit = {"version": 2, "name": row["name"] + " (v2)"}
                events.append(
                    (created + timedelta(days=7), system_id, "system.update", {"version": 1}, edit, row)
                )
        events.sort(key=lambda e: e[0])
        prev, values = GENESIS, []
        for seq, (moment, system_id, action, before, after, row) in enumerate(events, 1):
            event = {
                "seq": seq,
                "occurred_at": moment,
                "actor_id": None,
                "actor_label": "benchmark",
                "action": action,
                "object_type": "system",
                "object_id": row["code"],
                "object_label": row["name"],
                "system_id": system_id,
                "before": before,
                "after": json.loads(json.dumps(after, ensure_ascii=False)),
                "request_id": None,
            }
            digest = chain_hash(prev, event)
            values.append({**event, "prev_hash": prev, "hash": digest})
            prev = digest
        for start in range(0, len(values), 5000):
            session.execute(insert(AuditEvent), values[start : start + 5000])
        session.merge(AuditHead(id=1, seq=len(values), hash=prev, updated_at=datetime.now(UTC)))
        rng = random.Random(7)
        system_ids = sorted(ids.values())
        session.execute(
            insert(Decision),
            [
                {
                    "system_id": i,
                    "reviewer_label": "benchmark",
                    "outcome": rng.choice(["approve", "reject", "request_changes"]),
                    "reason": "Đủ căn cứ pháp lý; không trùng lặp với hệ thống đang vận hành.",
                    "decided_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                }
                for i in system_ids[::10]
            ],
        )
        for start in range(0, len(system_ids) - 1, 5000):
            session.execute(
                insert(DuplicateWarning),
                [
                    {
                        "system_a_id": a,
                        "system_b_id": b,
                        "score": rng.random(),
                        "components": {"name": round(rng.random(), 3), "word": round(rng.random(), 3)},
                        "reasons": [],
                        "detector_version": "benchmark",
                        "disposition": rng.choice(["open", "open", "confirmed", "justified"]),
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                    for a, b in zip(
                        system_ids[start : start + 5000], system_ids[start + 1 : start + 5001], strict=False
                    )
                ],
            )
        session.commit()
        decisions, warnings = len(system_ids[::10]), len(system_ids) - 1
        return f"synthesized {len(values)} events, {decisions} decisions, {warnings} warnings"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--formats", default="baseline,csv,json,xlsx,decisions,warnings,trail,as_of")
    parser.add_argument("--as-of", default="2026-06-30", help="The instant of the as_of export.")
    parser.add_argument("--synthesize", action="store_true", help="Add a trail, decisions, warnings.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "synthesize":
        print(synthesize(args.database_url))
        return 0
    if args.child:
        print(json.dumps(child(args.database_url, args.child, args.as_of)))
        return 0
    if args.synthesize:
        # In a process of its own: Linux keeps the peak RSS across exec, so children forked
        # from a parent that held the synthesized rows would report its peak as theirs.
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        cmd = [sys.executable, __file__, "--database-url", args.database_url, "--child", "synthesize"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode:
            raise SystemExit(f"synthesize failed:\n{done.stderr}")
        print(done.stdout.strip())
    results = {}
    for fmt in args.formats.split(","):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--database-url",
                args.database_url,
                "--child",
                fmt,
                "--as-of",
                args.as_of,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        if done.returncode:
            raise SystemExit(f"{fmt} failed:\n{done.stderr}")
        results[fmt] = json.loads(done.stdout.strip().splitlines()[-1])
    baseline = results.get("baseline", {}).get("peak_mb", 0.0)
    print(
        f"{'format':<9}{'rows':>9}{'seconds':>10}{'CPU s':>8}{'MB out':>9}{'peak MB':>10}"
        f"{'over baseline':>15}  target"
    )
    for fmt, r in results.items():
        target = f"<= {TARGETS[fmt]:.0f} s" if fmt in TARGETS else ""
        print(
            f"{fmt:<9}{r['rows']:>9,}{r['seconds']:>10.1f}{r['cpu']:>8.1f}{r['bytes'] / 1e6:>9.1f}"
            f"{r['peak_mb']:>10.0f}"
            f"{r['peak_mb'] - baseline:>15.0f}  {target}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
