"""Time a large CSV import: validate and preview, then commit, then re-import the same file.

    python benchmarks/generate.py --systems 100000 --database-url sqlite:////tmp/src.sqlite3
    python benchmarks/imports.py --source-url sqlite:////tmp/src.sqlite3 \\
        --target-url sqlite:////tmp/target.sqlite3

The CSV is the source portfolio's own export (every column filled as on real data); the target
is a fresh registry with the same agencies and taxonomies and no systems, as an agency
migrating its list would have. The import runs through the same service as the import page
and ``flask --app app import systems``: planning (read, type, resolve codes, validate every
row, permissions), then the commit (plan again, bulk insert, audit events, findings). The
commit takes the plan just made, as the command line does (the two-step web import plans again
at commit, so there it costs one more preview). The re-import shows the idempotent path: every
row matched and unchanged. Target at 100,000 rows: validate + commit <= 60 s on SQLite and
PostgreSQL. Nothing is asserted; figures are printed, with this process's CPU time beside the
wall time so a busy machine can be told apart from slow code.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

HERE = Path(__file__).resolve().parent


def export_csv(source_url: str, rows: int | None) -> bytes:
    sys.path.insert(0, str(HERE))
    from pages import make_app
    from sqlmodel import Session

    from registry.db import get_engine
    from registry.exports import inventory
    from registry.exports.formats import ExportMeta, csv_chunks
    from registry.filters import SystemFilter

    app = make_app(source_url)
    with app.app_context(), Session(get_engine(app)) as session:
        found = inventory.rows(session, inventory.ExportScope(SystemFilter()))
        meta = ExportMeta(exported_at="benchmark", exported_by="benchmark", filters={}, count=0)
        return b"".join(csv_chunks(meta, islice(found, rows) if rows else found))


def fresh_target(target_url: str) -> None:
    """The generator's agencies and taxonomies, without its one system."""
    subprocess.run(
        [
            sys.executable,
            str(HERE / "generate.py"),
            "--systems",
            "1",
            "--database-url",
            target_url,
            "--replace",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    sys.path.insert(0, str(HERE))
    from sqlalchemy import create_engine, delete

    from registry.config import normalise_database_url
    from registry.models import (
        AuditEvent,
        AuditHead,
        Dependency,
        DuplicateWarning,
        Finding,
        InformationSystem,
        SystemCapabilityLink,
        SystemDataDomainLink,
        SystemUserAgencyLink,
        UsageReport,
    )

    engine = create_engine(normalise_database_url(target_url))
    with engine.begin() as conn:
        for model in (
            Finding,
            DuplicateWarning,
            Dependency,
            UsageReport,
            SystemUserAgencyLink,
            SystemCapabilityLink,
            SystemDataDomainLink,
            InformationSystem,
            AuditEvent,
            AuditHead,
        ):
            conn.execute(delete(model))
    engine.dispose()


def server_cpu(session: object) -> float:
    """CPU seconds of the PostgreSQL backend serving ``session`` (0 on SQLite, or if it runs
    elsewhere): on a shared machine, client plus server CPU says what wall time cannot."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":  # type: ignore[attr-defined]
        return 0.0
    pid = session.scalar(text("SELECT pg_backend_pid()"))  # type: ignore[attr-defined]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(target_url: str, data: bytes, profile: bool) -> dict[str, float]:
    from pages import make_app
    from sqlmodel import Session

    from registry.auth.actor import Actor
    from registry.db import get_engine
    from registry.services.imports import Action, commit_import, plan_import

    app = make_app(target_url)
    actor = Actor.operator("benchmark")
    figures: dict[str, float] = {}
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    with app.app_context(), Session(get_engine(app)) as session:
        server = server_cpu(session)
        started, cpu = time.perf_counter(), time.process_time()
        plan = plan_import(session, actor, "inventory.csv", data, fmt="csv")
        figures["plan_s"] = time.perf_counter() - started
        figures["plan_cpu"] = time.process_time() - cpu
        figures["plan_server"], server = server_cpu(session) - server, server_cpu(session)
        if not plan.ok:
            print(plan.problems()[:10])
            raise SystemExit("the file has problems")
        figures["rows"] = len(plan.rows)
        started, cpu = time.perf_counter(), time.process_time()
        result = commit_import(session, actor, "inventory.csv", data, fmt="csv", plan=plan)
        session.commit()  # the operation flushes; the command commits, as the command line does
        figures["commit_s"] = time.perf_counter() - started
        figures["commit_cpu"] = time.process_time() - cpu
        figures["commit_server"], server = server_cpu(session) - server, server_cpu(session)
        figures["created"] = result.created
        started, cpu = time.perf_counter(), time.process_time()
        again = plan_import(session, actor, "inventory.csv", data, fmt="csv")
        figures["reimport_plan_s"] = time.perf_counter() - started
        figures["reimport_cpu"] = time.process_time() - cpu
        figures["reimport_server"] = server_cpu(session) - server
        figures["reimport_unchanged"] = again.counts[Action.UNCHANGED]
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:12000])
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source-url", required=True, help="a portfolio made by generate.py")
    parser.add_argument("--target-url", required=True, help="a database this script may empty")
    parser.add_argument("--rows", type=int, help="import only the first ROWS systems")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    args = parser.parse_args(argv)

    data = export_csv(args.source_url, args.rows)
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        handle.write(data)
        handle.flush()
        fresh_target(args.target_url)
        figures = run(args.target_url, data, args.profile)
    print(f"CSV: {len(data) / 2**20:.1f} MB, {int(figures['rows']):,} rows")
    print(f"{'':22}{'wall s':>8}{'CPU s':>8}{'server':>8}   (server: its PostgreSQL backend)")
    for label, key, extra in (
        ("validate + preview", "plan", ""),
        ("commit", "commit", f"   created {int(figures['created']):,}"),
        ("re-import preview", "reimport", f"   unchanged {int(figures['reimport_unchanged']):,}"),
    ):
        wall = figures["reimport_plan_s" if key == "reimport" else f"{key}_s"]
        print(f"{label:22}{wall:8.1f}{figures[f'{key}_cpu']:8.1f}{figures[f'{key}_server']:8.1f}{extra}")
        if key == "commit":
            total = figures["plan_s"] + figures["commit_s"]
            cpu = sum(figures[f"{k}_{c}"] for k in ("plan", "commit") for c in ("cpu", "server"))
            print(f"{'total':22}{total:8.1f}{cpu:16.1f}   target 60 s (CPU + server together)")
    print(f"peak memory {figures['peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
