"""Time reporting rounds against a large portfolio (see ``generate.py``).

    python benchmarks/reporting.py --database-url sqlite:////tmp/bench.sqlite3 [--writes 200]

Opens one round covering every agency of the portfolio (about 3,400 on the national
portfolio), then times, through the service operations the pages and the API call:

* ``attest_system`` and ``file_usage_report`` on ``--writes`` systems in operation (each
  audits, refreshes the agency's progress, and for usage rule R9 of the system);
* ``round_progress`` over the whole round (what the round page and ``GET /api/v1/rounds/<id>``
  read), ``list_rounds`` (the rounds list), ``latest_attestations`` over the portfolio, and
  one ``send_reminders`` run (then a second one the same day, which must send nothing).

The database gains a round, attestations, usage reports and audit events: use a scratch
database. Nothing is asserted; figures are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import make_app, percentile  # noqa: E402

from registry.auth.actor import Actor  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.models import Agency, InformationSystem, ReportingRound  # noqa: E402
from registry.services import reporting  # noqa: E402
from registry.services.usage import UsageInput, file_usage_report  # noqa: E402

ACTOR = Actor.operator("benchmark")


def timed(function: Callable[[], Any], repeat: int = 1) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def row(name: str, times: list[float], note: str = "") -> str:
    median = statistics.median(times)
    p95 = percentile(times, 0.95) if len(times) > 1 else median
    return f"| {name} | {len(times)} | {median:,.1f} | {p95:,.1f} | {note} |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writes", type=int, default=200, help="systems to attest and report (default 200)")
    args = parser.parse_args(argv)

    app = make_app(args.database_url)
    engine = get_engine(app)
    lines = ["| operation | runs | median ms | p95 ms | note |", "|---|---|---|---|---|"]
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        agencies = session.scalar(select(func.count()).select_from(Agency)) or 0
        systems = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
        # A month not used by an earlier run, so that every report is a new one.
        earlier = session.scalar(select(func.count()).select_from(ReportingRound)) or 0
        period_end = date.today().replace(day=1) - timedelta(days=1)
        for _ in range(earlier):
            period_end = period_end.replace(day=1) - timedelta(days=1)
        period_start = period_end.replace(day=1)
        agency_ids = tuple(session.scalars(select(Agency.id)))
        times, round_ = timed(
            lambda: reporting.open_round(
                session,
                reporting.RoundInput(
                    title=f"Benchmark {time.time():.0f}",
                    period_start=period_start,
                    period_end=period_end,
                    deadline=date.today() + timedelta(days=14),
                    agency_ids=agency_ids,
                ),
                actor=ACTOR,
            )
        )
        session.commit()
        lines.append(row("open_round (every agency)", times, f"{len(agency_ids):,} agencies"))

        targets = list(
            session.scalars(
                select(InformationSystem)
                .where(InformationSystem.status == "in_operation")
                .order_by(InformationSystem.owner_agency_id, InformationSystem.id)
                .limit(args.writes)
            )
        )
        attest_times, usage_times = [], []
        for index, system in enumerate(targets):
            t, _ = timed(
                lambda s=system: reporting.attest_system(
                    session, round_.id, s, actor=ACTOR, outcome="confirmed"
                )
            )
            attest_times += t
            t, _ = timed(
                lambda s=system, i=index: file_usage_report(
                    session,
                    s,
                    UsageInput(period_start, period_end, 100 + i, 1000 + i, 5_000_000),
                    actor=ACTOR,
                )
            )
            usage_times += t
            session.commit()
        lines.append(row("attest_system", attest_times, "confirm, audit, progress"))
        lines.append(row("file_usage_report", usage_times, "write, audit, R9, progress"))

        times, progress = timed(lambda: reporting.round_progress(session, round_.id), repeat=5)
        lines.append(row("round_progress (whole round)", times, f"{len(progress):,} agencies"))
        times, _ = timed(lambda: reporting.list_rounds(session), repeat=5)
        lines.append(row("list_rounds", times, "every round with its counts"))
        times, latest = timed(lambda: reporting.latest_attestations(session), repeat=5)
        lines.append(row("latest_attestations (portfolio)", times, f"{len(latest):,} systems attested"))
        times, report = timed(lambda: reporting.send_reminders(session, actor=ACTOR, round_id=round_.id))
        session.commit()
        lines.append(row("send_reminders", times, report.summary()))
        times, again = timed(lambda: reporting.send_reminders(session, actor=ACTOR, round_id=round_.id))
        session.commit()
        lines.append(row("send_reminders again, same day", times, f"{again.messages} messages"))

    print(f"{engine.dialect.name}: {systems:,} systems, {agencies:,} agencies")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
