"""Time the liveness and readiness probes, which a load balancer polls every few seconds.

    python benchmarks/probes.py --database-url URL [--queue-url redis://127.0.0.1:6379/0] [--requests 200]

Against any migrated database (``benchmarks/generate.py`` makes a large one). Each probe is
requested in-process (no HTTP server, so the figures are the application's own), first with the
overlap index not built, then after building it (the index check then also counts the systems
saved since). Printed per probe: SQL statements per request, wall and CPU milliseconds (median,
p95, max). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.config import normalise_database_url  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.factory import create_app  # noqa: E402
from registry.services.overlaps import portfolio_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--queue-url", default="", help="default: an SQLite queue in a temporary folder")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="registry-probes-")
    app = create_app(
        {
            "DATABASE_URL": normalise_database_url(args.database_url),
            "QUEUE_URL": args.queue_url or f"sqlite:///{folder}/queue.sqlite3",
            "SECRET_KEY": secrets.token_hex(32),
            "AUTO_SETUP": False,
            "EMBEDDED_WORKER": False,
            "EMBED_IN_BACKGROUND": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    app.instance_path = folder
    engine = get_engine(app)
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1))
    client = app.test_client()

    print(f"{'probe':<28} {'SQL/req':>7} {'wall ms median':>15} {'p95':>7} {'max':>7} {'CPU ms median':>14}")
    for label in ("index not built", "index built"):
        if label == "index built":
            started = time.perf_counter()
            with app.app_context(), Session(engine) as session:
                portfolio_index().current(session)
            print(f"(index built in {time.perf_counter() - started:.1f} s)")
        for path in ("/healthz", "/readyz"):
            client.get(path)  # first request: connections, the migrations' head, templates
            wall, cpu, counts = [], [], []
            for _ in range(args.requests):
                statements[0] = 0
                w, c = time.perf_counter(), time.process_time()
                response = client.get(path)
                wall.append((time.perf_counter() - w) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                counts.append(statements[0])
            wall.sort()
            print(
                f"{path + ' (' + label + ')':<28} {statistics.median(counts):>7.0f} "
                f"{statistics.median(wall):>15.2f} {wall[int(0.95 * len(wall)) - 1]:>7.2f} {wall[-1]:>7.2f} "
                f"{statistics.median(cpu):>14.2f}   HTTP {response.status_code}"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
