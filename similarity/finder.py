"""``DuplicateFinder``: the public contract, shaped like a scikit-learn estimator.

``fit`` learns the vocabulary and indexes the portfolio; ``query`` ranks the portfolio against
one record (a proposal being typed); ``pairs`` scans the whole portfolio.

Both work in two stages. Retrieval finds each system's likely partners with a sparse product
over a *pruned* copy of the text vectors (each row keeps only its most distinctive terms), so
a feature shared by thousands of rows does not make every row meet every other
(:mod:`similarity.retrieval`). Scoring then computes every signal exactly, for those candidates
only, as array arithmetic (:mod:`similarity.scoring`); pairs that are sanctioned reuse or that
go through a platform's deployments are told apart (:mod:`similarity.reuse`), and a scan's
pairs are kept as one table (:mod:`similarity.pairs`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from similarity import combine, features, graph, kernels, scoring
from similarity.combine import Weight
from similarity.knowledge import FunctionRows, Knowledge, default_knowledge
from similarity.lexicon import Lexicon
from similarity.pairs import Pair, PairTable
from similarity.records import Record, read_records, to_record
from similarity.retrieval import linking_terms, prune, top, vocabulary, within_best
from similarity.reuse import (
    fold_into_platforms,
    fold_pairs,
    reuse_pairs,
)
from similarity.semantic import (
    UNACCENTED,
    Embedder,
    MemoryStore,
    SemanticRows,
    VectorStore,
    compose,
    default_embedder,
    language_of,
    pieces,
    text_keys,
)
from similarity.text import TextSignal

__all__ = ["DuplicateFinder", "NotFittedError", "Pair"]

QUERY_ID = "__query__"
RECENT_ROWS = 2048
"""Rows added since the query index was built that are searched directly before it is rebuilt."""
LEVELS = {"central": 0, "province": 1, "commune": 2}
MEANING_FLOOR = 1.0
"""Standardised closeness in meaning (spreads above unrelated pairs) below which a pair found
by meaning alone is not worth scoring: five in six unrelated pairs fall below it, and on the
development sets fewer than one in fifty pairs below it are duplicates."""


class DuplicateFinder(BaseEstimator):
    """Find systems that do the same job, and say why.

    Parameters
    ----------
    candidates : int
        Partners per system retrieved before exact scoring.
    retrieval_terms : int
        Terms kept per row for retrieval; more is slower and finds slightly more.
    text_weights : dict, optional
        Relative weights of the ``name``, ``word`` and ``char`` text channels.
    weights : dict of :class:`~similarity.combine.Weight`, optional
        Replaces :data:`similarity.combine.WEIGHTS` (for evaluation and tuning).
    lexicon : Lexicon, optional
        Thesaurus and removal lists; the packaged data files by default.
    batch_size : int
        Rows per block of the all-pairs scan; bounds its memory.
    semantic : Embedder, "auto" or None
        The sentence encoder of the meaning channel: ``"auto"`` uses the packaged model when
        installed, ``None`` scores with words and structure only.
    vectors : VectorStore, optional
        Where vectors are looked up (and stored) by :func:`~similarity.semantic.piece_key`;
        an in-memory store by default.
    embed_missing : bool
        Embed, while fitting or updating, the records whose vector the store lacks. The
        registry turns this off and embeds in the background; rows without a vector are
        scored without meaning until :meth:`attach_vectors` finds theirs.
    knowledge : Knowledge, optional
        Brand names and acronyms that tell a function; the packaged data files by default.
    semantic_weights : dict of :class:`~similarity.combine.Weight`, optional
        Replaces :data:`similarity.combine.SEMANTIC_WEIGHTS` (for evaluation and tuning).

    Examples
    --------
    >>> finder = DuplicateFinder().fit([
    ...     {"id": 1, "name": "Hệ thống quản lý văn bản tỉnh Nghệ An", "description": "Văn bản đến, đi"},
    ...     {"id": 2, "name": "Phần mềm QLVB tỉnh Huế", "description": "Quản lý văn bản đến và văn bản đi"},
    ...     {"id": 3, "name": "Cổng thông tin điện tử", "description": "Tin tức, thông báo"},
    ... ])
    >>> sorted(m["id"] for m in finder.query({"id": "new", "name": "Quản lý văn bản"}, k=2))
    [1, 2]
    """

    def __init__(
        self,
        candidates: int = 30,
        retrieval_terms: int = 48,
        text_weights: dict[str, float] | None = None,
        weights: dict[str, Weight] | None = None,
        lexicon: Lexicon | None = None,
        batch_size: int = 1024,
        semantic: Embedder | str | None = "auto",
        vectors: VectorStore | None = None,
        embed_missing: bool = True,
        knowledge: Knowledge | None = None,
        semantic_weights: dict[str, Weight] | None = None,
    ):
        self.candidates = candidates
        self.retrieval_terms = retrieval_terms
        self.text_weights = text_weights
        self.weights = weights
        self.lexicon = lexicon
        self.batch_size = batch_size
        self.semantic = semantic
        self.vectors = vectors
        self.embed_missing = embed_missing
        self.knowledge = knowledge
        self.semantic_weights = semantic_weights

    # --- fitting ------------------------------------------------------------------------------

    def fit(self, records: Iterable[Mapping[str, Any]]) -> DuplicateFinder:
        checked = read_records(records)
        self.records_: list[Record] = checked
        self.index_ = {record.id: row for row, record in enumerate(checked)}
        self.text_ = TextSignal(self.text_weights, self.lexicon).fit(
            [r.name for r in checked], [r.full_text for r in checked]
        )
        self.active_ = np.ones(len(checked), dtype=bool)
        self.platforms_ = {r.instance_of for r in checked if r.instance_of is not None} | {
            r.id for r in checked if r.is_shared_platform
        }
        self._group_keys: dict[Hashable, int] = {}
        self.groups_ = np.array([self._group(r) for r in checked], dtype=np.int64)
        self.linking_terms_ = linking_terms(self.text_.matrix_, self.groups_)
        self._growing_retrieval = features.GrowingRows(
            prune(self.text_.matrix_, self.retrieval_terms, self.linking_terms_)
        )
        self.retrieval_ = self._growing_retrieval.matrix
        self._retrieval_by_term: sp.csc_matrix | None = None
        self.capability_vocabulary_, capability_weights = vocabulary(r.capabilities for r in checked)
        self.domain_vocabulary_, domain_weights = vocabulary(r.data_domains for r in checked)
        self.user_vocabulary_, _ = vocabulary(r.user_agencies for r in checked)
        self.capability_weights_ = capability_weights
        self.domain_weights_ = domain_weights
        self._sets = self._set_matrices(checked)
        self._capability_lookup = features.ColumnLookup(RECENT_ROWS)
        self.levels_ = np.array([LEVELS.get(r.level or "", -1) for r in checked], dtype=np.int64)
        self.graph_ = graph.dependency_graph((r.id, r.depends_on or ()) for r in checked)
        self._adjacency: sp.csr_matrix | None = None
        self.functions_ = FunctionRows(self.knowledge or default_knowledge())
        self.functions_.append((r.name, r.description, r.capabilities) for r in checked)
        self.embedder_ = default_embedder() if self.semantic == "auto" else self.semantic
        self.store_: VectorStore = self.vectors if self.vectors is not None else MemoryStore()
        self.semantic_: SemanticRows | None = None
        if self.embedder_ is not None or self.vectors is not None:
            keys = [text_keys(r.name, r.description) for r in checked]
            self.semantic_ = SemanticRows(keys, self._languages(checked), self._vectors(keys, checked))
        return self

    def _vectors(self, keys: list[tuple[str, ...]], records: list[Record]) -> dict[str, np.ndarray]:
        """The records' piece vectors from the store; the missing ones embedded now if allowed."""
        found = dict(self.store_.get_many({key for group in keys for key in group}))
        if self.embed_missing and isinstance(self.embedder_, Embedder):
            self._embed_into(found, keys, records)
        return found

    def _embed_into(
        self, found: dict[str, np.ndarray], keys: list[tuple[str, ...]], records: list[Record]
    ) -> None:
        assert isinstance(self.embedder_, Embedder)
        wanted: dict[str, str] = {}
        for group, record in zip(keys, records, strict=True):
            for key, text in zip(group, pieces(record.name, record.description), strict=True):
                if key not in found:
                    wanted[key] = text
        if wanted:
            vectors = self.embedder_.embed_texts(list(wanted.values()))
            fresh = {key: vector for key, vector in zip(wanted, vectors, strict=True) if vector.any()}
            self.store_.put_many(fresh)
            found.update(fresh)

    @staticmethod
    def _languages(records: list[Record]) -> list[int]:
        return [language_of(f"{r.name} {r.description}") for r in records]

    def attach_vectors(self, arrived: Mapping[str, np.ndarray] | None = None) -> int:
        """Give rows still without a vector the ones the store now has (computed elsewhere, in
        the background); returns how many rows got one.

        Given the vectors that ``arrived`` since the last call, only rows waiting for one of
        them are completed (their other keys read from the store), instead of asking the store
        for every key still missing.
        """
        self._check_fitted()
        if self.semantic_ is None:
            return 0
        if arrived is None:
            missing = self.semantic_.missing_keys(self.active_)
            return self.semantic_.fill(self.store_.get_many(missing)) if missing else 0
        rows = self.semantic_.rows_waiting_for(self.active_, arrived.keys())
        if not rows:
            return 0
        needed = {key for row in rows for key in self.semantic_.keys[row]}
        vectors = {key: arrived[key] for key in needed if key in arrived}
        vectors.update(self.store_.get_many(sorted(needed - vectors.keys())))
        return self.semantic_.fill(vectors, rows)

    def missing_vectors(self) -> int:
        """Live rows still scored without meaning."""
        self._check_fitted()
        if self.semantic_ is None:
            return 0
        pending = ~self.semantic_.present & (self.semantic_.languages != UNACCENTED)
        return int((self.active_ & pending).sum())

    def _set_matrices(self, records: list[Record]) -> dict[str, features.SetMatrix]:
        capability_weights = np.array(list(self.capability_weights_.values()), dtype=np.float64)
        domain_weights = np.array(list(self.domain_weights_.values()), dtype=np.float64)
        return {
            "capabilities": features.SetMatrix.build(
                [r.capabilities for r in records], self.capability_vocabulary_, capability_weights
            ),
            "data_domains": features.SetMatrix.build(
                [r.data_domains for r in records], self.domain_vocabulary_, domain_weights
            ),
            "users": features.SetMatrix.build(
                [r.user_agencies for r in records],
                self.user_vocabulary_,
                np.ones(len(self.user_vocabulary_), dtype=np.float64),
            ),
        }

    def _group(self, record: Record) -> int:
        """Rows of one shared platform (the platform and its deployments) share a group number.

        Candidate retrieval skips same-group neighbours: otherwise 110 copies of one product
        fill every copy's neighbour list, and the other products doing the same job (the
        overlaps worth seeing) never get compared. ``-1`` means no group.
        """
        if record.instance_of is not None:
            key: Hashable = record.instance_of
        elif record.id in self.platforms_:
            key = record.id
        else:
            return -1
        return self._group_keys.setdefault(key, len(self._group_keys))

    def update(self, records: Iterable[Mapping[str, Any]]) -> DuplicateFinder:
        """Add new systems or replace edited ones without refitting the vocabulary.

        A saved system is re-vectorised with the fitted vocabulary and appended; the row it
        replaces is switched off. Weights learned at ``fit`` (IDF, capability rarity) stay as
        they were: a periodic full ``fit`` (the portfolio scan) refreshes them.
        """
        self._check_fitted()
        # A record identical to its active row (a status change, a save without changes) is
        # left alone: re-stacking the portfolio's matrices for nothing is the update's cost.
        checked = [record for record in read_records(records) if not self._unchanged(record)]
        if not checked:
            return self
        for record in checked:
            old = self.index_.get(record.id)
            if old is not None:
                self.active_[old] = False
                self.graph_.remove_edges_from(list(self.graph_.out_edges(record.id)))
        start = len(self.records_)
        blocks = self.text_.transform([r.name for r in checked], [r.full_text for r in checked])
        self.text_.append(blocks, [r.full_text for r in checked])
        self.retrieval_ = self._growing_retrieval.append(
            prune(self.text_.stack(blocks), self.retrieval_terms)
        )
        added = self._set_matrices(checked)
        for name, matrix in self._sets.items():
            matrix.append(added[name])
        self.levels_ = np.concatenate([self.levels_, [LEVELS.get(r.level or "", -1) for r in checked]])
        for offset, record in enumerate(checked):
            self.records_.append(record)
            self.index_[record.id] = start + offset
            self.graph_.add_node(record.id)
            self.graph_.add_edges_from((record.id, t) for t in record.depends_on or () if t != record.id)
            if record.instance_of is not None:
                self.platforms_.add(record.instance_of)
        self._adjacency = None
        self.functions_.append((r.name, r.description, r.capabilities) for r in checked)
        if self.semantic_ is not None:
            keys = [text_keys(r.name, r.description) for r in checked]
            self.semantic_.append(keys, self._languages(checked), self._vectors(keys, checked))
        self.active_ = np.concatenate([self.active_, np.ones(len(checked), dtype=bool)])
        self.groups_ = np.concatenate(
            [self.groups_, np.array([self._group(r) for r in checked], dtype=np.int64)]
        )
        return self

    def _unchanged(self, record: Record) -> bool:
        row = self.index_.get(record.id)
        return row is not None and bool(self.active_[row]) and self.records_[row] == record

    def remove(self, ids: Iterable[Hashable]) -> DuplicateFinder:
        """Forget systems (retired, rejected or deleted)."""
        self._check_fitted()
        for record_id in ids:
            row = self.index_.pop(record_id, None)
            if row is not None:
                self.active_[row] = False
                if record_id in self.graph_:
                    self.graph_.remove_node(record_id)
        self._adjacency = None
        return self

    def save(self, root: str | os.PathLike[str], *, meta: Mapping[str, Any] | None = None) -> Path:
        """Write the fitted finder as the newest snapshot under ``root``, for other processes to
        map instead of fitting (:mod:`similarity.snapshot`); returns the snapshot's directory."""
        from similarity import snapshot

        return snapshot.save(self, root, meta=meta)

    @classmethod
    def load(
        cls,
        root: str | os.PathLike[str],
        *,
        vectors: VectorStore | None = None,
        embedder: Embedder | None = None,
    ) -> DuplicateFinder:
        """The newest snapshot under ``root``, memory-mapped and ready to query and update.

        Raises :class:`~similarity.snapshot.SnapshotError` when there is none or it cannot be
        used; :func:`similarity.snapshot.load` also gives back the metadata saved with it.
        """
        from similarity import snapshot

        finder = snapshot.load(root, vectors=vectors, embedder=embedder).finder
        if not isinstance(finder, cls):
            raise snapshot.SnapshotError(f"{root} holds a {type(finder).__name__}, not a {cls.__name__}")
        return finder

    def _check_fitted(self) -> None:
        check_is_fitted(self, "records_", msg="call fit(records) before query() or pairs()")

    def _adjacency_matrix(self) -> sp.csr_matrix:
        """Rows × rows "connected either way", rebuilt lazily after updates (O(edges))."""
        if self._adjacency is None:
            edges = (
                (self.index_[a], self.index_[b])
                for a, b in self.graph_.edges()
                if a in self.index_ and b in self.index_
            )
            self._adjacency = features.adjacency(edges, len(self.records_))
        return self._adjacency

    # --- queries ------------------------------------------------------------------------------

    def query(
        self, record: Mapping[str, Any], k: int = 10, always: Iterable[Hashable] = ()
    ) -> list[dict[str, Any]]:
        """The ``k`` systems most likely to do the same job as ``record``, best first.

        ``record`` may be a new proposal or a fitted system (which is then left out of its own
        results). Each match has ``id``, ``score`` in [0, 1], ``relation`` (``overlap`` or
        ``reuse``), ``reasons`` and the score's ``components``. Systems in ``always`` are
        scored whether retrieval finds them or not (the proposer's own agency's systems, the
        shared platforms): a caller that must show them is never let down by retrieval.
        """
        self._check_fitted()
        probe = to_record({"id": QUERY_ID, **record})
        blocks = self.text_.transform([probe.name], [probe.full_text])
        query_vector = prune(self.text_.stack(blocks), self.retrieval_terms)
        similarities = self._retrieve(query_vector)
        similarities[~self.active_] = -1.0
        own = self.index_.get(probe.id)
        if own is not None:
            similarities[own] = -1.0
        wanted = max(self.candidates, k * 3)
        if int(self.active_.sum()) <= wanted:
            # A small portfolio is compared on its full vectors: retrieval keeps only terms that
            # link two systems, and a registry of one has none, yet its copy must be found.
            full = (self.text_.matrix_ @ self.text_.stack(blocks).T).toarray().ravel()[: similarities.size]
            rows = np.flatnonzero((full > 0) & (similarities > -1.0))
        else:
            rows = top(similarities, wanted)
            rows = rows[similarities[rows] > 0]
        if probe.capabilities:
            rows = np.union1d(rows, self._capability_neighbours(probe, own))
        meaning = self._probe_meaning(probe, own)
        if meaning is not None:
            rows = np.union1d(rows, self._meaning_neighbours(meaning, own, wanted))
        named = self.functions_.knowledge.functions_of(probe.name, probe.description)
        if named:
            rows = np.union1d(rows, self._function_neighbours(named, own, meaning, wanted))
        forced = [self.index_[i] for i in always if i in self.index_]
        if forced:
            forced_rows = np.array(forced, dtype=np.int64)
            rows = np.union1d(
                rows,
                forced_rows[self.active_[forced_rows] & (forced_rows != (own if own is not None else -1))],
            )
        if rows.size == 0:
            return []
        values = scoring.query_features(self, probe, blocks, rows, meaning)
        scores = self._scores(values)
        order = np.array(
            sorted(range(rows.size), key=lambda i: (-scores[i], str(self.records_[rows[i]].id)))[:k],
            dtype=np.int64,
        )
        chosen = rows[order]
        described = scoring.describe(
            self,
            [probe],
            [self.functions_.knowledge.functions_of(probe.name, probe.description)],
            blocks,
            self.text_.prepared_words([probe.full_text]),
            np.zeros(order.size, dtype=np.int64),
            chosen,
            {name: array[order] for name, array in values.items()},
            scores[order],
        )
        matches = [
            {"id": self.records_[row].id, **match}
            for row, match in zip(chosen.tolist(), described, strict=True)
        ]
        return fold_into_platforms(self.records_, self.index_, matches, ("id",))[:k]

    def _scores(self, values: dict[str, np.ndarray]) -> np.ndarray:
        return combine.scores(
            values, self.weights or combine.WEIGHTS, self.semantic_weights or combine.SEMANTIC_WEIGHTS
        )

    def _probe_meaning(self, probe: Record, own: int | None) -> np.ndarray | None:
        """Cosine in meaning of the probe with every row (``nan`` where unknown), or ``None``
        without a meaning channel. A fitted or stored text is not embedded again."""
        if self.semantic_ is None:
            return None
        vector: np.ndarray | None = None
        if own is not None and self.semantic_.present[own]:
            vector = self.semantic_.matrix[own]
        else:
            # Typing changes one field at a time: the other's vector is found, not recomputed.
            keys = text_keys(probe.name, probe.description)
            found = dict(self.store_.get_many(keys))
            if isinstance(self.embedder_, Embedder):
                self._embed_into(found, [keys], [probe])
            if keys and all(key in found for key in keys):
                vector = compose([found[key] for key in keys])
        return self.semantic_.similarities(vector, language_of(f"{probe.name} {probe.description}"))

    def _meaning_neighbours(self, meaning: np.ndarray, own: int | None, wanted: int) -> np.ndarray:
        """The rows closest in meaning, which may share no word with the probe."""
        close = np.where(self.active_ & ~np.isnan(meaning), meaning, -1.0)
        if own is not None:
            close[own] = -1.0
        rows = top(close, wanted)
        return rows[close[rows] >= MEANING_FLOOR]

    def _function_neighbours(
        self, named: Mapping[str, str], own: int | None, meaning: np.ndarray | None, wanted: int
    ) -> np.ndarray:
        """Systems the thesaurus gives the probe's function ("iOffice" meets "quản lý văn bản"),
        the closest in meaning first when there are many."""
        rows = self.functions_.rows_with(named)
        rows = rows[self.active_[rows] & (rows != (own if own is not None else -1))]
        if rows.size > wanted:
            closeness = np.nan_to_num(meaning[rows], nan=-9.0) if meaning is not None else np.zeros(rows.size)
            rows = rows[np.argsort(-closeness, kind="stable")[:wanted]]
        return rows

    def _retrieve(self, vector: sp.csr_matrix) -> np.ndarray:
        """Retrieval similarity of one pruned vector with every row.

        Only the posting lists of the vector's few terms are read (column slices of a CSC
        copy), instead of every row of the portfolio: the difference between a few and a few
        dozen milliseconds at 100,000 systems. Rows appended by :meth:`update` since the copy
        was made are multiplied directly; the copy is remade only once they are many.
        """
        size = self.retrieval_.shape[0]
        if self._retrieval_by_term is None or size - self._retrieval_by_term.shape[0] > RECENT_ROWS:
            self._retrieval_by_term = self.retrieval_.tocsc()
        columns = vector.indices
        similarities = np.zeros(size, dtype=np.float64)
        if columns.size == 0:
            return similarities
        indexed = self._retrieval_by_term.shape[0]
        weights = vector.data.astype(np.float64)
        similarities[:indexed] = self._retrieval_by_term[:, columns] @ weights
        if size > indexed:
            recent = self.retrieval_[indexed:size][:, columns]
            similarities[indexed:] = recent @ weights
        return similarities

    def _capability_neighbours(self, probe: Record, own: int | None) -> np.ndarray:
        """Systems declaring the probe's rarest capability, in case the words differ entirely."""
        known = [c for c in probe.capabilities or () if c in self.capability_vocabulary_]
        if not known:
            return np.empty(0, dtype=np.int64)
        rarest = max(known, key=lambda c: self.capability_weights_[c])
        rows = self._capability_lookup.rows(
            self._sets["capabilities"].binary, [self.capability_vocabulary_[rarest]]
        )
        rows = rows[self.active_[rows] & (rows != (own if own is not None else -1))]
        return rows[: self.candidates]

    def pairs(
        self,
        min_score: float = 0.5,
        k: int | None = None,
        include_reuse: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Pair]:
        """Every pair scoring at least ``min_score``, best first.

        With ``k``, a pair is kept only if one side is among the other's ``k`` best partners, so
        a cluster of 3,000 identical commune systems yields about 3,000·k pairs, not 4.5 million.
        Deployments of the same shared platform are reuse: left out unless ``include_reuse``.
        ``progress(done, total)`` is called after each block of rows (for progress bars).
        Each pair is a read-only mapping (:class:`Pair`) whose reasons are built when read.
        """
        self._check_fitted()
        # Asked for k partners each, 2k candidates are plenty: the exact score rarely reorders
        # retrieval by more than that, and each candidate costs a full scoring.
        per_row = self.candidates if k is None else min(self.candidates, 2 * k)
        left, right = self._candidate_pairs(per_row, progress, skip_groups=not include_reuse)
        if left.size == 0:
            return []
        values = scoring.scan_features(self, left, right)
        scores = self._scores(values)
        keep = scores >= min_score
        if not include_reuse:
            same = (self.groups_[left] >= 0) & (self.groups_[left] == self.groups_[right])
            keep &= ~same
        if k is not None:
            keep &= within_best(left, right, np.where(keep, scores, -1.0), k)
        chosen = np.flatnonzero(keep)
        left, right, scores = left[chosen], right[chosen], scores[chosen]
        values = {name: array[chosen] for name, array in values.items()}
        # Best first as the public scores read (rounded), ties by the ids as text: stable output.
        rounded = np.round(scores, 4)
        rank = self._id_rank()
        order = np.lexsort((rank[right], rank[left], -rounded))
        left, right, rounded = left[order], right[order], rounded[order]
        values = {name: array[order] for name, array in values.items()}
        reuse = reuse_pairs(self.records_, left, right)
        kept, shown_left, shown_right, via = fold_pairs(self.records_, self.index_, left, right, reuse)
        table = PairTable(
            self,
            left[kept],
            right[kept],
            shown_left,
            shown_right,
            rounded[kept],
            {name: array[kept] for name, array in values.items()},
            reuse[kept],
            via,
        )
        return [Pair(table, index) for index in range(kept.size)]

    def _id_rank(self) -> np.ndarray:
        """Each row's position in the order of the ids as text (the tie-break of every ranking)."""
        keys = [str(record.id) for record in self.records_]
        rank = np.empty(len(keys), dtype=np.int64)
        rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
        return rank

    def _candidate_pairs(
        self, per_row: int, progress: Callable[[int, int], None] | None = None, skip_groups: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unique (i < j) pairs of rows among each other's best retrieval neighbours.

        Compiled (:mod:`similarity.kernels`): each pair's retrieval product is computed once
        and never stored, so memory is bounded by the per-row heaps; ``progress`` is called
        after every ``batch_size`` rows.
        """
        left, right = kernels.best_partners(
            self.retrieval_, self.active_, self.groups_, per_row, skip_groups, self.batch_size, progress
        )
        extra = [self.functions_.same_function_pairs(self.active_)]
        if self.semantic_ is not None:
            extra.append(
                self.semantic_.neighbour_pairs(
                    self.active_, self.groups_, per_row, MEANING_FLOOR, skip_groups
                )
            )
        size = len(self.records_) + 1
        keys = [left * size + right] + [np.minimum(a, b) * size + np.maximum(a, b) for a, b in extra]
        unique = np.unique(np.concatenate(keys))
        left, right = unique // size, unique % size
        if skip_groups:
            same = (self.groups_[left] >= 0) & (self.groups_[left] == self.groups_[right])
            left, right = left[~same], right[~same]
        return left, right

    def clusters(self, min_score: float = 0.5, k: int | None = 10) -> list[set[Hashable]]:
        """Groups of systems that all overlap one another: "14 provinces built the same thing"
        (complete linkage, so a chain of overlaps whose ends are unrelated is not one group).

        A shared platform and its deployments count as one member, named by the platform, so
        a province that built its own copy forms a cluster with the platform it should have
        reused rather than with thirty sanctioned deployments.
        """
        representative = self._representatives()
        return graph.duplicate_clusters(
            (representative.get(p["a"], p["a"]), representative.get(p["b"], p["b"]))
            for p in self.pairs(min_score=min_score, k=k)
        )

    def _representatives(self) -> dict[Hashable, Hashable]:
        platform_of = {number: key for key, number in self._group_keys.items()}
        return {
            record.id: platform_of[group]
            for record, group in zip(self.records_, self.groups_.tolist(), strict=True)
            if group >= 0
        }

    def isolated(self) -> set[Hashable]:
        """Systems connected to no other system (only among records that declare dependencies)."""
        self._check_fitted()
        declared = {
            r.id for row, r in enumerate(self.records_) if r.depends_on is not None and self.active_[row]
        }
        return graph.isolated(self.graph_) & declared
