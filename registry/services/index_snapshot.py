"""The overlap index fitted once and shared: build it, find it, ask for a new one.

Every web worker needs a fitted :class:`~similarity.DuplicateFinder` of the whole portfolio;
fitting one at 100,000 systems takes a minute and a gigabyte, so four workers fitting their own
cost four times that and answer their first request only afterwards. Instead a job (or
``flask --app app index build``) fits it once and saves it as a snapshot
(:mod:`similarity.snapshot`) with the database watermark it was fitted at; each worker maps
the snapshot in seconds and catches up from that watermark
(:class:`~registry.services.overlaps.PortfolioIndex`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from registry.auth.actor import Actor
from registry.choices import JobKind, JobStep
from registry.config import queue_is_immediate
from registry.db import get_engine
from registry.models import InformationSystem
from registry.services import audit, jobs
from registry.services.jobs import Progress
from registry.services.overlaps import portfolio_finder, portfolio_records, registry_identity
from registry.services.vectors import VectorTable
from similarity import DETECTOR_VERSION, snapshot

log = logging.getLogger(__name__)

INDEX_KEY = "index:build"
"""Dedupe key of the build job: one build at a time, however many workers ask for one."""
INDEX_ACTOR = Actor.operator("index")
"""Who asks for a build when a worker found no snapshot to load."""


def index_dir(app: Flask) -> Path:
    """Where snapshots are kept: ``INDEX_DIR`` (``REGISTRY_INDEX_DIR``), else in the instance folder.

    Read at each use rather than once at start, so the instance folder a test or a deployment
    sets after creating the app is the one used.
    """
    configured = app.config.get("INDEX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "overlap-index"


@dataclass(frozen=True)
class BuildReport:
    systems: int
    watermark: datetime | None
    path: Path
    seconds: float
    bytes: int

    def summary(self) -> str:
        return (
            f"Overlap index of {self.systems} systems saved to {self.path} "
            f"({self.bytes / 1e6:.1f} MB) in {self.seconds:.1f} s"
        )

    def counts(self) -> dict[str, Any]:
        return {
            "systems": self.systems,
            "megabytes": round(self.bytes / 1e6, 1),
            "seconds": round(self.seconds, 1),
        }


def build_snapshot(session: Session, directory: Path, *, actor: Actor = INDEX_ACTOR) -> BuildReport:
    """Fit the portfolio's index and save it as the newest snapshot (the caller commits).

    The watermark is read before the records: a system saved meanwhile is then either in the
    snapshot or after its watermark, and a worker catching up sees it either way. The audit
    event is recorded before the snapshot names the registry it belongs to: in a registry
    whose trail was empty (filled by a bulk load), that event becomes the trail's first and
    so the registry's identity, which the snapshot must carry for workers to accept it.
    """
    started = time.perf_counter()
    store = VectorTable(session.get_bind(), session)  # type: ignore[arg-type]  # a session is bound to an engine here
    watermark = session.scalar(select(func.max(col(InformationSystem.updated_at))))
    vectors = store.latest()
    records = portfolio_records(session)
    finder = portfolio_finder(store).fit(records)
    audit.record(
        session,
        actor,
        "overlap.index_build",
        object_type="portfolio",
        object_id="all",
        object_label=DETECTOR_VERSION,
        after={"systems": len(records), "watermark": meta_watermark(watermark)},
    )
    session.flush()
    path = finder.save(
        directory,
        meta={
            "watermark": meta_watermark(watermark),
            "systems": len(records),
            "vectors": vectors,
            "detector_version": DETECTOR_VERSION,
            "database": registry_identity(session),
        },
    )
    size = sum(p.stat().st_size for p in path.iterdir())
    return BuildReport(len(records), watermark, path, time.perf_counter() - started, size)


def meta_watermark(watermark: datetime | None) -> str | None:
    return watermark.isoformat() if watermark is not None else None


def parse_watermark(value: Any) -> datetime | None:
    """The watermark saved in a snapshot's metadata, back as a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def run_build(
    engine: Engine, progress: Progress, actor: Actor, _params: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    """The build as a background job (:data:`registry.jobs.WORKS`)."""
    with Session(engine, expire_on_commit=False) as session:
        progress.begin(JobStep.INDEX)
        report = build_snapshot(session, index_dir(current_app), actor=actor)
        session.commit()
    return report.counts()


def start_build(session: Session, actor: Actor = INDEX_ACTOR) -> tuple[Any, bool]:
    """Queue a build unless one is queued or running; returns the job and whether it is new."""
    return jobs.start(session, actor, JobKind.INDEX, dedupe_key=INDEX_KEY)


def can_request(app: Flask) -> bool:
    """Whether a worker without a snapshot should ask the queue for one.

    Not when builds are turned off (``REGISTRY_INDEX_AUTO_BUILD=0``), nor when the queue runs
    each job inside the call that queues it (tests): the request would then fit twice.
    """
    return bool(app.config.get("INDEX_AUTO_BUILD", True)) and not queue_is_immediate(app.config)


def request_build(app: Flask) -> None:
    """Ask the queue for a snapshot, from a thread of its own.

    The asking worker is inside a request, whose transaction may hold SQLite's write lock
    until it commits; the thread's own short transaction waits for it instead of blocking it.
    """
    if not can_request(app):
        return

    def ask() -> None:
        try:
            with app.app_context(), Session(get_engine(app)) as session:
                job, new = start_build(session)
                session.commit()
                if new:
                    log.info("Overlap index: snapshot build queued as job %s", job.id)
        except Exception:  # the queue may be down; the worker's own index still serves
            log.warning("Overlap index: could not queue a snapshot build", exc_info=True)

    threading.Thread(target=ask, name="index-snapshot-request", daemon=True).start()


@dataclass(frozen=True)
class SnapshotStatus:
    path: Path | None
    created_at: str
    systems: int
    watermark: datetime | None
    changed: int
    """Systems saved since the watermark: what each worker catches up with after loading."""
    problem: str


def snapshot_status(session: Session, directory: Path) -> SnapshotStatus:
    """The newest snapshot's metadata without loading it, or what is wrong with it."""
    try:
        path = snapshot.current_path(directory)
        manifest = snapshot.read_manifest(path)
        meta = manifest.get("meta") or {}
        watermark = parse_watermark(meta.get("watermark"))
        systems = int(meta.get("systems", 0))
    except (snapshot.SnapshotError, TypeError, ValueError) as exc:
        return SnapshotStatus(None, "", 0, None, 0, str(exc))
    since = select(func.count()).select_from(InformationSystem)
    if watermark is not None:
        since = since.where(col(InformationSystem.updated_at) > watermark)
    changed = int(session.scalar(since) or 0)
    return SnapshotStatus(path, str(manifest.get("created_at", "")), systems, watermark, changed, "")
