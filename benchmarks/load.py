"""Load: people browsing, searching, proposing, reviewing and exporting at once, against gunicorn.

    python benchmarks/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/registry_bench \
        [--users 50] [--seconds 60] [--workers 4] [--port 8765]

Starts ``gunicorn -w WORKERS`` on loopback over a generated database (``generate.py``), with the
overlap index warmed once before the workers fork (``REGISTRY_WARM_INDEX=1 --preload``, as
``docs/deploy.md`` advises), then runs USERS simulated people for SECONDS, each in its own
thread, one request after another with no pause (a bounded, closed loop: never more than USERS
requests in flight). A person is a submitter, a reviewer or an auditor, in the proportions
6:2:2, and each step picks one of their role's actions:

* browse: the list at a random page, a system's page;
* search: the list searching one or two words;
* propose: ``POST /api/v1/similar`` with a typed name and description (the form's live check),
  and now and then ``POST /api/v1/systems`` (a new draft);
* review: the review queue, a proposal's review page;
* export: a filtered CSV of the inventory (below the background-job threshold).

Every person uses an API token, which the pages accept too, so each request pays for
authentication as a real one does. At the end it prints per action: requests, errors (any 5xx
or a failed connection), p50/p95/max wall milliseconds seen by the client, and the server's own
p50 CPU milliseconds per request (from gunicorn's JSON access lines). The targets (issue 16):
no error, p95 <= 300 ms for pages and <= 150 ms for ``POST /api/v1/similar``, CPU <= 15 ms for
the list and a system's page. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("văn bản", "hồ sơ", "một cửa", "quản lý", "đảng viên", "báo cáo", "tài chính", "van ban")
NAMES = (
    ("Phần mềm quản lý văn bản và điều hành", "Quản lý văn bản đến, văn bản đi, ký số và lưu trữ hồ sơ"),
    ("Hệ thống một cửa điện tử cấp xã", "Tiếp nhận và trả kết quả thủ tục hành chính cho người dân"),
    ("Cơ sở dữ liệu đảng viên", "Quản lý hồ sơ đảng viên, chuyển sinh hoạt đảng, thống kê"),
    ("Hệ thống báo cáo kinh tế xã hội", "Tổng hợp số liệu báo cáo định kỳ của các sở ngành"),
)


@dataclass
class Tally:
    """What one action saw: client wall times and errors."""

    wall_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    refusal: str = ""
    """The start of the first refusal's answer, to tell a misconfigured run from a slow one."""


def prepare(database_url: str) -> tuple[dict[str, str], list[str], list[str], str]:
    """API tokens per role (accounts made once), and system codes to visit and review."""
    from sqlalchemy import select
    from sqlmodel import Session

    from registry.auth.actor import Actor
    from registry.db import get_engine
    from registry.factory import create_app
    from registry.models import Agency, InformationSystem, User
    from registry.services.tokens import issue_token
    from registry.services.users import UserInput, create_user
    from registry.web.access import password_hasher

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "load", "AUTO_SETUP": False})
    actor = Actor.operator("load benchmark")
    tokens: dict[str, str] = {}
    agency_code = ""
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        agency = session.scalars(select(Agency).where(Agency.level == "province")).first()
        for role in ("submitter", "reviewer", "auditor"):
            username = f"load-{role}"
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                data = UserInput(
                    username=username,
                    full_name=f"Load {role}",
                    role=role,
                    password=secrets.token_urlsafe(24),
                    agency_id=agency.id if role == "submitter" and agency else None,
                )
                user = create_user(session, data, actor=actor, hasher=password_hasher(app))
            scope = "read" if role == "auditor" else "write"  # reviewing pages need a write token
            if role == "submitter" and user.agency_id is not None:
                own = session.get(Agency, user.agency_id)
                agency_code = own.code if own else ""
            tokens[role] = issue_token(session, user, name="load", scope=scope, days=1, actor=actor).secret
        codes = list(session.scalars(select(InformationSystem.code).limit(5000)))
        waiting = list(
            session.scalars(
                select(InformationSystem.code)
                .where(InformationSystem.status.in_(("submitted", "in_review")))  # type: ignore[attr-defined]
                .limit(500)
            )
        )
        session.commit()
    get_engine(app).dispose()
    return tokens, codes, waiting or codes[:50], agency_code


def start_server(database_url: str, workers: int, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "REGISTRY_LOG_FORMAT": "json",
        "REGISTRY_WARM_INDEX": "1",
        "AUTO_SETUP": "0",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--preload",
        "-w",
        str(workers),
        "--timeout",
        "300",
        "-b",
        f"127.0.0.1:{port}",
        "registry.factory:create_app()",
    ]
    log = log_path.open("wb")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900  # the preload fits the overlap index first
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped; see {log_path}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 15 minutes")


def request(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "vi"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            response.read()
            return int(response.status), b""
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def actions(
    codes: list[str], waiting: list[str], agency: str
) -> dict[str, list[tuple[str, Callable[[random.Random], Any]]]]:
    """Each role's actions: (name, a function giving method, path and body)."""

    def browse_list(rng: random.Random) -> tuple[str, str, Any]:
        return "GET", f"/systems/?page={rng.randint(1, 200)}", None

    def browse_detail(rng: random.Random) -> tuple[str, str, Any]:
        return "GET", f"/systems/{rng.choice(codes)}", None

    def search(rng: random.Random) -> tuple[str, str, Any]:
        return "GET", "/systems/?q=" + urllib.parse.quote(rng.choice(WORDS)), None

    def propose(rng: random.Random) -> tuple[str, str, Any]:
        name, description = rng.choice(NAMES)
        return (
            "POST",
            "/api/v1/similar",
            {"name": f"{name} {rng.randint(1, 999)}", "description": description},
        )

    def register(rng: random.Random) -> tuple[str, str, Any]:
        name, description = rng.choice(NAMES)
        body = {
            "name": f"{name} (thử tải {rng.randint(1, 10**6)})",
            "description": description,
            "scope_level": "province",
            "owner_agency": agency,
        }
        return "POST", "/api/v1/systems", body

    def queue(rng: random.Random) -> tuple[str, str, Any]:
        return "GET", "/review/", None

    def review_page(rng: random.Random) -> tuple[str, str, Any]:
        return "GET", f"/review/{rng.choice(waiting)}", None

    def export(rng: random.Random) -> tuple[str, str, Any]:
        return (
            "GET",
            "/exports/systems.csv?q=" + urllib.parse.quote(rng.choice(WORDS)) + "&status=in_operation",
            None,
        )

    return {
        "submitter": [
            ("list", browse_list),
            ("detail", browse_detail),
            ("search", search),
            ("similar", propose),
            ("similar", propose),
            ("register", register),
        ],
        "reviewer": [
            ("queue", queue),
            ("review", review_page),
            ("detail", browse_detail),
            ("search", search),
        ],
        "auditor": [("list", browse_list), ("detail", browse_detail), ("export", export), ("search", search)],
    }


def server_cpu(log_path: Path) -> dict[str, list[float]]:
    """The server's CPU milliseconds per request, by endpoint, from its JSON access lines."""
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("logger") == "registry.access" and record.get("cpu_ms") is not None:
            by_endpoint[str(record.get("endpoint"))].append(float(record["cpu_ms"]))
    return by_endpoint


ENDPOINTS = {
    "list": "systems.index",
    "search": "systems.index",
    "detail": "systems.detail",
    "similar": "api.similar",
    "register": "api.system_create",
    "queue": "review.queue",
    "review": "review.page",
    "export": "exports.systems",
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tokens, codes, waiting, agency = prepare(args.database_url)
    log_path = Path(tempfile.mkstemp(prefix="registry-load-", suffix=".log")[1])
    print(f"starting gunicorn -w {args.workers} (log: {log_path}) …", flush=True)
    started = time.perf_counter()
    server = start_server(args.database_url, args.workers, args.port, log_path)
    print(f"gunicorn answered after {time.perf_counter() - started:.1f} s", flush=True)
    base = f"http://127.0.0.1:{args.port}"
    roles = actions(codes, waiting, agency)
    tallies: dict[str, Tally] = defaultdict(Tally)
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def person(number: int) -> None:
        rng = random.Random(args.seed * 1000 + number)
        role = ("submitter",) * 6 + ("reviewer",) * 2 + ("auditor",) * 2
        mine = role[number % len(role)]
        while time.monotonic() < stop:
            name, make = rng.choice(roles[mine])
            method, path, body = make(rng)
            begun = time.perf_counter()
            try:
                status, answer = request(base, tokens[mine], method, path, body)
            except OSError as error:
                status, answer = 0, str(error).encode()
            elapsed = (time.perf_counter() - begun) * 1000
            with lock:
                tally = tallies[name]
                tally.wall_ms.append(elapsed)
                tally.statuses[status] += 1
                if status == 0 or status >= 500:
                    tally.errors += 1
                if (status == 0 or status >= 400) and not tally.refusal:
                    tally.refusal = f"{status} {path}: {answer[:300].decode(errors='replace')}"

    threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in range(args.users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    cpu = server_cpu(log_path)

    total = sum(len(t.wall_ms) for t in tallies.values())
    errors = sum(t.errors for t in tallies.values())
    print(
        f"\n{args.users} people for {args.seconds:.0f} s against gunicorn -w {args.workers}: "
        f"{total:,} requests ({total / args.seconds:.1f}/s), {errors} errors"
    )
    print(
        f"{'action':10s} {'n':>6s} {'err':>4s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} "
        f"{'cpu p50':>8s}  statuses"
    )
    for name, tally in sorted(tallies.items()):
        walls = sorted(tally.wall_ms)
        p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))]
        cpu_values = cpu.get(ENDPOINTS.get(name, ""), [])
        cpu_p50 = f"{statistics.median(cpu_values):8.1f}" if cpu_values else "       -"
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
        print(
            f"{name:10s} {len(walls):6d} {tally.errors:4d} {statistics.median(walls):8.1f} {p95:8.1f} "
            f"{walls[-1]:8.1f} {cpu_p50}  {statuses}"
        )
    print("(cpu p50: the server's own CPU ms per request of that endpoint; list and search share one)")
    for name, tally in sorted(tallies.items()):
        if tally.refusal:
            print(f"first refusal of {name}: {tally.refusal}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
