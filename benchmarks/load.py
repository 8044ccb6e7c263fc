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

With ``--import-rows N``, a second period follows: the same people go on while an administrator
imports N new systems through the import pages (upload, preview, commit), and it lasts until
the import job ends. It prints the second period's figures, each step of the import and, per
action, p95 during the import over p95 before it (target: at most 1.5). ``--queue-url
redis://…`` runs the jobs in a ``flask worker`` process of their own, as docs/deploy.md lays out
for several web workers; ``--index-dir`` points the workers at a snapshot built beforehand by
``flask --app app index build``.
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
        for role in ("submitter", "reviewer", "auditor", "admin"):
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


def server_env(database_url: str, instance: Path, index_dir: str, queue_url: str) -> dict[str, str]:
    """The production settings (docs/deploy.md), with everything written kept in INSTANCE."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "REGISTRY_LOG_FORMAT": "json",
        "REGISTRY_WARM_INDEX": "1",
        "REGISTRY_INSTANCE_PATH": str(instance),
        # Generated systems have no meaning vectors; embedding 200,000 texts is a job of hours
        # on a small machine, and would be measured instead of the people.
        "REGISTRY_EMBED_IN_BACKGROUND": "0",
        "AUTO_SETUP": "0",
    }
    if index_dir:
        env["REGISTRY_INDEX_DIR"] = index_dir
    if queue_url:
        env["REGISTRY_QUEUE_URL"] = queue_url
        env["REGISTRY_EMBEDDED_WORKER"] = "0"
    return env


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """One `flask worker` process, as the deployment guide runs beside the web tier."""
    command = [sys.executable, "-m", "flask", "--app", "app", "worker"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, "REGISTRY_WARM_INDEX": "0"},
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )


def start_server(env: dict[str, str], workers: int, port: int, log_path: Path) -> subprocess.Popen[bytes]:
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


def run_people(
    base: str,
    tokens: dict[str, str],
    roles: dict[str, list[Any]],
    users: int,
    seconds: float,
    seed: int,
    until: Callable[[], bool] | None = None,
) -> dict[str, Tally]:
    """USERS people, each a thread in a closed loop, for SECONDS (and, given ``until``, on until
    it says so)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def going() -> bool:
        return time.monotonic() < stop or (until is not None and not until())

    def person(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        role = ("submitter",) * 6 + ("reviewer",) * 2 + ("auditor",) * 2
        mine = role[number % len(role)]
        while going():
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

    threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def report(title: str, tallies: dict[str, Tally], seconds: float, cpu: dict[str, list[float]]) -> int:
    total = sum(len(t.wall_ms) for t in tallies.values())
    errors = sum(t.errors for t in tallies.values())
    print(f"\n{title}: {total:,} requests ({total / seconds:.1f}/s), {errors} errors")
    print(
        f"{'action':10s} {'n':>6s} {'err':>4s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} "
        f"{'cpu p50':>8s}  statuses"
    )
    for name, tally in sorted(tallies.items()):
        walls = sorted(tally.wall_ms)
        cpu_values = cpu.get(ENDPOINTS.get(name, ""), [])
        cpu_p50 = f"{statistics.median(cpu_values):8.1f}" if cpu_values else "       -"
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
        print(
            f"{name:10s} {len(walls):6d} {tally.errors:4d} {statistics.median(walls):8.1f} "
            f"{p95(walls):8.1f} {walls[-1]:8.1f} {cpu_p50}  {statuses}"
        )
    for name, tally in sorted(tallies.items()):
        if tally.refusal:
            print(f"first refusal of {name}: {tally.refusal}")
    return errors


def import_file(database_url: str, rows: int) -> bytes:
    """ROWS systems of the registry's own export, as new ones: no code, a name of their own.

    What an agency migrating its list sends, every column filled as on real data.
    """
    import csv
    import io

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from imports import export_csv

    text = export_csv(database_url, rows).decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    comment = [line for line in lines[:1] if line.startswith("#")]
    reader = csv.DictReader(io.StringIO("".join(lines[len(comment) :])))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []), lineterminator="\n")
    writer.writeheader()
    for number, row in enumerate(reader, 1):
        row.update(code="", external_id="", version="", created_at="", updated_at="")
        if row["status"] not in MIGRATED_STATUSES:  # the standing office decides the others
            row["status"] = "in_operation"
        row["name"] = f"{row['name']} (đợt nhập {number})"
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


MIGRATED_STATUSES = ("draft", "in_operation", "retired")
"""Statuses an agency may give the systems it brings; a proposal's others come from review."""


@dataclass
class ImportRun:
    """The web import made while people use the site: each step's seconds and how it ended."""

    rows: int
    steps: dict[str, float] = field(default_factory=dict)
    job_id: int | None = None
    state: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


def web_import(base: str, token: str, data: bytes, run: ImportRun) -> None:
    """Upload, preview and commit through the import pages (as a person with a token would),
    then follow the job through the API until it ends."""
    import re

    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\ncsv\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="migration.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "vi"}
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        begun = time.perf_counter()
        upload = urllib.request.Request(
            base + "/imports/",
            data=body,
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            method="POST",
        )
        with _answer(opener, upload, 600) as answer:
            preview = answer.headers["Location"]
        run.steps["upload (read and keep the rows)"] = time.perf_counter() - begun
        if not preview or "/imports/" not in preview:
            raise RuntimeError(f"the upload was not accepted: {preview!r}")
        begun = time.perf_counter()
        while True:  # a large file is checked by a job; its preview page reloads until ready
            with _answer(
                opener, urllib.request.Request(urllib.parse.urljoin(base, preview), headers=headers), 600
            ) as answer:
                page = answer.read().decode()
            if 'data-import="checking"' not in page:
                break
            time.sleep(2)
        run.steps["preview (check every row, in the worker)"] = time.perf_counter() - begun
        found = re.search(r'name="fingerprint"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="fingerprint"', page
        )
        if found is None:
            raise RuntimeError("the preview offers no commit (are rows refused?)")
        begun = time.perf_counter()
        commit = urllib.request.Request(
            urllib.parse.urljoin(base, preview.rstrip("/") + "/commit"),
            data=urllib.parse.urlencode({"fingerprint": found.group(1)}).encode(),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with _answer(opener, commit, 60) as answer:
            job_page = answer.headers["Location"]
        run.steps["commit (queue the job)"] = time.perf_counter() - begun
        run.job_id = int(job_page.rstrip("/").rsplit("/", 1)[1])
        begun = time.perf_counter()
        while True:
            with _answer(
                opener, urllib.request.Request(f"{base}/api/v1/jobs/{run.job_id}", headers=headers), 60
            ) as answer:
                job = json.loads(answer.read())
            if not job["active"]:
                break
            time.sleep(1)
        run.steps["job (check and write, in the worker)"] = time.perf_counter() - begun
        run.state, run.counts, run.error = job["state"], job["counts"], job["error"] or ""
    except Exception as exc:  # the figures say what went wrong; the load goes on
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        run.done.set()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def _answer(opener: urllib.request.OpenerDirector, req: urllib.request.Request, timeout: float) -> Any:
    """The response, a redirect included (urllib raises those once redirects are off)."""
    try:
        return opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:
            return error
        raise RuntimeError(f"{error.code} {req.full_url}: {error.read()[:300]!r}") from None


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
    parser.add_argument(
        "--index-dir",
        default="",
        help="a snapshot folder built by `flask index build` (else the master fits)",
    )
    parser.add_argument(
        "--queue-url",
        default="",
        help="redis://… to run jobs in a `flask worker` process of their own (default: SQLite, "
        "inside the web workers)",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=0,
        help="after the first period, import this many new systems through the web pages while "
        "the people go on, and compare",
    )
    args = parser.parse_args()

    tokens, codes, waiting, agency = prepare(args.database_url)
    data = import_file(args.database_url, args.import_rows) if args.import_rows else b""
    instance = Path(tempfile.mkdtemp(prefix="registry-load-"))
    log_path = instance / "server.log"
    env = server_env(args.database_url, instance, args.index_dir, args.queue_url)
    print(f"starting gunicorn -w {args.workers} (log: {log_path}) …", flush=True)
    started = time.perf_counter()
    server = start_server(env, args.workers, args.port, log_path)
    print(f"gunicorn answered after {time.perf_counter() - started:.1f} s", flush=True)
    worker = start_worker(env, instance / "worker.log") if args.queue_url else None
    base = f"http://127.0.0.1:{args.port}"
    roles = actions(codes, waiting, agency)
    try:
        began = time.perf_counter()
        quiet = run_people(base, tokens, roles, args.users, args.seconds, args.seed)
        quiet_seconds = time.perf_counter() - began
        quiet_cpu = server_cpu(log_path)
        busy: dict[str, Tally] = {}
        imported = ImportRun(args.import_rows)
        if args.import_rows:
            print(f"importing {args.import_rows:,} rows ({len(data) / 1e6:.1f} MB) during load …", flush=True)
            thread = threading.Thread(target=web_import, args=(base, tokens["admin"], data, imported))
            began = time.perf_counter()
            thread.start()
            busy = run_people(
                base, tokens, roles, args.users, args.seconds, args.seed + 1, until=imported.done.is_set
            )
            busy_seconds = time.perf_counter() - began
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    title = f"{args.users} people for {quiet_seconds:.0f} s against gunicorn -w {args.workers}"
    errors = report(title, quiet, quiet_seconds, quiet_cpu)
    print("(cpu p50: the server's own CPU ms per request of that endpoint; list and search share one)")
    if args.import_rows:
        errors += report(
            f"the same during the import of {args.import_rows:,} rows ({busy_seconds:.0f} s)",
            busy,
            busy_seconds,
            {name: values[len(quiet_cpu.get(name, [])) :] for name, values in server_cpu(log_path).items()},
        )
        print(
            f"\nimport: job {imported.job_id}, {imported.state or 'not finished'}; counts {imported.counts}"
        )
        for step, seconds in imported.steps.items():
            print(f"  {step:40s} {seconds:8.1f} s")
        if imported.error:
            print(f"  error: {imported.error}")
        print("p95 during the import / before it (target: at most 1.5):")
        for name in sorted(set(quiet) & set(busy)):
            before, during = p95(quiet[name].wall_ms), p95(busy[name].wall_ms)
            print(f"  {name:10s} {before:8.1f} -> {during:8.1f} ms  x{during / before:.2f}")
    return 1 if errors or imported.error else 0


if __name__ == "__main__":
    sys.exit(main())
