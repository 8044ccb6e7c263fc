"""``DuplicateFinder``: the public contract, shaped like a scikit-learn estimator.

``fit`` learns the vocabulary and indexes the portfolio; ``query`` ranks the portfolio against
one record (a proposal being typed); ``pairs`` scans the whole portfolio. Both retrieve
candidates with one sparse product over the text channels, then score each candidate with every
signal, so the expensive part is linear in the portfolio and the rich part only touches the few
systems that could matter.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from similarity import combine, graph, structure
from similarity.combine import Evidence, Weight
from similarity.lexicon import Lexicon
from similarity.records import Record, read_records, to_record
from similarity.text import RowTerms, TextSignal

__all__ = ["DuplicateFinder", "NotFittedError"]

QUERY_ID = "__query__"


class NotFittedError(RuntimeError):
    """``query`` or ``pairs`` was called before ``fit``."""


class DuplicateFinder:
    """Find systems that do the same job, and say why.

    Parameters
    ----------
    candidates : int
        Text neighbours considered per system before the full score is computed.
    text_weights : dict, optional
        Relative weights of the ``name``, ``word`` and ``char`` text channels.
    weights : dict of :class:`~similarity.combine.Weight`, optional
        Replaces :data:`similarity.combine.WEIGHTS` (for evaluation and tuning).
    lexicon : Lexicon, optional
        Thesaurus and removal lists; the packaged data files by default.
    batch_size : int
        Rows per block of the all-pairs scan; bounds its memory.

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
        text_weights: dict[str, float] | None = None,
        weights: dict[str, Weight] | None = None,
        lexicon: Lexicon | None = None,
        batch_size: int = 512,
    ):
        self.candidates = candidates
        self.text_weights = text_weights
        self.weights = weights
        self.lexicon = lexicon
        self.batch_size = batch_size

    # --- fitting ------------------------------------------------------------------------------

    def fit(self, records: Iterable[Mapping[str, Any]]) -> DuplicateFinder:
        checked = read_records(records)
        self.records_ = checked
        self.index_ = {record.id: row for row, record in enumerate(checked)}
        self.text_ = TextSignal(self.text_weights, self.lexicon).fit(
            [r.name for r in checked], [r.full_text for r in checked]
        )
        self.matrix_ = self.text_.matrix_
        self.capability_weights_ = structure.rarity_weights(r.capabilities for r in checked)
        self.domain_weights_ = structure.rarity_weights(r.data_domains for r in checked)
        self.graph_ = graph.dependency_graph((r.id, r.depends_on or ()) for r in checked)
        self.active_ = np.ones(len(checked), dtype=bool)
        self._group_keys: dict[Hashable, int] = {}
        self.groups_ = np.array([self._group(r) for r in checked], dtype=np.int64)
        return self

    def _group(self, record: Record) -> int:
        """Rows of one shared platform (the platform and its deployments) share a group number.

        The scan skips same-group neighbours when picking candidates: otherwise 110 copies of
        one product fill every copy's neighbour list, and the other products doing the same job
        (the overlaps worth seeing) never get compared. ``-1`` means no group.
        """
        key = record.instance_of if record.instance_of is not None else record.id
        if record.instance_of is None and not record.is_shared_platform:
            return self._group_keys.get(key, -1)
        return self._group_keys.setdefault(key, len(self._group_keys))

    def update(self, records: Iterable[Mapping[str, Any]]) -> DuplicateFinder:
        """Add new systems or replace edited ones without refitting the vocabulary.

        A saved system is re-vectorised with the fitted vocabulary and appended; the row it
        replaces is switched off. Weights learned at ``fit`` (IDF, capability rarity) stay as
        they were: a periodic full ``fit`` (the portfolio scan) refreshes them.
        """
        self._check_fitted()
        checked = read_records(records)
        if not checked:
            return self
        for record in checked:
            old = self.index_.get(record.id)
            if old is not None:
                self.active_[old] = False
                self.graph_.remove_edges_from(list(self.graph_.out_edges(record.id)))
        start = len(self.records_)
        blocks = self.text_.transform([r.name for r in checked], [r.full_text for r in checked])
        self.text_.append(blocks)
        self.matrix_ = self.text_.matrix_
        for offset, record in enumerate(checked):
            self.records_.append(record)
            self.index_[record.id] = start + offset
            self.graph_.add_node(record.id)
            self.graph_.add_edges_from((record.id, t) for t in record.depends_on or () if t != record.id)
        self.active_ = np.concatenate([self.active_, np.ones(len(checked), dtype=bool)])
        self.groups_ = np.concatenate(
            [self.groups_, np.array([self._group(r) for r in checked], dtype=np.int64)]
        )
        return self

    def remove(self, ids: Iterable[Hashable]) -> DuplicateFinder:
        """Forget systems (retired, rejected or deleted)."""
        self._check_fitted()
        for record_id in ids:
            row = self.index_.pop(record_id, None)
            if row is not None:
                self.active_[row] = False
                if record_id in self.graph_:
                    self.graph_.remove_node(record_id)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "matrix_"):
            raise NotFittedError("call fit(records) before query() or pairs()")

    # --- scoring ------------------------------------------------------------------------------

    def _score(
        self,
        left_blocks: dict[str, sp.csr_matrix],
        left_records: list[Record],
        rows_left: np.ndarray,
        rows_right: np.ndarray,
    ) -> tuple[np.ndarray, list[Evidence]]:
        """Scores of many pairs: text cosines in one vectorised pass, the rest per pair."""
        weights = self.weights or combine.WEIGHTS
        cosines = self.text_.pair_cosines(left_blocks, rows_left, rows_right)
        evidences = []
        for index, (i, j) in enumerate(zip(rows_left.tolist(), rows_right.tolist(), strict=True)):
            a, b = left_records[i], self.records_[j]
            evidence = Evidence(
                name=float(cosines["name"][index]),
                word=float(cosines["word"][index]),
                char=float(cosines["char"][index]),
                capabilities=structure.weighted_jaccard(
                    a.capabilities, b.capabilities, self.capability_weights_
                ),
                data_domains=structure.weighted_jaccard(a.data_domains, b.data_domains, self.domain_weights_),
                level=structure.same_level(a.level, b.level),
                users=structure.jaccard(a.user_agencies, b.user_agencies),
                neighbourhood=self._neighbourhood(a, b),
            )
            evidence.reuse_of = _reuse(a, b)
            if evidence.reuse_of is None:
                evidence.central_platform = _central_duplicate(a, b, evidence)
            evidences.append(evidence)
        scores = np.array([combine.score(e, weights) for e in evidences], dtype=np.float64)
        return scores, evidences

    def _neighbourhood(self, a: Record, b: Record) -> float | None:
        if a.id in self.index_:
            return graph.neighbourhood_similarity(self.graph_, a.id, b.id)
        # A proposal not yet in the graph: compare what it says it will depend on.
        if not a.depends_on or b.id not in self.graph_:
            return None
        around_b = frozenset(graph.neighbours(self.graph_, b.id) - {a.id})
        return structure.jaccard(frozenset(a.depends_on - {b.id}), around_b)

    def _describe(
        self,
        evidence: Evidence,
        a: Record,
        b: Record,
        word_a: RowTerms,
        word_b: RowTerms,
        score: float,
    ) -> dict[str, Any]:
        """The public form of one match, with its reasons (computed only for what is returned)."""
        evidence.shared_terms = self.text_.shared_terms(word_a, word_b)
        if a.capabilities and b.capabilities:
            evidence.shared_capabilities = sorted(a.capabilities & b.capabilities, key=str)
        return {
            "score": round(float(score), 4),
            "relation": "reuse" if evidence.reuse_of is not None else "overlap",
            "reasons": combine.explain(evidence),
            "components": {k: (None if v is None else round(v, 4)) for k, v in evidence.components().items()},
        }

    # --- queries ------------------------------------------------------------------------------

    def query(self, record: Mapping[str, Any], k: int = 10) -> list[dict[str, Any]]:
        """The ``k`` systems most likely to do the same job as ``record``, best first.

        ``record`` may be a new proposal or a fitted system (which is then left out of its own
        results). Each match has ``id``, ``score`` in [0, 1], ``relation`` (``overlap`` or
        ``reuse``), ``reasons`` and the score's ``components``.
        """
        self._check_fitted()
        probe = to_record({"id": QUERY_ID, **record})
        blocks = self.text_.transform([probe.name], [probe.full_text])
        similarities = np.asarray((self.matrix_ @ self.text_.stack(blocks).T).todense()).ravel()
        similarities[~self.active_] = -1.0
        own = self.index_.get(probe.id)
        if own is not None:
            similarities[own] = -1.0
        rows = _top(similarities, max(self.candidates, k * 3))
        rows = np.array(
            [
                r
                for r in rows
                if r != own and (similarities[r] > 0 or self._has_structure(probe, self.records_[r]))
            ],
            dtype=np.int64,
        )
        if rows.size == 0:
            return []
        scores, evidences = self._score(blocks, [probe], np.zeros(rows.size, dtype=np.int64), rows)
        order = sorted(range(rows.size), key=lambda i: (-scores[i], str(self.records_[rows[i]].id)))[:k]
        word = self.text_.blocks_["word"]
        matches = []
        for i in order:
            other = self.records_[rows[i]]
            described = self._describe(
                evidences[i],
                probe,
                other,
                TextSignal.row(blocks["word"], 0),
                TextSignal.row(word, rows[i]),
                scores[i],
            )
            matches.append({"id": other.id, **described})
        return matches

    @staticmethod
    def _has_structure(a: Record, b: Record) -> bool:
        return bool(a.capabilities and b.capabilities and a.capabilities & b.capabilities)

    def pairs(
        self,
        min_score: float = 0.5,
        k: int | None = None,
        include_reuse: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every pair scoring at least ``min_score``, best first.

        With ``k``, a pair is kept only if one side is among the other's ``k`` best partners, so
        a cluster of 3,000 identical commune systems yields about 3,000·k pairs, not 4.5 million.
        Deployments of the same shared platform are reuse: left out unless ``include_reuse``.
        ``progress(done, total)`` is called after each block of rows (for progress bars).
        """
        self._check_fitted()
        left, right = self._candidate_pairs(progress, skip_groups=not include_reuse)
        if left.size == 0:
            return []
        scores, evidences = self._score(self.text_.blocks_, self.records_, left, right)
        keep = scores >= min_score
        if not include_reuse:
            keep &= np.array([e.reuse_of is None for e in evidences], dtype=bool)
        if k is not None:
            ranked = np.where(keep, scores, -1.0)
            keep &= _within_best(left, right, ranked, len(self.records_), k)
        word = self.text_.blocks_["word"]
        results = []
        for index in np.flatnonzero(keep):
            i, j = int(left[index]), int(right[index])
            a, b = self.records_[i], self.records_[j]
            described = self._describe(
                evidences[index], a, b, TextSignal.row(word, i), TextSignal.row(word, j), float(scores[index])
            )
            results.append({"a": a.id, "b": b.id, **described})
        results.sort(key=lambda p: (-p["score"], str(p["a"]), str(p["b"])))
        return results

    def _candidate_pairs(
        self, progress: Callable[[int, int], None] | None = None, skip_groups: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unique (i < j) pairs of rows that are among each other's best text neighbours.

        Computed block by block, so memory is bounded by ``batch_size`` rows of products.
        """
        matrix = self.matrix_
        transposed = matrix.T.tocsc()
        size = matrix.shape[0]
        lefts, rights = [], []
        for start in range(0, size, self.batch_size):
            block = (matrix[start : start + self.batch_size] @ transposed).tocsr()
            for offset in range(block.shape[0]):
                row = start + offset
                if not self.active_[row]:
                    continue
                begin, end = block.indptr[offset], block.indptr[offset + 1]
                columns, data = block.indices[begin:end], block.data[begin:end]
                mask = (columns != row) & (data > 0) & self.active_[columns]
                if skip_groups and self.groups_[row] >= 0:
                    mask &= self.groups_[columns] != self.groups_[row]
                columns, data = columns[mask], data[mask]
                if data.size > self.candidates:
                    columns = columns[np.argpartition(-data, self.candidates)[: self.candidates]]
                lefts.append(np.full(columns.size, row, dtype=np.int64))
                rights.append(columns.astype(np.int64))
            if progress is not None:
                progress(min(start + self.batch_size, size), size)
        if not lefts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        left, right = np.concatenate(lefts), np.concatenate(rights)
        low, high = np.minimum(left, right), np.maximum(left, right)
        codes = np.unique(low * size + high)
        return codes // size, codes % size

    def clusters(self, min_score: float = 0.5, k: int | None = 10) -> list[set[Hashable]]:
        """Groups of systems connected by overlaps: "14 provinces built the same thing".

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


def _within_best(left: np.ndarray, right: np.ndarray, scores: np.ndarray, size: int, k: int) -> np.ndarray:
    """For each pair, whether it is among the ``k`` best of either of its two systems."""
    ends = np.concatenate([left, right])
    partners_scores = np.concatenate([scores, scores])
    pair_index = np.concatenate([np.arange(left.size), np.arange(left.size)])
    order = np.lexsort((-partners_scores, ends))
    ranked_ends = ends[order]
    starts = np.searchsorted(ranked_ends, ranked_ends, side="left")
    rank = np.arange(order.size) - starts
    keep = np.zeros(left.size, dtype=bool)
    keep[pair_index[order[rank < k]]] = True
    return keep


def _top(values: np.ndarray, count: int) -> np.ndarray:
    if count >= len(values):
        return np.argsort(-values)
    top = np.argpartition(-values, count)[:count]
    return top[np.argsort(-values[top])]


def _reuse(a: Record, b: Record) -> Hashable | None:
    """The shared platform that makes the pair sanctioned reuse, if any."""
    if a.instance_of is not None and a.instance_of == b.instance_of:
        return a.instance_of
    if a.instance_of is not None and a.instance_of == b.id:
        return b.id
    if b.instance_of is not None and b.instance_of == a.id:
        return a.id
    return None


def _central_duplicate(a: Record, b: Record, evidence: Evidence) -> Hashable | None:
    """A local system re-building what a central shared platform provides (build centrally first).

    Overlapping a deployment of a platform is overlapping the platform itself, so the reason
    names the platform the local system should have reused.
    """
    for deployment, local in ((a, b), (b, a)):
        if deployment.instance_of is not None and local.instance_of is None and not local.is_shared_platform:
            return deployment.instance_of
    for platform, local in ((a, b), (b, a)):
        if (
            platform.is_shared_platform
            and not local.is_shared_platform
            and local.level not in (None, "central")
        ):
            overlapping = evidence.capabilities is not None and evidence.capabilities >= 0.5
            if overlapping or evidence.word >= 0.5:
                return platform.id
    return None
