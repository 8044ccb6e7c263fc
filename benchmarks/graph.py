"""Time the dependency neighbourhood against a large portfolio (see ``generate.py``).

    python benchmarks/generate.py --systems 100000 --dependencies-per-system 3 \\
        --database-url sqlite:////tmp/bench-graph.sqlite3
    python benchmarks/graph.py --database-url sqlite:////tmp/bench-graph.sqlite3 [--requests 200]

``GET /api/v1/graph?focus=CODE&hops=N`` is requested through Flask's test client with a
read-only API token (so each request pays for authentication and JSON, not for sockets), around
ordinary systems drawn at random and, the worst case, around the shared platform with the most
connections. The system page of that platform, whose small picture counts its consumers, is
timed too. Target: 2-hop p95 <= 100 ms at 100,000 systems and ~300,000 dependencies.

Wall time and this process's CPU time are both printed: on a shared machine the wall time
mostly measures the other processes; on SQLite (in-process) the CPU time is what the request
costs, on PostgreSQL it leaves out the server's share. The database gains a benchmark account
and its token; nothing else is written. Nothing is asserted; figures are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import client_fetch, make_app, percentile  # noqa: E402

from registry.auth.actor import Actor  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.models import Dependency, InformationSystem, User  # noqa: E402
from registry.services.tokens import issue_token  # noqa: E402
from registry.services.users import UserInput, create_user  # noqa: E402
from registry.web.access import password_hasher  # noqa: E402


def reader_token(app) -> str:  # type: ignore[no-untyped-def]
    """A read-only API token of an auditor account, committed before the first request."""
    actor = Actor.operator("benchmark")
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        user = session.scalar(select(User).where(User.username == "benchmark-graph"))
        if user is None:
            data = UserInput(
                username="benchmark-graph",
                full_name="Graph benchmark reader",
                role="auditor",
                password=secrets.token_urlsafe(24),
            )
            user = create_user(session, data, actor=actor, hasher=password_hasher(app))
        secret = issue_token(session, user, name="graph benchmark", scope="read", days=1, actor=actor).secret
        session.commit()
        return secret


def busiest_platforms(session: Session, n: int) -> list[tuple[str, int]]:
    """The shared platforms with the most connections (dependants plus deployments)."""
    dependants = dict(
        session.execute(
            select(Dependency.target_id, func.count()).group_by(Dependency.target_id)  # type: ignore[arg-type]
        ).all()
    )
    deployments = dict(
        session.execute(
            select(InformationSystem.instance_of_id, func.count())  # type: ignore[arg-type]
            .where(InformationSystem.instance_of_id.is_not(None))  # type: ignore[union-attr]
            .group_by(InformationSystem.instance_of_id)
        ).all()
    )
    totals = {i: dependants.get(i, 0) + deployments.get(i, 0) for i in set(dependants) | set(deployments)}
    best = sorted(totals, key=lambda i: -totals[i])[:n]
    codes = dict(
        session.execute(
            select(InformationSystem.id, InformationSystem.code).where(InformationSystem.id.in_(best))  # type: ignore[union-attr]
        ).all()
    )
    return [(codes[i], totals[i]) for i in best]


def ordinary_systems(session: Session, n: int, rng: random.Random) -> list[str]:
    total = session.scalar(select(func.max(InformationSystem.id))) or 0
    ids = rng.sample(range(1, total + 1), min(n, total))
    found = session.execute(
        select(InformationSystem.code).where(
            InformationSystem.id.in_(ids),  # type: ignore[union-attr]
            InformationSystem.is_shared_platform.is_(False),  # type: ignore[attr-defined]
        )
    )
    return [code for (code,) in found]


def timed(fetch: Callable[[str], tuple[int, int]], paths: Sequence[str], warmup: int) -> dict[str, float]:
    for path in paths[:warmup]:
        fetch(path)
    wall, cpu, sizes = [], [], []
    for path in paths:
        started, started_cpu = time.perf_counter(), time.thread_time()
        status, size = fetch(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        sizes.append(size)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return {
        "n": len(wall),
        "p50": statistics.median(wall),
        "p95": percentile(wall, 0.95),
        "max": max(wall),
        "cpu50": statistics.median(cpu),
        "cpu95": percentile(cpu, 0.95),
        "kb": statistics.median(sizes) / 1024,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario (default 200)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    app = make_app(args.database_url)
    engine = get_engine(app)
    token = reader_token(app)
    rng = random.Random(args.seed)
    with Session(engine) as session:
        systems = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
        edges = session.scalar(select(func.count()).select_from(Dependency)) or 0
        platforms = busiest_platforms(session, 3)
        ordinary = ordinary_systems(session, args.requests * 2, rng)[: args.requests]
    fetch = client_fetch(app, token)
    biggest, connections = platforms[0]

    print(f"database: {engine.dialect.name}; {systems:,} systems, {edges:,} dependencies")
    print(f"busiest shared platform: {biggest} with {connections:,} connections")
    for code, n in platforms[1:]:
        print(f"  next: {code} with {n:,}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'':<49}{'wall':^27}{'CPU (this process)':^20}")
    print(
        f"{'scenario':<44}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'p50 ms':>10}{'p95 ms':>10}{'KB':>7}"
    )
    scenarios: list[tuple[str, list[str]]] = []
    for hops in (1, 2, 3):
        scenarios.append(
            (f"ordinary system, {hops} hop(s)", [f"/api/v1/graph?focus={c}&hops={hops}" for c in ordinary])
        )
    for hops in (1, 2, 3):
        scenarios.append(
            (
                f"busiest platform, {hops} hop(s)",
                [f"/api/v1/graph?focus={biggest}&hops={hops}"] * max(20, args.requests // 4),
            )
        )
    scenarios.append(
        (
            "three busiest platforms, 2 hops",
            [f"/api/v1/graph?focus={code}&hops=2" for code, _n in platforms] * max(7, args.requests // 12),
        )
    )
    scenarios.append(
        ("system page of the busiest platform", [f"/systems/{biggest}"] * max(20, args.requests // 4))
    )
    scenarios.append(
        ("system page of ordinary systems", [f"/systems/{c}" for c in ordinary[: args.requests // 2]])
    )
    for label, paths in scenarios:
        r = timed(fetch, paths, warmup=3)
        print(
            f"{label:<44}{r['n']:>5}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['max']:>9.1f}"
            f"{r['cpu50']:>10.1f}{r['cpu95']:>10.1f}{r['kb']:>7.1f}"
        )
    body = (
        app.test_client()
        .get(f"/api/v1/graph?focus={biggest}&hops=2", headers={"Authorization": f"Bearer {token}"})
        .get_json()
    )
    print(
        f"busiest platform at 2 hops: {len(body['nodes'])} nodes "
        f"({len(body['collapsed'])} groups standing for "
        f"{sum(c['count'] for c in body['collapsed']):,} connections), {len(body['edges'])} edges"
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
