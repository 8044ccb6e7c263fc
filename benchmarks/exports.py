"""Time the inventory exports against a large portfolio (see ``generate.py``).

    python benchmarks/exports.py --database-url sqlite:////tmp/bench.sqlite3

Each format runs in its own process, through the same code as ``flask --app app export
systems``, writing to a temporary file; the table gives the wall time, the file size and the
process's peak resident memory, beside a baseline process that only loads the app and counts
the systems (so "flat memory" can be read off: peak minus baseline). Targets at 100,000
systems: CSV <= 5 s, XLSX <= 30 s, JSON <= 5 s; publiccode.yml and Backstage (one YAML document
per system) have no target yet. ``--formats read-publiccode,read-backstage`` times reading such a
file back (what an import does first); its peak memory holds the whole file and every parsed
document. Nothing is asserted; figures are printed.
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


def child(database_url: str, fmt: str) -> dict[str, float]:
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
    started = time.perf_counter()
    size = 0
    with app.app_context(), Session(get_engine(app)) as session:
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
    started = time.perf_counter()
    source = reader(data, max_bytes=len(data))
    return {
        "seconds": time.perf_counter() - started,
        "bytes": len(data),
        "rows": len(source.records),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--formats", default="baseline,csv,json,xlsx,publiccode,backstage")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.database_url, args.child)))
        return 0
    results = {}
    for fmt in args.formats.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--database-url", args.database_url, "--child", fmt],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        if done.returncode:
            raise SystemExit(f"{fmt} failed:\n{done.stderr}")
        results[fmt] = json.loads(done.stdout.strip().splitlines()[-1])
    baseline = results.get("baseline", {}).get("peak_mb", 0.0)
    header = f"{'format':<16}{'rows':>9}{'seconds':>10}{'MB out':>9}{'peak MB':>10}{'over baseline':>15}"
    print(header + "  target")
    for fmt, r in results.items():
        target = f"<= {TARGETS[fmt]:.0f} s" if fmt in TARGETS else ""
        print(
            f"{fmt:<16}{r['rows']:>9,}{r['seconds']:>10.1f}{r['bytes'] / 1e6:>9.1f}{r['peak_mb']:>10.0f}"
            f"{r['peak_mb'] - baseline:>15.0f}  {target}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
