"""Meaning vectors of the portfolio: computed once per text, on save or in the background.

The overlap engine's meaning channel (:mod:`similarity.semantic`) needs one vector per system.
Vectors are data: each is stored in ``text_embedding`` under the hash of the text it came from,
so a restart, another worker or a scan reuses every vector whose text has not changed.

* A saved system (form, API, small import) is embedded in the save's own transaction, before
  its warnings are computed: its first warnings already weigh meaning.
* A large import and the first start leave their systems to :func:`embed_pending`, run by the
  embedding job (:func:`run_embedding`, queued by the save or by the starting worker) or by
  ``flask embed``; it commits batch by batch, so a killed run resumes where it stopped. Until
  a system has its vector the engine scores it with words and structure, and the reasons say so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.auth.policy import Permission
from registry.choices import JobKind, JobStep
from registry.models import InformationSystem, Job, TextEmbedding
from registry.models.system import utcnow
from registry.services import jobs
from registry.services.jobs import JobRefused, Progress
from registry.services.overlaps import EXCLUDED_STATUSES, scan_portfolio
from registry.services.vectors import CHUNK, VectorTable, encode
from similarity.semantic import default_embedder, piece_key, pieces, text_keys

log = logging.getLogger(__name__)

INLINE_LIMIT = 50
"""Saved together, up to this many systems are embedded in the save itself (about 3 s); more
(an import, the demo portfolio) are left to the embedding job."""
BATCH = 64
"""Texts embedded and committed at a time by the embedding job: a kill loses at most this."""


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

EMBED_KEY = "embed:pending"
"""Dedupe key of the embedding job: one at a time, however many saves or workers ask."""
EMBED_ACTOR = Actor.operator("embedder")
"""Who asks for embedding when a large save or a starting worker left texts without vectors."""
ENCODER_MISSING = "encoder_missing"
"""The ``error`` of an embedding job on a registry without the sentence encoder."""


def wanted(config: Mapping[str, Any]) -> bool:
    """Whether saves and starting workers queue embedding on their own (``EMBED_IN_BACKGROUND``).

    Off under test, where a job would embed on the spot, and without the encoder.
    """
    return (
        bool(config.get("EMBED_IN_BACKGROUND", not config.get("TESTING"))) and default_embedder() is not None
    )


def start_embedding(session: Session, actor: Actor) -> tuple[Job, bool]:
    """Queue the embedding job for someone who asked (page, API, command); one at a time."""
    policy.ensure(policy.allows(actor, Permission.RUN_SCAN))
    return queue_embedding(session, actor)


def queue_embedding(session: Session, actor: Actor = EMBED_ACTOR) -> tuple[Job, bool]:
    """Queue the embedding job in the caller's transaction: it is handed to a worker only if
    that transaction commits, so a save rolled back asks for nothing."""
    return jobs.start(session, actor, JobKind.EMBED, dedupe_key=EMBED_KEY)


def queue_if_pending(session: Session) -> Job | None:
    """Queue the embedding job if some live system's text has no vector (the demo portfolio
    at first start, an import made while no worker ran); the caller commits."""
    if not pending_texts(session):
        return None
    job, _new = queue_embedding(session)
    return job


def running_embedding(session: Session) -> Job | None:
    """The embedding job while it embeds, for pages that warn their overlaps lack meaning."""
    job = jobs.active(session, EMBED_KEY)
    return job if job is not None and job.step in ("", JobStep.EMBED) else None


def run_embedding(
    engine: Engine, progress: Progress, actor: Actor, _params: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    """Embed every pending text, then compare the portfolio again (:data:`registry.jobs.WORKS`).

    Embedding commits batch by batch, so a cancel or a killed worker keeps the finished
    batches and the next run resumes after them. The comparison follows only if something
    was embedded: the warnings stored meanwhile were found without meaning.
    """
    if default_embedder() is None:
        raise JobRefused(ENCODER_MISSING)
    with Session(engine, expire_on_commit=False) as session:
        progress.begin(JobStep.EMBED)
        run = embed_pending(session, batch=BATCH, progress=lambda done: progress(done.done, done.total))
    counts: dict[str, Any] = {"texts": run.total, "embedded": run.done}
    if not run.done:
        return counts
    with Session(engine, expire_on_commit=False) as session:
        progress.begin(JobStep.COMPARE)
        report = scan_portfolio(session, progress=progress, actor=actor)
        progress.check()
        session.commit()
    log.info("after embedding %s texts: %s", run.done, report.summary())
    return {
        **counts,
        "pairs": report.pairs,
        "created": report.created,
        "updated": report.updated,
        "removed": report.removed,
    }
