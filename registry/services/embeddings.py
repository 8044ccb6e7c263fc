"""Meaning vectors of the portfolio: computed once per text, on save or in the background.

The overlap engine's meaning channel (:mod:`similarity.semantic`) needs one vector per system.
Vectors are data: each is stored in ``text_embedding`` under the hash of the text it came from,
so a restart, another worker or a scan reuses every vector whose text has not changed.

* A saved system (form, API, small import) is embedded in the save's own transaction, before
  its warnings are computed: its first warnings already weigh meaning.
* A large import and the first start leave their systems to :func:`embed_pending`, run by a
  background thread (one per machine, see :class:`BackgroundEmbedder`) or by ``flask embed``;
  it commits batch by batch, so a killed run resumes where it stopped. Until a system has its
  vector the engine scores it with words and structure, and the reasons say so.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from registry.models import InformationSystem, TextEmbedding
from registry.models.system import utcnow
from registry.services.overlaps import EXCLUDED_STATUSES, scan_portfolio
from registry.services.vectors import CHUNK, VectorTable, encode
from similarity.semantic import default_embedder, piece_key, pieces, text_keys

log = logging.getLogger(__name__)

INLINE_LIMIT = 50
"""Saved together, up to this many systems are embedded in the save itself (about 3 s); more
(an import, the demo portfolio) are left to the background job."""
BATCH = 64
"""Systems embedded and committed at a time by the background job: a kill loses at most this."""
BACKGROUND = "registry.background_embedder"


def _insert_ignoring_existing(session: Session, vectors: Mapping[str, np.ndarray]) -> None:
    """Insert vectors; a key another process stored meanwhile is left as it is."""
    if not vectors:
        return
    now = utcnow()
    rows = [{"key": key, "vector": encode(vector), "created_at": now} for key, vector in vectors.items()]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TextEmbedding)
    session.execute(insert.values(rows).on_conflict_do_nothing(index_elements=["key"]))


def _stored(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            session.scalars(
                select(col(TextEmbedding.key)).where(col(TextEmbedding.key).in_(keys[start : start + CHUNK]))
            )
        )
    return found


def embed_systems(session: Session, systems: Sequence[Any], store: VectorTable | None = None) -> int:
    """Embed saved systems whose text has no vector yet, in the caller's transaction.

    Returns how many texts were embedded. Without the model (``SIMILARITY_SEMANTIC=off`` or the
    package missing) nothing happens and the engine keeps to words and structure.
    """
    embedder = default_embedder()
    if embedder is None or not systems:
        return 0
    texts = {piece_key(text): text for s in systems for text in pieces(s.name, s.description)}
    stored = _stored(session, list(texts))
    missing = [key for key in texts if key not in stored]
    if not missing:
        return 0
    vectors = embedder.embed_texts([texts[key] for key in missing])
    fresh = {key: vector for key, vector in zip(missing, vectors, strict=True) if vector.any()}
    _insert_ignoring_existing(session, fresh)
    if store is not None:
        store.remember(fresh)
    return len(fresh)


@dataclass
class EmbeddingRun:
    """Progress of one :func:`embed_pending` run, readable while it goes."""

    total: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: bool = False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def pending_texts(session: Session) -> dict[str, str]:
    """Texts (names, descriptions) of live systems that have no vector yet, by key."""
    rows = session.execute(
        select(col(InformationSystem.name), col(InformationSystem.description)).where(
            col(InformationSystem.status).not_in(EXCLUDED_STATUSES)
        )
    ).all()
    texts = {piece_key(text): text for name, description in rows for text in pieces(name, description)}
    stored = set(session.scalars(select(col(TextEmbedding.key))))
    return {key: value for key, value in texts.items() if key not in stored}


def embed_pending(
    session: Session,
    *,
    batch: int = BATCH,
    run: EmbeddingRun | None = None,
    progress: Callable[[EmbeddingRun], None] | None = None,
    stop: threading.Event | None = None,
) -> EmbeddingRun:
    """Embed every live system's texts that have no vector, committing after each batch.

    This service commits on its own (like the portfolio refresh): it is a long job whose
    finished batches must survive a kill. Run it again to resume.
    """
    run = run or EmbeddingRun()
    embedder = default_embedder()
    if embedder is None:
        run.finished = True
        return run
    pending = pending_texts(session)
    session.commit()
    run.total, run.done = len(pending), 0
    keys = list(pending)
    for start in range(0, len(keys), batch):
        if stop is not None and stop.is_set():
            break
        chunk = keys[start : start + batch]
        vectors = embedder.embed_texts([pending[key] for key in chunk])
        _insert_ignoring_existing(
            session, {key: vector for key, vector in zip(chunk, vectors, strict=True) if vector.any()}
        )
        session.commit()
        run.done += len(chunk)
        if progress is not None:
            progress(run)
    run.finished = run.done >= run.total
    return run


@dataclass(frozen=True)
class EmbeddingStatus:
    systems: int
    embedded: int

    @property
    def missing(self) -> int:
        return self.systems - self.embedded


def embedding_status(session: Session) -> EmbeddingStatus:
    """How many live systems have their vector (one pass over keys; fine at 100,000)."""
    rows = session.execute(
        select(col(InformationSystem.name), col(InformationSystem.description)).where(
            col(InformationSystem.status).not_in(EXCLUDED_STATUSES)
        )
    ).all()
    keys = [text_keys(name, description) for name, description in rows]
    stored = _stored(session, sorted({key for group in keys for key in group}))
    return EmbeddingStatus(len(keys), sum(1 for group in keys if all(key in stored for key in group)))


# --- the background job ------------------------------------------------------------------------


class BackgroundEmbedder:
    """A thread that embeds pending texts after start-up and whenever :meth:`wake` is called.

    Several web workers on one machine each have one; a lock (a file beside an SQLite
    database, an advisory lock on PostgreSQL) lets one work while the others skip.
    """

    def __init__(self, engine: Engine, lock_path: Path, session_factory: Callable[[], Session]):
        self.engine = engine
        self.lock_path = lock_path
        self.session_factory = session_factory
        self.run: EmbeddingRun | None = None
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="embedder", daemon=True)
            self._thread.start()
        self.wake()

    def wake(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if self._stop.is_set():
                return
            try:
                self._once()
            except Exception:  # noqa: BLE001 - a failed run is retried at the next wake
                log.exception("background embedding failed; it resumes at the next save or restart")

    def _once(self) -> None:
        with self._exclusive() as mine:
            if not mine:
                return
            session = self.session_factory()
            try:
                self.run = EmbeddingRun()
                embed_pending(session, run=self.run, stop=self._stop, progress=_log_progress)
                if self.run.done and not self._stop.is_set():
                    # The warnings stored meanwhile were found without meaning: compare again.
                    report = scan_portfolio(session)
                    session.commit()
                    log.info("after embedding: %s", report.summary())
            finally:
                session.close()

    def _exclusive(self) -> Any:
        return (
            _PostgresLock(self.engine)
            if self.engine.dialect.name == "postgresql"
            else _FileLock(self.lock_path)
        )


def _log_progress(run: EmbeddingRun) -> None:
    if run.done == run.total or run.done % (BATCH * 16) == 0:
        log.info("embedded %s of %s texts in %.0f s", run.done, run.total, run.elapsed)


class _FileLock:
    def __init__(self, path: Path):
        self.path = path
        self.handle: Any = None

    def __enter__(self) -> bool:
        self.handle = self.path.open("a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def __exit__(self, *_exc: object) -> None:
        self.handle.close()  # closing releases the lock


class _PostgresLock:
    KEY = 6_021_300  # any constant shared by every worker of this registry

    def __init__(self, engine: Engine):
        self.engine = engine
        self.connection: Any = None
        self.held = False

    def __enter__(self) -> bool:
        self.connection = self.engine.connect()
        self.held = bool(self.connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.KEY}))
        return self.held

    def __exit__(self, *_exc: object) -> None:
        if self.held:
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.KEY})
        self.connection.close()


def init_app(app: Flask, engine: Engine) -> None:
    """Start the background embedder with the first request (so commands never start one),
    unless turned off (tests, ``EMBED_IN_BACKGROUND=False``)."""
    wanted = app.config.get("EMBED_IN_BACKGROUND", not app.config.get("TESTING"))
    if not wanted or default_embedder() is None:
        return
    worker = BackgroundEmbedder(
        engine, Path(app.instance_path) / "embedding.lock", lambda: Session(engine, expire_on_commit=False)
    )
    app.extensions[BACKGROUND] = worker

    @app.before_request
    def _start_embedder() -> None:
        if not worker.started:
            worker.start()


def background(app: Flask) -> BackgroundEmbedder | None:
    return app.extensions.get(BACKGROUND)
