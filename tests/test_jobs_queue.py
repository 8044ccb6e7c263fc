"""The queue for real: Huey's consumer takes a scan from SQLite storage and from Redis and runs it.

The other job tests run Huey in immediate mode; these prove the jobs survive the trip through
the storage a deployment uses (serialised by name, picked up by a consumer thread).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlmodel import Session

from registry import jobs as job_queue
from registry.auth.actor import Actor
from registry.config import load_settings
from registry.db import get_engine
from registry.factory import create_app
from registry.models import Job
from registry.services import jobs
from tests.conftest import IN_CI
from tests.test_jobs import SCAN_NAMES, TWIN_DESCRIPTION

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def twins(make_system):
    return [make_system(name=name, description=TWIN_DESCRIPTION) for name in SCAN_NAMES]


def _wait_for_end(app, job_id: int, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with Session(get_engine(app)) as session:
            job = session.get(Job, job_id)
            if job is not None and job.state not in jobs.ACTIVE:
                return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end within {seconds} s")


def _scan_through(app, session, make_user) -> Job:
    queue = job_queue.init_app(app)
    assert not queue.huey.immediate
    queue.start_embedded()
    try:
        job, _ = jobs.start_scan(session, Actor.of(make_user("reviewer")))
        session.commit()
        return _wait_for_end(app, job.id)  # type: ignore[arg-type]
    finally:
        queue.stop()
        queue.huey.storage.flush_all()


def test_a_consumer_thread_runs_a_scan_queued_in_sqlite(app, session, make_user, twins, tmp_path):
    app.config.update(QUEUE_IMMEDIATE=False, QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    job = _scan_through(app, session, make_user)
    assert job.state == "succeeded", job.error
    assert job.counts["systems"] == 2 and job.counts["pairs"] >= 1
    assert (tmp_path / "queue.sqlite3").exists()


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_a_consumer_thread_runs_a_scan_queued_in_redis(app, session, make_user, twins):
    if not _redis_reachable():
        message = f"Redis is not reachable at {REDIS_URL}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # A queue name of its own: other test runs on the same Redis never take this job.
    app.config.update(
        QUEUE_IMMEDIATE=False, QUEUE_URL=REDIS_URL, QUEUE_NAME=f"registry-test-{uuid.uuid4().hex}"
    )
    job = _scan_through(app, session, make_user)
    assert job.state == "succeeded", job.error
    assert job.counts["systems"] == 2


def test_the_web_app_starts_its_consumer_thread_at_its_first_request(_schema, tmp_path):
    """``flask run`` needs nothing else: the first request starts Huey's consumer in the process."""
    served = create_app(
        {
            "DATABASE_URL": _schema,
            "SECRET_KEY": "test",
            "AUTO_SETUP": False,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        }
    )
    queue = job_queue.queue_of(served)
    assert queue.embedded and queue.consumer is None
    try:
        assert served.test_client().get("/healthz").status_code == 200
        assert queue.consumer is not None
        assert any(t.name.startswith("Worker") and t.is_alive() for t in threading.enumerate())
    finally:
        queue.stop()
        get_engine(served).dispose()


@pytest.mark.parametrize(
    ("environ", "embedded"),
    [
        ({}, True),
        ({"REGISTRY_QUEUE_URL": REDIS_URL}, False),
        ({"REGISTRY_EMBEDDED_WORKER": "0"}, False),
        ({"REGISTRY_QUEUE_URL": REDIS_URL, "REGISTRY_EMBEDDED_WORKER": "1"}, True),
    ],
)
def test_with_redis_the_web_app_leaves_the_jobs_to_workers(tmp_path, environ, embedded):
    settings = load_settings(tmp_path, environ)
    assert settings["EMBEDDED_WORKER"] is embedded
    assert settings["QUEUE_URL"] == environ.get(
        "REGISTRY_QUEUE_URL", f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    )


def test_the_worker_command_runs_a_scan_queued_in_redis(app, session, make_user, twins, _schema):
    """``flask --app app worker`` in a process of its own takes the job another process queued."""
    if not _redis_reachable():
        message = f"Redis is not reachable at {REDIS_URL}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"registry-test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": _schema,
        "REGISTRY_QUEUE_URL": REDIS_URL,
        "REGISTRY_QUEUE_NAME": name,
        "REGISTRY_AUTO_SETUP": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.config.update(QUEUE_IMMEDIATE=False, QUEUE_URL=REDIS_URL, QUEUE_NAME=name)
    queue = job_queue.init_app(app)
    try:
        job, _ = jobs.start_scan(session, Actor.of(make_user("reviewer")))
        session.commit()
        ended = _wait_for_end(app, job.id)  # type: ignore[arg-type]
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
        queue.huey.storage.flush_all()
    assert ended.state == "succeeded", (ended.error, output)
    assert "Consuming jobs from redis://" in output
