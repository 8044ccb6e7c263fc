"""Time the shared overlap index: build the snapshot once, then start web workers that map it.

    python benchmarks/generate.py --systems 20000 --database-url sqlite:////tmp/bench20k.sqlite3
    python benchmarks/snapshot.py --database-url sqlite:////tmp/bench20k.sqlite3 [--workers 4]

Prints, for the portfolio in the database:

* ``build``: fitting the index and saving it (what the job and ``flask index build`` do), and
  the snapshot's size on disk;
* per worker (each a process of its own, as gunicorn's are, all alive at once): the time its
  first index takes (mapping the snapshot and catching up), then of a first query, and its
  memory: resident (RSS), the part mapped from the snapshot's files (shared through the page
  cache), and its proportional share (PSS: shared pages divided among the processes that map
  them), whose sum over the workers is what they cost the machine together;
* with ``--fit``, the same for one worker fitting its own index, as every worker did before.

The snapshot goes to a temporary directory unless ``--index-dir`` names one; nothing is
written to the database except the build's audit event.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKER = """
import json, sys, time
from registry.factory import create_app
from registry.db import command_session
from registry.services.overlaps import portfolio_index

app = create_app(json.loads(sys.argv[1]))
with app.app_context(), command_session() as session:
    started = time.perf_counter()
    finder = portfolio_index().current(session)
    ready = time.perf_counter() - started
    record = finder.records_[len(finder.records_) // 2]
    started = time.perf_counter()
    finder.query({"name": record.name, "description": record.description}, k=10)
    queried = time.perf_counter() - started
    source = portfolio_index().source
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
kb = lambda key: int(status[key].split()[0]) / 1024
print(json.dumps({"source": source, "ready": ready, "query": queried, "rss": kb("VmRSS"),
                  "file": kb("RssFile"), "anon": kb("RssAnon")}), flush=True)
sys.stdin.readline()  # stay alive until every worker has been measured
"""


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_workers(count: int, config: dict[str, Any]) -> list[dict[str, Any]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(config)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for process in processes:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit(f"a worker failed (exit {process.wait()})")
        results.append({**json.loads(line), "pid": process.pid})
    for result in results:
        result["pss"] = pss_mb(result["pid"])
    for process in processes:
        process.communicate("\n")
    return results


def build(config: dict[str, Any], index_dir: Path) -> tuple[float, float, int]:
    from registry.db import command_session
    from registry.factory import create_app
    from registry.services.index_snapshot import build_snapshot

    app = create_app(config)
    with app.app_context(), command_session() as session:
        started = time.perf_counter()
        report = build_snapshot(session, index_dir)
        seconds = time.perf_counter() - started
    return seconds, report.bytes / 1e6, report.systems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a database filled by generate.py")
    parser.add_argument("--workers", type=int, default=4, help="web workers to start at once (default 4)")
    parser.add_argument("--index-dir", type=Path, default=None, help="where to save (default: a temp dir)")
    parser.add_argument("--fit", action="store_true", help="also time one worker fitting its own index")
    parser.add_argument(
        "--reuse", action="store_true", help="start the workers on the snapshot already in --index-dir"
    )
    args = parser.parse_args(argv)

    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="overlap-index-"))
    config = {
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "benchmark",
        "AUTO_SETUP": False,
        "INDEX_DIR": str(index_dir),
        "INDEX_AUTO_BUILD": False,
        "EMBEDDED_WORKER": False,
    }
    if args.reuse:
        print(f"snapshot in {index_dir}, built earlier")
    else:
        seconds, megabytes, systems = build(config, index_dir)
        print(f"{systems:,} systems; snapshot in {index_dir}")
        print(f"build (fit + save)   {seconds:8.1f} s   size on disk {megabytes:8.1f} MB")
    runs = [("snapshot", start_workers(args.workers, config))]
    if args.fit:
        runs.append(("fit", start_workers(1, {**config, "INDEX_DIR": str(index_dir / "none")})))
    header = ("ready s", "query s", "RSS MB", "mapped MB", "PSS MB")
    print(f"{'worker':<10}{'index from':<12}" + "".join(f"{h:>{11 if 'mapped' in h else 9}}" for h in header))
    for label, results in runs:
        for number, r in enumerate(results, 1):
            print(
                f"{label} {number:<5}{r['source']:<12}{r['ready']:9.2f}{r['query']:9.2f}"
                f"{r['rss']:9.0f}{r['file']:11.0f}{r['pss']:9.0f}"
            )
        if len(results) > 1:
            print(f"{'':<22}{'together (sum of PSS)':>27}{sum(r['pss'] for r in results):20.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
