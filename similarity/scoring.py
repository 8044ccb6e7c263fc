"""Scoring: every signal between pairs of systems, and the public form of a match.

The finder retrieves candidates (:mod:`similarity.retrieval`); these functions compute each
signal exactly for those candidates, as array arithmetic for a scan and a short loop for one
proposal, and describe the matches returned, with their reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from similarity import combine, features, graph, structure
from similarity.combine import Evidence
from similarity.knowledge import FunctionRows
from similarity.normalize import canonical, strip_accents
from similarity.records import Record
from similarity.reuse import central_duplicate, sanctioned_reuse
from similarity.text import CHANNELS

if TYPE_CHECKING:  # the finder calls these with itself
    from similarity.finder import DuplicateFinder

__all__ = ["describe", "nan_if_none", "probe_neighbourhood", "query_features", "scan_features"]


def nan_if_none(value: float | None) -> float:
    return np.nan if value is None else value


def scan_features(finder: DuplicateFinder, left: np.ndarray, right: np.ndarray) -> dict[str, np.ndarray]:
    """Every signal for pairs of fitted rows, as arrays (``nan`` = unknown)."""
    values = {
        c: features.rowdot(finder.text_.blocks_[c], finder.text_.blocks_[c], left, right) for c in CHANNELS
    }
    for name in ("capabilities", "data_domains", "users"):
        values[name] = features.jaccard_pairs(finder._sets[name], finder._sets[name], left, right)
    values["level"] = features.same_level_pairs(finder.levels_, finder.levels_, left, right)
    values["neighbourhood"] = features.neighbourhood_pairs(finder._adjacency_matrix(), left, right)
    values["function"] = finder.functions_.pairs(
        finder.functions_.named, finder.functions_.matrix, left, right
    )
    values["meaning"] = (
        finder.semantic_.pair_cosines(left, right)
        if finder.semantic_ is not None
        else np.full(left.size, np.nan)
    )
    return values


def query_features(
    finder: DuplicateFinder,
    probe: Record,
    blocks: dict[str, sp.csr_matrix],
    rows: np.ndarray,
    meaning: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every signal between one proposal and some fitted rows (few: a loop is fine).

    ``meaning`` is the probe's cosine with every row, computed once by the finder."""
    zeros = np.zeros(rows.size, dtype=np.int64)
    values = {c: features.rowdot(blocks[c], finder.text_.blocks_[c], zeros, rows) for c in CHANNELS}
    capability_weights = finder.capability_weights_
    domain_weights = finder.domain_weights_
    reference = {
        "capabilities": lambda b: structure.weighted_jaccard(
            probe.capabilities, b.capabilities, capability_weights
        ),
        "data_domains": lambda b: structure.weighted_jaccard(
            probe.data_domains, b.data_domains, domain_weights
        ),
        "users": lambda b: structure.jaccard(probe.user_agencies, b.user_agencies),
        "level": lambda b: structure.same_level(probe.level, b.level),
        "neighbourhood": lambda b: probe_neighbourhood(finder, probe, b),
    }
    others = [finder.records_[row] for row in rows.tolist()]
    for name, signal in reference.items():
        values[name] = np.array([nan_if_none(signal(other)) for other in others], dtype=np.float64)
    probe_functions = FunctionRows(finder.functions_.knowledge)
    probe_functions.append([(probe.name, probe.description, probe.capabilities)])
    values["function"] = finder.functions_.pairs(probe_functions.named, probe_functions.matrix, zeros, rows)
    values["meaning"] = meaning[rows] if meaning is not None else np.full(rows.size, np.nan)
    return values


def probe_neighbourhood(finder: DuplicateFinder, probe: Record, other: Record) -> float | None:
    if probe.id in finder.index_:
        return graph.neighbourhood_similarity(finder.graph_, probe.id, other.id)
    # A proposal not yet in the graph: compare what it says it will depend on.
    if not probe.depends_on or other.id not in finder.graph_:
        return None
    around = frozenset(graph.neighbours(finder.graph_, other.id) - {probe.id})
    return structure.jaccard(frozenset(probe.depends_on - {other.id}), around)


def name_similarity(a: str, b: str) -> float:
    """Jaccard of the names' character trigrams as typed (before any thesaurus rewriting):
    the figure a reader can check by looking at the two names."""
    grams = []
    for name in (a, b):
        text = strip_accents(canonical(name))
        grams.append({text[i : i + 3] for i in range(max(len(text) - 2, 1))})
    union = grams[0] | grams[1]
    return len(grams[0] & grams[1]) / len(union) if union else 0.0


def describe(
    finder: DuplicateFinder,
    left_records: list[Record],
    left_named: Sequence[Mapping[str, str]],
    left_blocks: dict[str, sp.csr_matrix],
    left_texts: list[str],
    rows_left: np.ndarray,
    rows_right: np.ndarray,
    values: dict[str, np.ndarray],
    scores: np.ndarray,
) -> list[dict[str, Any]]:
    """The public form of the matches that are returned, with their reasons.

    Reasons are built only for what is returned; the heavy parts (shared terms, rounding)
    run over all of them at once.
    """
    terms = finder.text_.shared_terms(left_blocks, left_texts, rows_left, rows_right)
    names = list(values)
    # One row of rounded values per pair, unknown (nan) as None, built column-wise in numpy.
    columns = [np.where(np.isnan(values[n]), None, np.round(values[n], 4)).tolist() for n in names]  # type: ignore[call-overload]  # numpy's stubs refuse None as a choice; an object array is meant
    rows = list(zip(*columns, strict=True)) if columns else []
    score_list = np.round(scores, 4).tolist()
    described = []
    for index, (i, j) in enumerate(zip(rows_left.tolist(), rows_right.tolist(), strict=True)):
        a, b = left_records[i], finder.records_[j]
        components = dict(zip(names, rows[index], strict=True))
        evidence = Evidence(**components, shared_terms=terms[index])
        if a.capabilities and b.capabilities:
            evidence.shared_capabilities = sorted(a.capabilities & b.capabilities, key=str)
        evidence.same_function = finder.functions_.evidence(left_named[i], a.capabilities, j, b.capabilities)
        if evidence.same_function:
            # The name channel compared the names after the thesaurus rewrote them ("iOffice"
            # became "quản lý văn bản điều hành"): report the names as typed instead.
            evidence.name = round(name_similarity(a.name, b.name), 4)
        evidence.meaning_pending = (
            finder.semantic_ is not None and evidence.meaning is None and finder.semantic_.pending(j)
        )
        evidence.reuse_of = sanctioned_reuse(a, b)
        if evidence.reuse_of is None:
            evidence.central_platform = central_duplicate(a, b, evidence)
        described.append(
            {
                "score": score_list[index],
                "relation": "reuse" if evidence.reuse_of is not None else "overlap",
                "reasons": combine.explain(evidence),
                "components": components,
            }
        )
    return described
