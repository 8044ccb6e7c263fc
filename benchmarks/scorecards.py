"""Time the agency scorecards for every agency against a large portfolio (see ``generate.py``).

    python benchmarks/scorecards.py --database-url sqlite:////tmp/bench.sqlite3 --top-up

Prints, for all ~3,500 agencies: the **cold** computation (cache empty: the grouped queries,
the roll-up, the ranking), the **warm** answer when nothing changed (the watermark read and the
cached figures, every level listed in full), the same two through the API and the ranking page
(Flask's test client with a read token, so authentication and rendering are included), and the
first answer after a real write through the services (an API token issued, which is audited:
the cache must notice and recompute). Targets: cold
<= 5 s, warm <= 300 ms at 100,000 systems. Nothing is asserted; the figures are printed.

``--top-up`` first brings the generated portfolio to the issue's scale of measurement: 300,000
dependencies (the generator makes about 1.6 per system), a finding on about half of the systems
and 5,000 duplication warnings (the generator makes neither). Rows are added straight into the
benchmark database, deterministically, and only up to those counts, so running it twice adds
nothing the second time.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, insert, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry import migrate  # noqa: E402
from registry.auth.actor import Actor  # noqa: E402
from registry.choices import AgencyLevel  # noqa: E402
from registry.config import normalise_database_url  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.factory import create_app  # noqa: E402
from registry.models import (  # noqa: E402
    Dependency,
    DuplicateWarning,
    Finding,
    InformationSystem,
    User,  # noqa: E402
)
from registry.services import scorecards as sc  # noqa: E402
from registry.services.tokens import issue_token  # noqa: E402
from registry.services.users import UserInput, create_user  # noqa: E402
from registry.web.access import password_hasher  # noqa: E402

DEPENDENCIES = 300_000
WARNINGS = 5_000
RULES = (
    ("R1", "high"),
    ("R4", "medium"),
    ("R7", "medium"),
    ("R8", "low"),
    ("R9", "medium"),
    ("R10", "medium"),
)


def top_up(session: Session, seed: int = 7) -> None:
    """Bring dependencies, findings and warnings to the scale measured (idempotent)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    ids = list(session.scalars(select(InformationSystem.id).order_by(InformationSystem.id)))
    platforms = list(
        session.scalars(select(InformationSystem.id).where(InformationSystem.is_shared_platform.is_(True)))
    )
    have = session.scalar(select(func.count()).select_from(Dependency)) or 0
    if have < DEPENDENCIES:
        edges = {(s, t) for s, t in session.execute(select(Dependency.source_id, Dependency.target_id))}
        rows = []
        while len(rows) < DEPENDENCIES - have:
            source = rng.choice(ids)
            target = rng.choice(platforms) if rng.random() < 0.3 else rng.choice(ids)
            if source != target and (source, target) not in edges:
                edges.add((source, target))
                rows.append({"source_id": source, "target_id": target, "kind": "data_exchange"})
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Dependency), rows[start : start + 10_000])
        print(f"added {len(rows):,} dependencies")
    if not session.scalar(select(func.count()).select_from(Finding)):
        rows = [
            {"system_id": i, "rule_code": code, "severity": severity, "details": {}, "detected_at": now}
            for i in ids
            if rng.random() < 0.5
            for code, severity in rng.sample(RULES, rng.randint(1, 3))
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Finding), rows[start : start + 10_000])
        print(f"added {len(rows):,} findings")
    if not session.scalar(select(func.count()).select_from(DuplicateWarning)):
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < WARNINGS:
            a, b = sorted(rng.sample(ids, 2))
            pairs.add((a, b))
        dispositions = ("open", "open", "confirmed", "justified", "dismissed")
        session.execute(
            insert(DuplicateWarning),
            [
                {
                    "system_a_id": a,
                    "system_b_id": b,
                    "score": 0.7,
                    "components": {},
                    "reasons": [],
                    "detector_version": "bench",
                    "disposition": rng.choice(dispositions),
                    "created_at": now,
                    "updated_at": now,
                }
                for a, b in sorted(pairs)
            ],
        )
        print(f"added {WARNINGS:,} duplication warnings")
    session.commit()


def make_app(database_url: str) -> Flask:
    """The real app, without the background embedder: at first start it would embed 100,000
    texts on the same two cores and time itself instead of the scorecards."""
    url = normalise_database_url(database_url)
    app = create_app(
        {"DATABASE_URL": url, "AUTO_SETUP": False, "SECRET_KEY": "bench", "EMBED_IN_BACKGROUND": False}
    )
    migrate.upgrade(get_engine(app))
    return app


def reader_token(app: Flask) -> str:
    """A committed read-only token of a benchmark auditor (issuing it is an audited write)."""
    actor = Actor.operator("benchmark")
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        user = session.scalar(select(User).where(User.username == "scorecards-benchmark"))
        if user is None:
            data = UserInput(
                username="scorecards-benchmark",
                full_name="Scorecards benchmark",
                role="auditor",
                password=secrets.token_urlsafe(24),
            )
            user = create_user(session, data, actor=actor, hasher=password_hasher(app))
        secret = issue_token(session, user, name="scorecards", scope="read", days=1, actor=actor).secret
        session.commit()
        return secret


def timed(
    action: Callable[[], object], repeat: int, before: Callable[[], None] = lambda: None
) -> list[float]:
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def every_agency(session: Session) -> int:
    """Every agency's scorecard, each level listed in full, as the pages and the API read them."""
    found = 0
    for level in AgencyLevel:
        found += len(sc.list_scorecards(session, level=level.value, per_page=10**6).items)
    return found


def line(label: str, times: Sequence[float]) -> None:
    ms = [t * 1000 for t in times]
    print(f"  {label:<48} median {statistics.median(ms):9.1f} ms   min {min(ms):9.1f}   max {max(ms):9.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=5, help="timings per figure (default 5)")
    parser.add_argument("--top-up", action="store_true", help="add dependencies, findings, warnings first")
    args = parser.parse_args(argv)

    app = make_app(args.database_url)
    token = reader_token(app)
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        if args.top_up:
            top_up(session)
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (InformationSystem, Dependency, Finding, DuplicateWarning)
        }
        sizes = ", ".join(f"{name} {count:,}" for name, count in counts.items())
        print(f"database: {get_engine(app).dialect.name}; {sizes}")
        agencies = every_agency(session)
        print(f"scorecards of {agencies:,} agencies, {args.repeat} runs each")
        cold = timed(lambda: every_agency(session), args.repeat, sc.clear_cache)
        line("service, cold (cache emptied)", cold)
        line("service, warm (nothing changed)", timed(lambda: every_agency(session), args.repeat))
        session.rollback()

    client = app.test_client()
    api = "/api/v1/scorecards?level=commune&per_page=100&page=3"
    page = "/scorecards?level=commune&per_page=100&sort=fresh"

    def get(path: str) -> None:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)

    line("API page of 100 communes, cold", timed(lambda: get(api), args.repeat, sc.clear_cache))
    line("API page of 100 communes, warm", timed(lambda: get(api), args.repeat))
    line("ranking page, 100 communes, warm", timed(lambda: get(page), args.repeat))
    line("one agency's scorecard page, warm", timed(lambda: get("/scorecards/TU-HNI"), args.repeat))

    def write() -> None:
        # Any audited write moves the watermark; a token is the cheapest one (a system's save
        # would first build the overlap index of 100,000 systems, timed by review.py).
        reader_token(app)

    line("API page after a write (recomputed)", timed(lambda: get(api), min(args.repeat, 3), write))
    return 0


if __name__ == "__main__":
    sys.exit(main())
