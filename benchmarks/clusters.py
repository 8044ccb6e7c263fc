"""Time the duplicate clusters (page and ``GET /api/v1/clusters``) on a large portfolio.

    python benchmarks/generate.py --systems 100000 --database-url URL      # first, once
    python benchmarks/clusters.py --database-url URL --synthesize-warnings  # adds warnings once
    python benchmarks/clusters.py --database-url URL                        # times again

``--synthesize-warnings`` replaces every duplication warning with a synthetic graph shaped like
a full scan's (``flask scan`` at 100,000 systems takes long on two cores): each home-built
system gets up to ``--partners`` partners among systems of the same kind (its nearest on a
random line, so groups form overlapping cliques, as nearest-neighbour lists do), a few
percent get a stray link to another kind (the chains that connected components used to
merge), some point at a platform or a deployment of the same kind, and the standing office
has decided some pairs (confirmed, justified, dismissed). It is deterministic (``--seed``).

Timed, each after the previous, and printed (nothing is asserted; the target is p95 <= 500 ms):
the watermark query; the clustering from scratch (cold); the first page request in a new app
(cold: it clusters); then warm requests to the page, a filtered page, a later page and the API.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.config import normalise_database_url  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.factory import create_app  # noqa: E402
from registry.models import DuplicateWarning, InformationSystem, User  # noqa: E402
from registry.services.clusters import compute_clusters, watermark  # noqa: E402

TARGET_P95_MS = 500.0


def product_of(name: str, kinds: Sequence[str]) -> str | None:
    """The generator's kind of system a name starts with (the longest that fits)."""
    best = None
    for kind in kinds:
        if name.startswith(kind) and (best is None or len(kind) > len(best)):
            best = kind
    return best


def synthesize(session: Session, *, partners: int, seed: int) -> int:
    """Replace the warnings with a synthetic scan-like graph; returns how many were written."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import PRODUCTS  # the generator's kinds of systems

    kinds = [p.name for p in PRODUCTS]
    rng = random.Random(seed)
    rows = session.execute(
        select(
            InformationSystem.id,
            InformationSystem.name,
            InformationSystem.is_shared_platform,
            InformationSystem.instance_of_id,
        ).order_by(InformationSystem.id)
    ).all()
    members: dict[str, list[int]] = defaultdict(list)
    reuse: dict[str, list[int]] = defaultdict(list)
    for system_id, name, shared, instance in rows:
        kind = product_of(name, kinds)
        if kind is None:
            continue
        (reuse if shared or instance is not None else members)[kind].append(system_id)
    pairs: dict[tuple[int, int], float] = {}

    def add(a: int, b: int, score: float) -> None:
        if a != b:
            key = (min(a, b), max(a, b))
            pairs[key] = max(pairs.get(key, 0.0), score)

    all_members = [i for group in members.values() for i in group]
    for kind, group in members.items():
        # nearest neighbours on a random line: overlapping cliques along the group, like k-NN lists
        position = sorted(group, key=lambda _i: rng.random())
        for n, system_id in enumerate(position):
            for step in range(1, partners // 2 + 1):
                if n + step < len(position) and rng.random() < 0.85:
                    add(system_id, position[n + step], round(rng.uniform(0.62, 0.98) - 0.02 * step, 3))
            if rng.random() < 0.04:  # a stray link to another kind: the chains of the old method
                add(system_id, rng.choice(all_members), round(rng.uniform(0.6, 0.7), 3))
            if reuse[kind] and rng.random() < 0.15:  # looks like a platform or one of its deployments
                add(system_id, rng.choice(reuse[kind]), round(rng.uniform(0.6, 0.95), 3))
    session.execute(delete(DuplicateWarning))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    batch: list[dict[str, object]] = []
    written = 0
    for (a, b), score in sorted(pairs.items()):
        roll = rng.random()
        disposition = (
            "confirmed"
            if roll < 0.03
            else "justified"
            if roll < 0.04
            else "dismissed"
            if roll < 0.06
            else "open"
        )
        if disposition == "open" and rng.random() < 0.02:
            score = round(rng.uniform(0.45, 0.59), 3)  # stored below the threshold by an older scan
        batch.append(
            {
                "system_a_id": a,
                "system_b_id": b,
                "score": score,
                "relation": "overlap",
                "components": {},
                "reasons": [],
                "detector_version": "synthetic",
                "disposition": disposition,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(batch) == 5000:
            session.execute(insert(DuplicateWarning), batch)
            written += len(batch)
            batch = []
    if batch:
        session.execute(insert(DuplicateWarning), batch)
        written += len(batch)
    session.commit()
    return written


def reader_token(app) -> str:  # type: ignore[no-untyped-def]
    from registry.auth.actor import Actor
    from registry.services.tokens import issue_token
    from registry.services.users import UserInput, create_user
    from registry.web.access import password_hasher

    actor = Actor.operator("benchmark")
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        user = session.scalar(select(User).where(User.username == "benchmark-clusters"))
        if user is None:
            data = UserInput(
                username="benchmark-clusters",
                full_name="Benchmark reader",
                role="auditor",
                password=secrets.token_urlsafe(24),
            )
            user = create_user(session, data, actor=actor, hasher=password_hasher(app))
        secret = issue_token(
            session, user, name="clusters benchmark", scope="read", days=1, actor=actor
        ).secret
        session.commit()
        return secret


def timed(fetch: Callable[[], int], requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        status = fetch()
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"status {status}")
    return times


def line(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    flag = "" if p95 <= TARGET_P95_MS else "  (over target)"
    return (
        f"  {label:<34} n={len(times):>3}  p50 {statistics.median(times):8.1f} ms"
        f"  p95 {p95:8.1f} ms  max {max(times):8.1f} ms{flag}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--synthesize-warnings", action="store_true", help="replace the warnings first")
    parser.add_argument("--partners", type=int, default=10, help="partners per system when synthesizing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=30, help="warm requests per scenario")
    parser.add_argument("--cold-runs", type=int, default=3, help="clusterings from scratch to time")
    args = parser.parse_args(argv)

    config = {
        "DATABASE_URL": normalise_database_url(args.database_url),
        "AUTO_SETUP": False,
        "SECRET_KEY": "bench",
    }
    app = create_app(config)
    engine = get_engine(app)
    print(f"database: {engine.dialect.name}")
    with app.app_context(), Session(engine) as session:
        if args.synthesize_warnings:
            started = time.perf_counter()
            written = synthesize(session, partners=args.partners, seed=args.seed)
            print(f"synthetic warnings: {written:,} in {time.perf_counter() - started:.1f} s")
        systems = session.scalar(select(func.count()).select_from(InformationSystem))
        warnings = session.scalar(select(func.count()).select_from(DuplicateWarning))
        print(f"systems {systems:,}, warnings {warnings:,}")
        marks = []
        for _ in range(10):
            started = time.perf_counter()
            mark = watermark(session)
            marks.append((time.perf_counter() - started) * 1000)
        print(line("watermark query", marks))
        colds = []
        for _ in range(args.cold_runs):
            started = time.perf_counter()
            result = compute_clusters(session, mark)
            colds.append((time.perf_counter() - started) * 1000)
        sizes = [c.size for c in result.clusters]
        print(
            f"clusters: {len(sizes):,} of 2+ systems, {sum(1 for s in sizes if s >= 3):,} of 3+, "
            f"largest {sizes[:8]}; members {sum(sizes):,}"
        )
        print(line("clustering from scratch (cold)", colds))
    engine.dispose()

    token = reader_token(app)
    headers = {"Authorization": f"Bearer {token}"}
    fresh = create_app(config)  # a new worker: empty cache
    client = fresh.test_client()
    capability = next((c.capability for c in result.clusters if c.capability), "")
    province = next((c.provinces[0].code for c in result.clusters if c.provinces), "")

    def get(path: str) -> Callable[[], int]:
        return lambda: client.get(path, headers=headers).status_code

    print(line("page, first request (cold)", timed(get("/review/clusters"), 1)))
    print(line("page (warm)", timed(get("/review/clusters"), args.requests)))
    print(
        line(
            "page, filtered (warm)",
            timed(
                get(f"/review/clusters?capability={capability}&province={province}&min_size=2"), args.requests
            ),
        )
    )
    print(line("page 20 (warm)", timed(get("/review/clusters?page=20"), args.requests)))
    print(line("API, 25 clusters (warm)", timed(get("/api/v1/clusters"), args.requests)))
    print(line("API, 100 clusters (warm)", timed(get("/api/v1/clusters?per_page=100"), args.requests)))
    api_cold = create_app(config).test_client()
    print(
        line(
            "API, first request (cold)",
            timed(lambda: api_cold.get("/api/v1/clusters", headers=headers).status_code, 1),
        )
    )
    get_engine(fresh).dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
