"""Time the proposal workflow against a large portfolio (see ``generate.py``).

    python benchmarks/review.py --database-url sqlite:////tmp/bench.sqlite3 [--requests 200]

Two figures, both end to end through a real HTTP server (werkzeug's threaded server on a
local port, requested with ``urllib``):

* the live panel: ``POST /api/v1/similar`` with what a person has typed so far (names and
  descriptions of real portfolio systems, moved to another province), after the per-process
  overlap index has been built once (its build time is printed separately; it happens once
  per worker, not per request). Target: p95 <= 100 ms at 100,000 systems.
* submitting: ``POST /systems/<code>/workflow/submit`` on complete drafts, which refreshes the
  proposal's duplication warnings, validates it, runs the rules R1-R10 and records the
  transition. Target: p95 <= 300 ms.

The database is migrated to the newest schema and gains a benchmark account, its tokens, the
drafts and their audit events: use a scratch database. Nothing is asserted; figures are printed.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import http_server, make_app, percentile  # noqa: E402

from registry.auth.actor import Actor  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.models import Agency, Capability, InformationSystem, User  # noqa: E402
from registry.services.systems import SystemInput, create_system  # noqa: E402
from registry.services.tokens import issue_token  # noqa: E402
from registry.services.users import UserInput, create_user  # noqa: E402
from registry.web.access import password_hasher  # noqa: E402

ACTOR = Actor.operator("benchmark")


def submitter_and_tokens(app, session: Session) -> tuple[User, str]:
    """A submitter of the province with the most systems, and a write token of theirs."""
    agency_id = session.scalar(
        select(InformationSystem.owner_agency_id)
        .join(Agency, Agency.id == InformationSystem.owner_agency_id)
        .where(Agency.level == "province")
        .group_by(InformationSystem.owner_agency_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    user = session.scalar(select(User).where(User.username == "benchmark-submitter"))
    if user is None:
        data = UserInput(
            username="benchmark-submitter",
            full_name="Benchmark submitter",
            role="submitter",
            agency_id=agency_id,
            password=secrets.token_urlsafe(24),
        )
        user = create_user(session, data, actor=ACTOR, hasher=password_hasher(app))
    token = issue_token(session, user, name="review benchmark", scope="write", days=1, actor=ACTOR).secret
    return user, token


def make_drafts(session: Session, user: User, n: int, rng: random.Random) -> list[str]:
    """Complete drafts of the submitter's agency, copied from real systems of the portfolio."""
    capability_ids = list(session.scalars(select(Capability.id)))
    sources = list(session.scalars(select(InformationSystem).order_by(func.random()).limit(n)).unique())
    codes = []
    for i, source in enumerate(sources):
        data = SystemInput.of(
            name=f"{source.name} (đề xuất {i + 1})"[:200],
            description=source.description,
            purpose=source.purpose,
            scope_level="province",
            owner_agency_id=user.agency_id,
            operator_agency_id=user.agency_id,
            user_agency_ids=[user.agency_id],  # type: ignore[list-item]
            legal_basis="Quyết định 204-QĐ/TW",
            mandate="Kế hoạch chuyển đổi số",
            usage_orientation="Dùng chung toàn tỉnh",
            security_level=3,
            target_users=rng.randint(100, 5000),
            capability_ids=rng.sample(capability_ids, 2),
            overlap_justification="Hệ thống hiện có không đáp ứng được yêu cầu của tỉnh.",
        )
        codes.append(create_system(session, data, actor=ACTOR).code)
    return codes


def post(url: str, token: str, body: dict | None = None) -> tuple[int, float]:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=600) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, (time.perf_counter() - started) * 1000


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def summary(label: str, times: Sequence[float]) -> str:
    return (
        f"{label:<34} n={len(times):<4} p50 {statistics.median(times):7.1f} ms   "
        f"p95 {percentile(times, 0.95):7.1f} ms   max {max(times):7.1f} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=200, help="live-panel requests (default 200)")
    parser.add_argument("--submits", type=int, default=50, help="drafts submitted (default 50)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    app = make_app(args.database_url)
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        count = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
        if not count:
            raise SystemExit("No systems: generate a portfolio first (benchmarks/generate.py).")
        user, token = submitter_and_tokens(app, session)
        # Every save checks its overlaps, so the first draft builds the overlap index.
        started = time.perf_counter()
        drafts = make_drafts(session, user, args.submits, rng)
        session.commit()  # the account, its token and the drafts, before the server reads them
        drafts_s = time.perf_counter() - started
        samples = list(
            session.execute(
                select(InformationSystem.name, InformationSystem.description)
                .order_by(func.random())
                .limit(max(args.requests, 10))
            )
        )
    print(f"{get_engine(app).dialect.name}, {count:,} systems; {len(drafts)} drafts to submit")
    print(f"drafts registered in {drafts_s:.1f} s (the first save builds the overlap index)")

    with http_server(app) as base:
        status, warm_ms = post(f"{base}/api/v1/similar", token, {"name": samples[0].name})
        print(f"overlap index built by the first request: {warm_ms / 1000:.1f} s (status {status})")
        panel = []
        for name, description in samples[: args.requests]:
            typed = {"name": name.replace("Nghệ An", "Gia Lai"), "description": description[:300], "k": 6}
            status, ms = post(f"{base}/api/v1/similar", token, typed)
            if status != 200:
                raise RuntimeError(f"/api/v1/similar answered {status}")
            panel.append(ms)
        submits = []
        for code in drafts:
            status, ms = post(f"{base}/systems/{code}/workflow/submit", token)
            if status not in (302, 303):
                raise RuntimeError(f"submitting {code} answered {status}")
            submits.append(ms)
    print(summary("live panel POST /api/v1/similar", panel) + "   (target p95 <= 100 ms)")
    print(summary("submit (warnings, checks, rules)", submits) + "   (target p95 <= 300 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
