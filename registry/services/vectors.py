"""The engine's vector store over the ``text_embedding`` table (see :mod:`.embeddings`)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from registry.models import TextEmbedding
from similarity.semantic import DIMENSIONS

CHUNK = 500
"""Keys per ``IN (...)`` list when reading vectors."""
LATE_COMMITS = 1_000
"""Rows before the last one seen that :meth:`VectorTable.since` reads again, for transactions
that took their id before the last seen one and committed after it was read."""


def encode(vector: np.ndarray) -> bytes:
    """A unit vector as 384 signed bytes, a quarter of float32's size.

    Scaled so its largest component is ±127 (the length is restored on reading, so the scale
    need not be kept): cosines move by a few ten-thousandths, far below the spread between
    unrelated texts that the meaning channel reads (about 0.015).
    """
    vector = np.asarray(vector, dtype=np.float32)
    peak = float(np.max(np.abs(vector))) if vector.size else 0.0
    scaled = vector * (127.0 / peak) if peak else vector
    return np.clip(np.rint(scaled), -127, 127).astype(np.int8).tobytes()


def decode(blob: bytes) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.int8).astype(np.float32)
    if vector.size != DIMENSIONS:
        raise ValueError(f"stored vector has {vector.size} dimensions, expected {DIMENSIONS}")
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class VectorTable:
    """The engine's :class:`~similarity.semantic.VectorStore` over ``text_embedding``.

    The per-process index outlives requests, so reads go through the session the current
    thread bound with :meth:`bind` (the request's or the command's: one connection per
    thread, and it sees the thread's own uncommitted saves), or a short connection of their
    own when none is bound. Vectors embedded by this process are also remembered here.
    """

    REMEMBERED = 20_000

    def __init__(self, engine: Engine, session: Session | None = None):
        self.engine = engine
        self._fixed = session
        self._local = threading.local()
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def bind(self, session: Session) -> None:
        """Read through ``session`` in this thread from now on."""
        self._local.session = session

    def _read(self, query: Any) -> list[Any]:
        session = self._fixed or getattr(self._local, "session", None)
        if session is not None:
            return list(session.execute(query))
        with self.engine.connect() as connection:
            return list(connection.execute(query))

    def remember(self, vectors: Mapping[str, np.ndarray]) -> None:
        with self._lock:
            for key, vector in vectors.items():
                self._recent[key] = vector
                self._recent.move_to_end(key)
            while len(self._recent) > self.REMEMBERED:
                self._recent.popitem(last=False)

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key in wanted:
                if key in self._recent:
                    found[key] = self._recent[key]
        rest = [key for key in wanted if key not in found]
        for start in range(0, len(rest), CHUNK):
            query = select(col(TextEmbedding.key), col(TextEmbedding.vector)).where(
                col(TextEmbedding.key).in_(rest[start : start + CHUNK])
            )
            for key, blob in self._read(query):
                found[key] = decode(blob)
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Only remembered: rows are written by the save or the job, in their transaction."""
        self.remember(vectors)

    def since(self, seen: int) -> dict[str, np.ndarray]:
        """Vectors stored after row ``seen`` (a :meth:`latest` value), and the last
        :data:`LATE_COMMITS` before it: an id handed out earlier can commit later."""
        query = select(col(TextEmbedding.key), col(TextEmbedding.vector)).where(
            col(TextEmbedding.id) > seen - LATE_COMMITS
        )
        return {key: decode(blob) for key, blob in self._read(query)}

    def latest(self) -> int:
        """The newest row's id: when it moves, vectors have arrived from elsewhere."""
        return int(self._read(select(func.max(col(TextEmbedding.id))))[0][0] or 0)
