"""Time the list and detail pages against a large portfolio (see ``generate.py``).

    python benchmarks/pages.py --database-url sqlite:////tmp/bench.sqlite3 [--requests 200]

Each scenario is timed twice, after a warm-up: through a real HTTP server (werkzeug's threaded
server on a local port, requested with ``urllib``: the headline, as it includes the WSGI server
and the socket) and through Flask's test client (no network: the app's own cost). For every
request the time spent inside the database driver is summed too, so a slow page says at once
whether SQL or Python (ORM, template) is to blame. The target is p95 <= 100 ms at 100,000
systems; nothing is asserted, the numbers are printed.

Every scenario runs in its own child process, so that a crash of the interpreter (seen on
CPython 3.11) is reported in the table instead of ending the run; ``--in-process`` turns that off.
``--profile SCENARIO`` runs that scenario under pyinstrument (``pip install pyinstrument``);
``--queries SCENARIO`` prints every SQL statement of one request with its time, and with
``--explain MS`` the plan of each statement slower than MS.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, before_render_template, request, template_rendered
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from werkzeug.serving import make_server

from registry import migrate
from registry.config import normalise_database_url
from registry.db import get_engine
from registry.factory import create_app
from registry.filters import list_systems, parse_filter
from registry.models import Agency, Capability, Dependency, InformationSystem, SystemCapabilityLink, User

TARGET_P95_MS = 100.0
SEARCH_PAIRS = ("van ban", "dang vien", "phan anh", "mot cua", "hop truc", "tai san", "ho tich", "du lieu")


@dataclass
class Scenario:
    key: str
    label: str
    urls: list[str]
    kind: str = "list"  # "list" counts matching rows with the app's own filter code
    rows: str = ""

    def url(self, i: int) -> str:
        return self.urls[i % len(self.urls)]


@dataclass
class Timing:
    wall_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    render_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)


class SqlMeter:
    """Sums the time spent in ``cursor.execute`` (driver + database) and in template rendering.

    Requests are issued one at a time, so a single accumulator is enough even though the HTTP
    server answers on its own thread. What is left of a request's time once SQL and rendering
    are taken out is Python: ORM object loading, view code, WSGI.
    """

    def __init__(self, engine: Engine, app: Flask | None = None) -> None:
        self.total = 0.0
        self.count = 0
        self.render = 0.0
        self.log: list[tuple[float, str, Any]] | None = None
        self._local = threading.local()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        if app is not None:
            before_render_template.connect(self._render_started, app)
            template_rendered.connect(self._render_finished, app)

    def reset(self) -> None:
        self.total, self.count, self.render = 0.0, 0, 0.0

    def _render_started(self, *_args: Any, **_kwargs: Any) -> None:
        self._local.render_started = time.perf_counter()

    def _render_finished(self, *_args: Any, **_kwargs: Any) -> None:
        self.render += time.perf_counter() - self._local.render_started

    def _before(self, *_args: Any) -> None:
        self._local.started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        elapsed = time.perf_counter() - self._local.started
        self.total += elapsed
        self.count += 1
        if self.log is not None:
            self.log.append((elapsed * 1000, statement, parameters))


def build_scenarios(app: Flask, rng: random.Random, requests: int) -> list[Scenario]:
    """The brief's scenarios, with inputs drawn from the database so they exist at any size."""
    with Session(get_engine(app)) as session:
        ids = list(session.scalars(select(InformationSystem.id)))
        sample = rng.sample(ids, min(len(ids), max(requests, 50)))
        codes = list(session.scalars(select(InformationSystem.code).where(InformationSystem.id.in_(sample))))
        rng.shuffle(codes)
        # Province roots (their subtree holds the communes) and the most used capability.
        provinces = list(
            session.scalars(
                select(Agency.code)
                .where(Agency.level == "province", Agency.parent_id.is_(None))
                .order_by(Agency.id)
            )
        )
        rng.shuffle(provinces)
        capability = session.scalar(
            select(Capability.code)
            .join(SystemCapabilityLink, SystemCapabilityLink.capability_id == Capability.id)
            .group_by(Capability.code)
            .order_by(func.count().desc())
            .limit(1)
        )
        hub = session.execute(
            select(InformationSystem.code, func.count(Dependency.id))
            .join(Dependency, Dependency.target_id == InformationSystem.id)
            .group_by(InformationSystem.code)
            .order_by(func.count(Dependency.id).desc())
            .limit(1)
        ).first()

    def q(**args: Any) -> str:
        return "/systems/?" + urlencode(args, doseq=True) if args else "/systems/"

    scenarios = [
        Scenario("a", "list, page 1", [q()]),
        Scenario(
            "b1",
            "search+status+level, 50/page",
            [q(q="van ban", status="in_operation", level="province", per_page=50)],
        ),
        Scenario(
            "b2",
            "search+status+level, page 50",
            [q(q="van ban", status="in_operation", level="province", per_page=50, page=50)],
        ),
        Scenario("b3", "no filter, page 50 (50/page)", [q(page=50, per_page=50)]),
        Scenario(
            "c",
            "province agency + capability",
            [q(agency=p, capability=capability) for p in provinces[:12]]
            if provinces and capability
            else [q()],
        ),
        Scenario(
            "d",
            "detail, random systems",
            [f"/systems/{c}" for c in codes] or ["/systems/"],
            kind="detail",
            rows="1",
        ),
        Scenario("e", "search only, two words", [q(q=words) for words in SEARCH_PAIRS]),
    ]
    if hub is not None:
        scenarios.append(
            Scenario(
                "d2",
                "detail, most depended-on",
                [f"/systems/{hub[0]}"],
                kind="detail",
                rows=f"1 ({hub[1]:,} in)",
            )
        )
    return scenarios


def matching_rows(app: Flask, urls: Sequence[str]) -> str:
    """Rows the filter matches, with the app's own filter code (a range when the URL varies)."""
    totals = []
    for url in urls:
        with app.test_request_context(url), Session(get_engine(app)) as session:
            totals.append(list_systems(session, parse_filter(request.args).filter).total)
    low, high = min(totals), max(totals)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


Fetch = Callable[[str], tuple[int, int]]


@contextmanager
def http_server(app: Flask) -> Iterator[str]:
    """The app behind werkzeug's threaded server on a free local port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def reader_token(app: Flask) -> str:
    """A read-only API token of a benchmark account: pages are served to signed-in people only.

    Every timed request therefore pays for authentication (token lookup and account load) as
    a real one does.
    """
    from registry.auth.actor import Actor
    from registry.services.tokens import issue_token
    from registry.services.users import UserInput, create_user
    from registry.web.access import password_hasher

    actor = Actor.operator("benchmark")
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        user = session.scalar(select(User).where(User.username == "benchmark"))
        if user is None:
            data = UserInput(
                username="benchmark",
                full_name="Benchmark reader",
                role="auditor",
                password=secrets.token_urlsafe(24),
            )
            user = create_user(session, data, actor=actor, hasher=password_hasher(app))
        secret = issue_token(session, user, name="pages benchmark", scope="read", days=1, actor=actor).secret
        session.commit()  # services leave the commit to their caller, as a request does
        return secret


def http_fetch(base: str, token: str) -> Fetch:
    """A fresh connection per request, as a browser without keep-alive would make."""

    def fetch(path: str) -> tuple[int, int]:
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, len(response.read())

    return fetch


def client_fetch(app: Flask, token: str) -> Fetch:
    """Flask's test client: the app's own cost, without sockets or the WSGI server."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def fetch(path: str) -> tuple[int, int]:
        response = client.get(path, headers=headers)
        return response.status_code, len(response.get_data())

    return fetch


def run(fetch: Fetch, scenario: Scenario, n: int, warmup: int, meter: SqlMeter, budget: float) -> Timing:
    """Time ``n`` requests, or fewer (at least 10) when a slow page would exceed ``budget`` seconds."""
    timing = Timing()
    for i in range(warmup):
        fetch(scenario.url(i + 7))
    deadline = time.perf_counter() + budget
    for i in range(n):
        if i >= 10 and time.perf_counter() > deadline:
            break
        meter.reset()
        started = time.perf_counter()
        status, size = fetch(scenario.url(i))
        timing.wall_ms.append((time.perf_counter() - started) * 1000)
        timing.sql_ms.append(meter.total * 1000)
        timing.render_ms.append(meter.render * 1000)
        timing.queries.append(meter.count)
        timing.size.append(size)
        if status != 200:
            raise RuntimeError(f"{scenario.url(i)} answered {status}")
    return timing


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: with 200 samples p95 is the 190th, an observed request."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(t: Timing) -> tuple[float, float, float]:
    """p50, p95 and max of the wall times."""
    return statistics.median(t.wall_ms), percentile(t.wall_ms, 0.95), max(t.wall_ms)


def profile(app: Flask, scenario: Scenario, n: int) -> None:
    """Where a scenario's time goes, function by function (pyinstrument, test client, warm)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: pip install pyinstrument") from None
    fetch = client_fetch(app, reader_token(app))
    for i in range(3):
        fetch(scenario.url(i))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in range(n):
        fetch(scenario.url(i))
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def show_queries(app: Flask, scenario: Scenario, meter: SqlMeter, explain_over_ms: float | None) -> None:
    """Every statement of one (warm) request with its time; the plans of the slow ones if asked."""
    fetch = client_fetch(app)
    fetch(scenario.url(0))
    meter.log = []
    fetch(scenario.url(0))
    log, meter.log = meter.log, None
    for elapsed, statement, _parameters in log:
        print(f"{elapsed:8.2f} ms  {' '.join(statement.split())[:300]}")
    print(f"{sum(entry[0] for entry in log):8.2f} ms in {len(log)} statements")
    if explain_over_ms is None:
        return
    engine = get_engine(app)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    for elapsed, statement, parameters in log:
        if elapsed < explain_over_ms:
            continue
        print(f"\n--- {elapsed:.1f} ms: {' '.join(statement.split())}\n    parameters: {parameters}")
        with engine.connect() as conn:
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                print("    " + " | ".join(str(v) for v in row))


def measure(args: argparse.Namespace, keys: list[str]) -> dict[str, Any]:
    """Run the chosen scenarios in this process; a JSON-friendly result per scenario."""
    app = make_app(args.database_url)
    meter = SqlMeter(get_engine(app), app)
    scenarios = [s for s in build_scenarios(app, random.Random(args.seed), args.requests) if s.key in keys]
    modes = ["http", "client"] if args.mode == "both" else [args.mode]
    token = reader_token(app)
    out: dict[str, Any] = {}
    for s in scenarios:
        if s.kind == "list":
            s.rows = matching_rows(app, s.urls)
        out[s.key] = {"rows": s.rows, "timings": {}}
    for mode in modes:
        if mode == "http":
            with http_server(app) as base:
                fetch = http_fetch(base, token)
                for s in scenarios:
                    out[s.key]["timings"][mode] = vars(
                        run(fetch, s, args.requests, args.warmup, meter, args.budget)
                    )
        else:
            fetch = client_fetch(app, token)
            for s in scenarios:
                out[s.key]["timings"][mode] = vars(
                    run(fetch, s, args.requests, args.warmup, meter, args.budget)
                )
    return out


def measure_isolated(args: argparse.Namespace, key: str) -> dict[str, Any]:
    """One scenario in a child process, so that a crash of the app is reported, not fatal.

    Why: on CPython 3.11 the list and detail pages can crash the interpreter (segmentation fault
    during garbage collection, after a few dozen requests); the other scenarios must still be measured.
    """
    command = [
        sys.executable,
        __file__,
        "--database-url",
        args.database_url,
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
        "--budget",
        str(args.budget),
        "--mode",
        args.mode,
        "--only",
        key,
        "--child",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        if done.returncode > 0:  # a Python exception: its last line says what
            return {key: {"failed": "error", "detail": lines[-1:]}}
        frames = [line.strip() for line in lines if line.strip().startswith("File ")]
        where = [f"in {frames[0]}"] if frames else lines[-1:]
        return {key: {"failed": f"crashed ({signal.Signals(-done.returncode).name})", "detail": where}}
    return json.loads(done.stdout)


def make_app(database_url: str) -> Flask:
    """The real app on the given database, migrated to the newest schema, without seeding it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    url = normalise_database_url(database_url)
    app = create_app({"DATABASE_URL": url, "AUTO_SETUP": False, "SECRET_KEY": "bench"})
    migrate.upgrade(get_engine(app))
    return app


def print_results(scenarios: list[Scenario], results: dict[str, Any], modes: list[str]) -> None:
    """One line per scenario: wall time per mode, then where the last mode's time went (medians)."""
    head = f"{'':4}{'scenario':<31}{'rows':>15}"
    sub = f"{'':4}{'':<31}{'':>15}"
    for mode in modes:
        head += f" | {mode + ' ms':^28}"
        sub += f" | {'n':>4}{'p50':>8}{'p95':>8}{'max':>8}"
    head += f" | {'p50 split, ms (' + modes[-1] + ')':^24} |"
    sub += f" | {'SQL':>7}{'render':>8}{'other':>8}{'':1}| {'SQLs':>4}{'KB':>6}"
    print(head)
    print(sub)
    print("-" * len(sub))
    for s in scenarios:
        result = results.get(s.key, {})
        line = f"{s.key:<4}{s.label:<31}"
        if "failed" in result:
            print(line + f"{result['failed']:>15}  " + " / ".join(result.get("detail", []))[-160:])
            continue
        timings = {mode: Timing(**result["timings"][mode]) for mode in modes}
        line += f"{result['rows']:>15}"
        for mode in modes:
            p50, p95, top = summary(timings[mode])
            flag = "*" if p95 > TARGET_P95_MS else " "
            line += f" | {len(timings[mode].wall_ms):>4}{p50:8.1f}{p95:7.1f}{flag}{top:8.1f}"
        ref = timings[modes[-1]]
        sql, render = statistics.median(ref.sql_ms), statistics.median(ref.render_ms)
        other = statistics.median(ref.wall_ms) - sql - render
        line += f" | {sql:7.1f}{render:8.1f}{other:8.1f} | {statistics.median(ref.queries):4.0f}"
        line += f"{statistics.median(ref.size) / 1024:6.0f}"
        print(line)
    print(
        f"* p95 above the {TARGET_P95_MS:.0f} ms target. SQL = time inside cursor.execute; render = Jinja; "
        "other = the rest (ORM loading, view code, WSGI).\n  On SQLite rows are stepped while the ORM "
        "fetches them, after execute returns, so SQL undercounts there and 'other' includes it;\n"
        "  psycopg fetches the whole result inside execute. SQLs = statements per request; KB = page size."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of a generated database")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario and mode")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the systems and provinces picked")
    parser.add_argument(
        "--budget",
        type=float,
        default=90.0,
        help="seconds per scenario and mode; a slower page gets fewer requests, at least 10 (default 90)",
    )
    parser.add_argument("--mode", choices=("both", "http", "client"), default="both")
    parser.add_argument("--only", help="comma-separated scenario keys, e.g. a,d")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run every scenario in this process (default: one child process each)",
    )
    parser.add_argument("--profile", metavar="SCENARIO", help="profile one scenario with pyinstrument")
    parser.add_argument("--queries", metavar="SCENARIO", help="print the SQL of one request of a scenario")
    parser.add_argument(
        "--explain",
        type=float,
        metavar="MS",
        help="with --queries: show the plan of statements slower than MS (EXPLAIN ANALYZE on PostgreSQL)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        faulthandler.enable()  # a crash then names the Python frame it happened in
        print(json.dumps(measure(args, args.only.split(","))))
        return 0

    app = make_app(args.database_url)
    engine = get_engine(app)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
    version = ".".join(str(v) for v in engine.dialect.server_version_info or ())
    print(f"database: {engine.dialect.name} {version}, systems: {count:,}")
    if not count:
        raise SystemExit("No systems: generate a portfolio first (benchmarks/generate.py).")
    scenarios = build_scenarios(app, random.Random(args.seed), args.requests)
    by_key = {s.key: s for s in scenarios}
    chosen = args.profile or args.queries
    if chosen and chosen not in by_key:
        raise SystemExit(f"Unknown scenario {chosen!r}; choose one of {', '.join(by_key)}")
    if args.profile:
        profile(app, by_key[args.profile], args.requests)
        return 0
    if args.queries:
        show_queries(app, by_key[args.queries], SqlMeter(engine), args.explain)
        return 0
    if args.only:
        scenarios = [s for s in scenarios if s.key in args.only.split(",")]
    for s in scenarios:
        more = f"  (+{len(s.urls) - 1} more)" if len(s.urls) > 1 else ""
        print(f"  {s.key:<3} {s.url(0)}{more}")
    engine.dispose()

    modes = ["http", "client"] if args.mode == "both" else [args.mode]
    started = time.perf_counter()
    results: dict[str, Any] = {}
    if args.in_process:
        results = measure(args, [s.key for s in scenarios])
    else:
        for s in scenarios:
            results.update(measure_isolated(args, s.key))
    print(
        f"\n{args.requests} timed requests per scenario and mode after {args.warmup} warm-up; "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    print_results(scenarios, results, modes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
