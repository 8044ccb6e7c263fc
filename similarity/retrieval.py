"""Retrieval: which systems are worth scoring against which, found cheaply.

A sparse product over a *pruned* copy of the text vectors (each row keeps only its most
distinctive terms, and only terms that can link two different products) finds each system's
likely partners; the finder then scores those candidates exactly. Plain functions over arrays.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import scipy.sparse as sp

from similarity import structure

__all__ = ["linking_terms", "prune", "top", "vocabulary", "within_best"]


def vocabulary(
    sets: Iterable[frozenset[Hashable] | None],
) -> tuple[dict[Hashable, int], dict[Hashable, float]]:
    """Column numbers and rarity weights of the codes used in a field, in one stable order."""
    weights = structure.rarity_weights(sets)
    ordered = sorted(weights, key=str)
    return {item: column for column, item in enumerate(ordered)}, {item: weights[item] for item in ordered}


def linking_terms(matrix: sp.csr_matrix, groups: np.ndarray) -> np.ndarray:
    """Columns that can bring two *different* systems together.

    A term used by one system only, or only by the copies of one product, links nothing new:
    keeping it in the retrieval copy would crowd out the terms shared with other products
    (the Amphora-specific n-grams pushing out "dokumendihaldus", shared with Delta).
    """
    coo = matrix.tocoo()
    # Number the units (a product group, or a system on its own) 0..U-1, then count distinct
    # (column, unit) pairs per column with one 1-D unique over a combined integer key.
    units = np.where(groups >= 0, groups, groups.max(initial=-1) + 1 + np.arange(groups.size))
    keys = np.sort(coo.col.astype(np.int64) * (units.max(initial=0) + 1) + units[coo.row])
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys
    columns = keys // (units.max(initial=0) + 1)
    return np.bincount(columns, minlength=matrix.shape[1]) >= 2


def prune(matrix: sp.csr_matrix, terms: int, useful: np.ndarray | None = None) -> sp.csr_matrix:
    """Keep each row's ``terms`` largest weights and renormalise (the retrieval copy).

    The largest TF-IDF weights are the rarest, most distinctive terms; dropping the common
    ones shrinks the all-pairs product by orders of magnitude while the exact scores of the
    candidates are still computed on the full vectors. Columns not ``useful`` are dropped
    first.
    """
    matrix = matrix.tocsr()
    if useful is not None:
        matrix = sp.csr_matrix(matrix.multiply(useful.astype(np.float32)[np.newaxis, :]))
        matrix.eliminate_zeros()
    lengths = np.diff(matrix.indptr)
    keep = np.ones(matrix.nnz, dtype=bool)
    for row in np.flatnonzero(lengths > terms).tolist():
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        order = np.argpartition(-matrix.data[start:end], terms)
        keep[start + order[terms:]] = False
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)[keep]
    pruned = sp.csr_matrix(
        (matrix.data[keep], (rows, matrix.indices[keep])), shape=matrix.shape, dtype=np.float32
    )
    norms = np.sqrt(np.asarray(pruned.multiply(pruned).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ pruned)


def within_best(left: np.ndarray, right: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """For each pair, whether it is among the ``k`` best of either of its two systems."""
    ends = np.concatenate([left, right])
    partner_scores = np.concatenate([scores, scores])
    pair_index = np.concatenate([np.arange(left.size), np.arange(left.size)])
    order = np.lexsort((-partner_scores, ends))
    ranked_ends = ends[order]
    starts = np.searchsorted(ranked_ends, ranked_ends, side="left")
    rank = np.arange(order.size) - starts
    keep = np.zeros(left.size, dtype=bool)
    keep[pair_index[order[rank < k]]] = True
    return keep


def top(values: np.ndarray, count: int) -> np.ndarray:
    if count >= len(values):
        return np.argsort(-values)
    top = np.argpartition(-values, count)[:count]
    return top[np.argsort(-values[top])]
