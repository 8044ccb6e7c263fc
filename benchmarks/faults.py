"""Kill a job worker with SIGKILL in the middle of an import and of a portfolio scan, and a web
worker in the middle of an upload.

    python benchmarks/faults.py [--rows 20000] [--database-url URL]

On a fresh SQLite file (or the PostgreSQL test database given, which is emptied) with the demo
portfolio, this starts ``flask --app app worker`` as a separate process, then for each job:

1. queues it (an import of ROWS generated systems, through the same staging and commit the
   import page uses; then the whole-portfolio scan);
2. waits until the worker reports progress inside the job, and kills the worker (``kill -9``:
   no cleanup, as when a machine loses power or the kernel's OOM killer strikes);
3. checks that nothing was half written (systems and warnings counted before and after) and
   that the audit trail's hash chain still verifies;
4. lets the reaper find the job whose worker stopped reporting (its clock moved past
   ``STALE_AFTER``) and checks the job is failed with ``worker_lost``;
5. starts a new worker and runs the job again, and checks it completes exactly once.

Then it starts ``gunicorn -w 1`` and kills its worker with SIGKILL while it reads an upload of
5 × ROWS rows (``POST /imports/``): the client's connection drops, nothing of the upload is kept,
the audit chain verifies, gunicorn starts a new worker that answers, and the same upload then
succeeds once.

It prints each step's outcome and timing, and exits with status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from registry.auth.actor import Actor  # noqa: E402
from registry.db import get_engine  # noqa: E402
from registry.factory import create_app  # noqa: E402
from registry.models import Agency, DuplicateWarning, ImportUpload, InformationSystem, Job  # noqa: E402
from registry.services import audit, import_uploads, jobs  # noqa: E402
from registry.services.tokens import issue_token  # noqa: E402
from registry.services.users import UserInput, create_user  # noqa: E402
from registry.web.access import password_hasher  # noqa: E402

failures: list[str] = []


def check(condition: bool, what: str) -> None:
    print(f"  {'ok  ' if condition else 'FAIL'} {what}", flush=True)
    if not condition:
        failures.append(what)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    check(False, f"{what} within {timeout:.0f} s")
    return False


def counts(engine: Any) -> tuple[int, int]:
    with Session(engine) as session:
        systems = session.scalar(select(func.count()).select_from(InformationSystem)) or 0
        warnings = session.scalar(select(func.count()).select_from(DuplicateWarning)) or 0
        return systems, warnings


def job_row(engine: Any, job_id: int) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def chain_verifies(engine: Any) -> bool:
    with Session(engine) as session:
        return bool(audit.verify(session).ok)


def reap(engine: Any) -> int:
    """The reaper as it would run two minutes later (the worker's clock has moved on)."""
    with Session(engine) as session:
        later = datetime.now(UTC) + jobs.STALE_AFTER * 2
        reaped = jobs.reap_stale(session, now=later)
        session.commit()
        return reaped


def csv_rows(rows: int, agency: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "description", "scope_level", "status", "owner_agency"])
    for i in range(rows):
        writer.writerow(
            [
                f"Hệ thống thử lỗi số {i}",
                f"Quản lý hồ sơ công việc số {i} của cơ quan, nhập từ tệp",
                "province",
                "in_operation",
                agency,
            ]
        )
    return out.getvalue().encode()


def kill_mid_job(
    label: str,
    engine: Any,
    env: dict[str, str],
    log: Path,
    queue: Callable[[], int],
    inside: Callable[[Job], bool],
    kill_after: float,
) -> None:
    print(f"\n{label}", flush=True)
    before = counts(engine)
    worker = start_worker(env, log)
    started = time.perf_counter()
    job_id = queue()
    if not wait_for(lambda: job_row(engine, job_id).state == "running", 600, "the job to start"):
        worker.kill()
        return
    # Killed once it reports progress inside the step that writes, or after ``kill_after``
    # seconds of running: on SQLite the writing transaction holds the lock its progress
    # reports would need, so nothing is reported until it ends.
    running = time.monotonic()
    while not inside(job_row(engine, job_id)) and time.monotonic() - running < kill_after:
        if job_row(engine, job_id).state != "running":
            check(False, f"the job still running when killed ({job_row(engine, job_id).state})")
            worker.kill()
            return
        time.sleep(0.1)
    seen = job_row(engine, job_id)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    print(
        f"  killed the worker {time.perf_counter() - started:.1f} s after queueing;"
        f" last report: step {seen.step or '-'}, {seen.done:,}/{seen.total:,}",
        flush=True,
    )
    job = job_row(engine, job_id)
    check(job.state == "running", f"the job is left running by the dead worker ({job.state})")
    check(counts(engine) == before, f"nothing half written: systems, warnings {counts(engine)} == {before}")
    check(chain_verifies(engine), "the audit chain verifies")
    check(reap(engine) == 1, "the reaper finds the job whose worker stopped reporting")
    job = job_row(engine, job_id)
    check((job.state, job.error) == ("failed", jobs.WORKER_LOST), f"failed with {jobs.WORKER_LOST}")
    worker = start_worker(env, log)
    try:
        again = queue()
        check(again != job_id, "the freed job can be started again")
        wait_for(lambda: job_row(engine, again).state in {"succeeded", "failed"}, 900, "the rerun to end")
        check(job_row(engine, again).state == "succeeded", "the rerun succeeds")
        check(chain_verifies(engine), "the audit chain verifies after the rerun")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    print(f"  after: systems, warnings = {counts(engine)}", flush=True)


def uploads(engine: Any) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(ImportUpload)) or 0


def worker_pids(master: int) -> set[int]:
    """gunicorn's workers: the master's child processes."""
    path = Path(f"/proc/{master}/task/{master}/children")
    return {int(pid) for pid in path.read_text().split()} if path.exists() else set()


def upload(port: int, token: str, data: bytes) -> int:
    """``POST /imports/`` as the import page's form does; the status (302: kept for preview)."""
    boundary = "faults-benchmark-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\ncsv\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="faults.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request(
            "POST",
            "/imports/",
            body=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def kill_web_worker_mid_upload(
    engine: Any, env: dict[str, str], folder: Path, token: str, data: bytes
) -> None:
    print(f"\nweb upload of {len(data) / 1e6:.1f} MB, web worker killed while reading it", flush=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = folder / "web.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "--timeout",
            "120",
            "-b",
            f"127.0.0.1:{port}",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        if not wait_for(answers, 120, "gunicorn to answer"):
            return
        before = uploads(engine)
        first = worker_pids(server.pid)
        outcome: dict[str, Any] = {}

        def send() -> None:
            try:
                outcome["status"] = upload(port, token, data)
            except (OSError, http.client.HTTPException) as error:
                outcome["error"] = f"{type(error).__name__}: {error}"

        client = threading.Thread(target=send)
        client.start()
        (pid,) = first
        # Killed once the worker has spent half a second of CPU on the request: reading, checking.
        spent = _cpu_seconds(pid)
        deadline = time.monotonic() + 60
        while _cpu_seconds(pid) - spent < 0.5 and client.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = client.is_alive()
        os.kill(pid, signal.SIGKILL)
        client.join(60)
        check(alive and "error" in outcome, f"the request was cut off by the kill ({outcome})")
        check(uploads(engine) == before, f"nothing of the upload kept: {uploads(engine)} == {before}")
        check(chain_verifies(engine), "the audit chain verifies")
        wait_for(lambda: bool(worker_pids(server.pid) - first) and answers(), 60, "a new worker to answer")
        check(answers(), "gunicorn answers with a new worker")
        status = upload(port, token, data)
        check(
            status == 302 and uploads(engine) == before + 1, f"the same upload then succeeds once ({status})"
        )
    finally:
        server.terminate()
        server.wait(timeout=60)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--kill-after", type=float, default=8.0, help="seconds of running after which the worker is killed"
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL test database (emptied); default a new SQLite file"
    )
    parser.add_argument(
        "--only",
        choices=("import", "scan", "web"),
        action="append",
        help="run only this scenario (repeatable)",
    )
    args = parser.parse_args()
    wanted = set(args.only or ("import", "scan", "web"))
    folder = Path(tempfile.mkdtemp(prefix="registry-faults-"))
    url = args.database_url or f"sqlite:///{folder / 'registry.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "faults-benchmark",
        "REGISTRY_QUEUE_URL": f"sqlite:///{folder / 'queue.sqlite3'}",
        "REGISTRY_EMBEDDED_WORKER": "0",
        "SIMILARITY_SEMANTIC": "off",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    if args.database_url:
        from registry import migrate

        engine = create_app({"DATABASE_URL": url, "AUTO_SETUP": False}).extensions["registry.engine"]
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        migrate.upgrade(engine)
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "seed"], cwd=ROOT, env=env, check=True)
    app = create_app({"DATABASE_URL": url})  # on a new SQLite file: schema and demo portfolio
    engine = get_engine(app)
    log = folder / "worker.log"
    print(f"database {url}; worker log {log}", flush=True)

    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        agency = session.scalars(select(Agency).where(Agency.level == "province")).first()
        assert agency is not None
        user = create_user(
            session,
            UserInput(username="faults", full_name="Faults", role="admin", password="Kiểm-thử lỗi 2026!"),
            actor=Actor.operator("faults"),
            hasher=password_hasher(app),
        )
        token = issue_token(
            session, user, name="faults", scope="write", days=1, actor=Actor.operator("faults")
        )
        session.commit()
        actor = Actor.of(user)
        data = csv_rows(args.rows, agency.code)
        agency_code = agency.code

    def queue_import() -> int:
        with app.app_context(), Session(engine, expire_on_commit=False) as session:
            upload = import_uploads.stage(session, actor, "faults.csv", data, fmt="csv")
            plan = import_uploads.plan_staged(session, actor, upload)
            job, _ = import_uploads.start_commit(session, actor, upload, plan.fingerprint())
            session.commit()
            return int(job.id)  # type: ignore[arg-type]

    def queue_scan() -> int:
        with app.app_context(), Session(engine, expire_on_commit=False) as session:
            job, _ = jobs.start_scan(session, actor)
            session.commit()
            return int(job.id)  # type: ignore[arg-type]

    def writing(job: Job) -> bool:
        return job.state == "running" and (job.step == "write") and (job.done or 0) > 0

    def comparing(job: Job) -> bool:
        return job.state == "running" and (job.done or 0) > 0

    if "import" in wanted:
        kill_mid_job(
            f"import of {args.rows:,} rows, worker killed while writing",
            engine,
            env,
            log,
            queue_import,
            writing,
            args.kill_after,
        )
    if "scan" in wanted:
        kill_mid_job(
            "portfolio scan, worker killed while comparing",
            engine,
            env,
            log,
            queue_scan,
            comparing,
            args.kill_after,
        )
    if "web" in wanted:
        # Five times the rows, so that reading the upload outlasts the moment of the kill.
        kill_web_worker_mid_upload(engine, env, folder, token.secret, csv_rows(args.rows * 5, agency_code))
    print(f"\n{'all checks passed' if not failures else f'{len(failures)} checks failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
