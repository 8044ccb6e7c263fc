"""The job queue: Huey, carrying job ids from the web to the workers that run them.

Storage follows ``REGISTRY_QUEUE_URL``: SQLite in ``instance/`` by default, Redis
(``redis://…``) when several machines share the work. With SQLite, the web app starts Huey's
own consumer on a thread at its first request, so ``flask run`` is still the only command;
``flask --app app worker`` runs the same consumer as a process of its own (set
``REGISTRY_EMBEDDED_WORKER=0`` on the web side then). Tests use Huey's immediate mode, which
runs each job as it is queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from redis import ConnectionPool

from registry import db
from registry.choices import JobKind
from registry.config import queue_is_immediate
from registry.services import embeddings, export_jobs, jobs
from registry.services.export_jobs import run_export
from registry.services.import_uploads import run_check, run_commit
from registry.services.index_snapshot import run_build
from registry.services.portfolio_scan import run_scan
from registry.services.reporting import run_reminders

log = logging.getLogger(__name__)

QUEUE_KEY = "registry.queue"
WORKS: Mapping[str, jobs.Work] = {
    JobKind.SCAN: run_scan,
    JobKind.IMPORT: run_commit,
    JobKind.EXPORT: run_export,
    JobKind.REMIND: run_reminders,
    JobKind.INDEX: run_build,
    JobKind.EMBED: embeddings.run_embedding,
    JobKind.IMPORT_CHECK: run_check,
}
"""Every kind of job and the work it does."""
REDIS_CONNECT_TIMEOUT = 3.0
"""Seconds to wait for Redis to accept a connection before calling it unreachable."""


class EmbeddedConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """Huey's consumer without its signal handlers: inside a web server the server owns them
    (and only the main thread may set them)."""

    def _set_signal_handlers(self) -> None:
        return None


@dataclass
class Queue:
    huey: Huey
    app: Flask
    embedded: bool
    consumer: Consumer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def make_consumer(self, *, workers: int = 1, embedded: bool = False) -> Consumer:
        cls = EmbeddedConsumer if embedded else Consumer
        return cls(self.huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True)

    def start_embedded(self) -> None:
        """Start the in-process consumer once per process (the first request of each web worker)."""
        if self.consumer is not None:
            return
        with self._lock:
            if self.consumer is None:
                self.consumer = self.make_consumer(embedded=True)
                self.consumer.start()
                log.info(
                    "Background jobs: consumer thread started (queue %s)",
                    self.huey.storage.__class__.__name__,
                )

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(graceful=True)
            self.consumer = None


def make_huey(config: Mapping[str, Any]) -> Huey:
    # Tests run each job as it is queued unless they ask for a real consumer.
    if queue_is_immediate(config):
        return MemoryHuey("registry", immediate=True)
    url, name = str(config["QUEUE_URL"]), str(config.get("QUEUE_NAME", "registry"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        # A probe or a start must not hang on an unreachable Redis: refuse after a few seconds.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT)
        return RedisHuey(name, connection_pool=pool)
    if url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"))
    raise ValueError(f"REGISTRY_QUEUE_URL must start with sqlite:/// or redis://, not {url!r}")


def init_app(app: Flask) -> Queue:
    huey = make_huey(app.config)

    @huey.task(name="registry.run_job")  # type: ignore[misc]
    def run_job(job_id: int) -> str | None:
        with app.app_context():
            return jobs.run(db.get_engine(app), job_id, WORKS)

    @huey.periodic_task(crontab(minute="*"), name="registry.reap_stale_jobs")  # type: ignore[misc]
    def reap_stale_jobs() -> int:
        with app.app_context(), db.command_session(db.get_engine(app)) as session:
            export_jobs.remove_expired()
            return jobs.reap_stale(session)

    @huey.on_startup()  # type: ignore[misc]
    def reap_at_start() -> None:
        reap_stale_jobs.call_local()
        if embeddings.wanted(app.config):
            queue_pending_embedding(app)

    queue = Queue(huey, app, embedded=bool(app.config["EMBEDDED_WORKER"]) and not huey.immediate)
    app.extensions[QUEUE_KEY] = queue
    app.extensions[jobs.DISPATCH_KEY] = run_job
    if queue.embedded and not app.config.get("TESTING"):
        app.before_request(queue.start_embedded)
    return queue


def queue_pending_embedding(app: Flask) -> None:
    """At a worker's start, queue the embedding of texts left without vectors (the demo
    portfolio, an import saved while no worker ran). A failure only costs meaning until the
    next start or save asks again."""
    try:
        with app.app_context(), db.command_session(db.get_engine(app)) as session:
            job = embeddings.queue_if_pending(session)
        if job is not None:
            log.info("Meaning vectors: texts without one, embedding queued as job %s", job.id)
    except Exception:  # noqa: BLE001 - the worker must start all the same
        log.warning("Meaning vectors: could not queue the embedding job", exc_info=True)


def queue_of(app: Flask) -> Queue:
    queue: Queue = app.extensions[QUEUE_KEY]
    return queue
