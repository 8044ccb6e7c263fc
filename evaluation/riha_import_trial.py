"""Import the published RIHA snapshot into a fresh registry, as an administrator would.

    python evaluation/riha_import_trial.py [PATH_TO/riha-2021.json] [--database-url URL]

The snapshot (Estonia's catalogue of state information systems, 1,304 systems) is public but
not ours to redistribute, so it is not in the repository and no test depends on it; by default
it is read from ``../shared/data/riha-2021.json`` beside the checkout. The script reads it,
previews the import (what would be created, the agencies it would add, every problem), commits
it into an empty SQLite registry (or the database given), imports it again to show that
nothing changes, and prints the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "riha-2021.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", default=str(DEFAULT))
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from pages import make_app
    from sqlalchemy import func, select
    from sqlmodel import Session

    from registry.auth.actor import Actor
    from registry.db import get_engine
    from registry.models import InformationSystem
    from registry.services.imports import Action, commit_import, plan_import

    data = Path(args.path).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/riha.sqlite3"
        app = make_app(url)
        actor = Actor.operator("riha trial")
        with app.app_context(), Session(get_engine(app)) as session:
            started = time.perf_counter()
            plan = plan_import(session, actor, Path(args.path).name, data)
            planned = time.perf_counter() - started
            counts = plan.counts
            print(f"format {plan.format}: {len(plan.rows)} records, {len(plan.new_agencies)} new agencies")
            print(f"  to create {counts[Action.CREATE]}, refused {counts[Action.REFUSED]} ({planned:.1f} s)")
            for where, column, message in plan.problems()[:20]:
                print(f"  {where}: {column}: {message}")
            if not plan.ok:
                return 1
            started = time.perf_counter()
            result = commit_import(session, actor, Path(args.path).name, data, plan=plan)
            session.commit()
            elapsed = time.perf_counter() - started
            print(f"committed: {result.created} systems, {result.agencies} agencies ({elapsed:.1f} s)")
            deployments = session.scalar(
                select(func.count())
                .select_from(InformationSystem)
                .where(InformationSystem.instance_of_id.is_not(None))
            )
            platforms = session.scalar(
                select(func.count())
                .select_from(InformationSystem)
                .where(InformationSystem.is_shared_platform.is_(True))
            )
            print(f"  {platforms} standard solutions as shared platforms, {deployments} deployments of them")
            again = plan_import(session, actor, Path(args.path).name, data)
            print(f"re-import: {dict(again.counts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
