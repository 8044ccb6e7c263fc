"""Structure and graph signals for many pairs at once, as sparse-matrix arithmetic.

The same definitions as :mod:`similarity.structure` and :mod:`similarity.graph` (which stay as
the readable reference), computed for arrays of pairs: a full scan scores millions of pairs,
where a Python loop over sets would take minutes. Every function returns ``nan`` where either
record does not declare the field, which :mod:`similarity.combine` reads as "unknown".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from similarity import kernels

__all__ = [
    "ColumnLookup",
    "GrowingArray",
    "GrowingRows",
    "SetMatrix",
    "adjacency",
    "jaccard_pairs",
    "neighbourhood_pairs",
    "rowdot",
    "same_level_pairs",
]


def rowdot(
    left: sp.csr_matrix, right: sp.csr_matrix, rows_left: np.ndarray, rows_right: np.ndarray
) -> np.ndarray:
    """``left[rows_left[i]] · right[rows_right[i]]`` for every i (compiled: one merge per pair)."""
    return kernels.rowdot(left.tocsr(), right.tocsr(), rows_left, rows_right)


class SetMatrix:
    """Sets of codes (capabilities, data domains, user agencies) as a sparse incidence matrix.

    ``weighted`` holds each item's weight (rarity), ``binary`` its presence; ``weight_sum`` also
    counts items unknown to the vocabulary at weight 1, as the reference definition does.
    """

    def __init__(
        self, weighted: sp.csr_matrix, binary: sp.csr_matrix, weight_sum: np.ndarray, declared: np.ndarray
    ):
        # Grown in place: a saved system must not copy the whole portfolio's incidence matrices
        # (``scipy.sparse.vstack`` did, a few milliseconds per save at 100,000 systems).
        self._weighted = GrowingRows(weighted)
        self._binary = GrowingRows(binary)
        self._weight_sum = GrowingArray(np.asarray(weight_sum, dtype=np.float64))
        self._declared = GrowingArray(np.asarray(declared, dtype=bool))

    @property
    def weighted(self) -> sp.csr_matrix:
        return self._weighted.matrix

    @property
    def binary(self) -> sp.csr_matrix:
        return self._binary.matrix

    @property
    def weight_sum(self) -> np.ndarray:
        return self._weight_sum.array

    @property
    def declared(self) -> np.ndarray:
        return self._declared.array

    @classmethod
    def build(
        cls,
        sets: Sequence[frozenset[Hashable] | None],
        vocabulary: Mapping[Hashable, int],
        weights: np.ndarray,
    ) -> SetMatrix:
        rows, columns = [], []
        unknown = np.zeros(len(sets), dtype=np.float64)
        for row, items in enumerate(sets):
            for item in items or ():
                column = vocabulary.get(item)
                if column is None:
                    unknown[row] += 1.0
                else:
                    rows.append(row)
                    columns.append(column)
        shape = (len(sets), len(vocabulary))
        ones = np.ones(len(rows), dtype=np.float64)
        binary = sp.csr_matrix((ones, (rows, columns)), shape=shape)
        weighted = sp.csr_matrix((weights[columns] if columns else ones, (rows, columns)), shape=shape)
        declared = np.array([bool(items) for items in sets], dtype=bool)
        weight_sum = np.asarray(weighted.sum(axis=1)).ravel() + unknown
        return cls(weighted, binary, weight_sum, declared)

    def append(self, other: SetMatrix) -> SetMatrix:
        """Add ``other``'s rows at the end, in place; returns ``self``."""
        self._weighted.append(other.weighted)
        self._binary.append(other.binary)
        self._weight_sum.append(other.weight_sum)
        self._declared.append(other.declared)
        return self


def jaccard_pairs(
    left: SetMatrix, right: SetMatrix, rows_left: np.ndarray, rows_right: np.ndarray
) -> np.ndarray:
    """Weighted Jaccard Σw(shared)/Σw(either) per pair; ``nan`` if either declares nothing."""
    shared = rowdot(left.weighted, right.binary, rows_left, rows_right)
    union = left.weight_sum[rows_left] + right.weight_sum[rows_right] - shared
    declared = left.declared[rows_left] & right.declared[rows_right] & (union > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(declared, shared / np.where(union > 0, union, 1.0), np.nan)


def same_level_pairs(
    left: np.ndarray, right: np.ndarray, rows_left: np.ndarray, rows_right: np.ndarray
) -> np.ndarray:
    """1 for the same level, 0 for different, ``nan`` if unknown (levels coded as ints, -1 unknown)."""
    a, b = left[rows_left], right[rows_right]
    return np.where((a < 0) | (b < 0), np.nan, (a == b).astype(np.float64))


def adjacency(edges: Iterable[tuple[int, int]], size: int) -> sp.csr_matrix:
    """Symmetric 0/1 matrix of "connected in either direction" between rows."""
    pairs = [(a, b) for a, b in edges if a != b]
    if not pairs:
        return sp.csr_matrix((size, size), dtype=np.float64)
    a, b = np.array(pairs, dtype=np.int64).T
    matrix = sp.csr_matrix((np.ones(a.size * 2), (np.r_[a, b], np.r_[b, a])), shape=(size, size))
    matrix.data[:] = 1.0  # duplicate edges were summed
    return matrix


def neighbourhood_pairs(matrix: sp.csr_matrix, rows_left: np.ndarray, rows_right: np.ndarray) -> np.ndarray:
    """Jaccard of two systems' neighbours, their own edge left out; ``nan`` if either has no
    other neighbour (the reference is :func:`similarity.graph.neighbourhood_similarity`)."""
    shared = rowdot(matrix, matrix, rows_left, rows_right)
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    linked = np.asarray(matrix[rows_left, rows_right]).ravel()
    own_left = degree[rows_left] - linked
    own_right = degree[rows_right] - linked
    union = own_left + own_right - shared
    declared = (own_left > 0) & (own_right > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(declared, shared / np.where(union > 0, union, 1.0), np.nan)


class GrowingRows:
    """A CSR matrix that rows are appended to in place.

    ``scipy.sparse.vstack`` copies the whole matrix for every saved system (100–150 ms at
    100,000 systems); here the arrays keep spare room (a quarter more when they fill up), so
    an append copies only the new rows and :attr:`matrix` is a view over the filled part.
    Index arrays are int32, which also halves their memory against scipy's int64 upcasts.
    """

    def __init__(self, matrix: sp.csr_matrix):
        matrix = sp.csr_matrix(matrix)
        matrix.sum_duplicates()  # also sorts the indices, which the compiled row products need
        self.columns = matrix.shape[1]
        self.rows = matrix.shape[0]
        self.nnz = matrix.nnz
        # Spare room stays under the filled size: scipy copies a view of an array more than
        # twice its size (``_prune_array``), which would defeat the purpose.
        self._indptr = np.empty(self.rows + 1 + self.rows // 4 + 16, dtype=np.int32)
        self._indptr[: self.rows + 1] = matrix.indptr
        spare = self.nnz // 4 + 16
        self._indices = np.empty(self.nnz + spare, dtype=np.int32)
        self._indices[: self.nnz] = matrix.indices
        self._data = np.empty(self.nnz + spare, dtype=matrix.dtype)
        self._data[: self.nnz] = matrix.data
        self._view()

    def _view(self) -> None:
        matrix = sp.csr_matrix(
            (self._data[: self.nnz], self._indices[: self.nnz], self._indptr[: self.rows + 1]),
            shape=(self.rows, self.columns),
            copy=False,
        )
        matrix.has_sorted_indices = True
        matrix.has_canonical_format = True
        self.matrix = matrix

    def append(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        """Add ``rows`` (same columns) at the end; returns the grown matrix."""
        rows = sp.csr_matrix(rows, dtype=self._data.dtype)
        rows.sum_duplicates()
        count, added = rows.shape[0], rows.nnz
        if self.rows + count + 1 > self._indptr.size:
            self._indptr = _grown(self._indptr, self.rows + count + 1)
        if self.nnz + added > self._indices.size:
            self._indices = _grown(self._indices, self.nnz + added)
            self._data = _grown(self._data, self.nnz + added)
        self._indices[self.nnz : self.nnz + added] = rows.indices
        self._data[self.nnz : self.nnz + added] = rows.data
        self._indptr[self.rows + 1 : self.rows + count + 1] = rows.indptr[1:] + self.nnz
        self.rows += count
        self.nnz += added
        self._view()
        return self.matrix


def _grown(array: np.ndarray, needed: int) -> np.ndarray:
    bigger = np.empty(max(needed + needed // 8, array.size + array.size // 4 + 16), dtype=array.dtype)
    bigger[: array.size] = array
    return bigger


class GrowingArray:
    """A 1-D array that values are appended to in place (spare room, as :class:`GrowingRows`)."""

    def __init__(self, values: np.ndarray):
        self.size = values.size
        self._values = np.empty(self.size + self.size // 4 + 16, dtype=values.dtype)
        self._values[: self.size] = values

    @property
    def array(self) -> np.ndarray:
        return self._values[: self.size]

    def append(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=self._values.dtype)
        if self.size + values.size > self._values.size:
            self._values = _grown(self._values, self.size + values.size)
        self._values[self.size : self.size + values.size] = values
        self.size += values.size
        return self.array


class ColumnLookup:
    """The rows having any of some columns, without scanning the whole matrix on every call.

    Rows are only ever appended (an edited system gets a new row), so a column-major copy of
    the first rows stays true: its posting lists answer for them, the few rows appended since
    are scanned directly, and the copy is remade only once those are many. Rebuilding the copy
    after every save cost a few milliseconds per query at 100,000 systems.
    """

    def __init__(self, recent: int = 2048):
        self.recent = recent
        self._by_column: sp.csc_matrix | None = None

    def rows(self, matrix: sp.csr_matrix, columns: Sequence[int]) -> np.ndarray:
        """Sorted distinct rows of ``matrix`` with a non-zero in any of ``columns``."""
        size = matrix.shape[0]
        if self._by_column is None or not 0 <= size - self._by_column.shape[0] <= self.recent:
            self._by_column = sp.csc_matrix(matrix)
        indexed = self._by_column.shape[0]
        found = [self._by_column[:, columns].nonzero()[0]]
        if size > indexed:
            found.append(matrix[indexed:size][:, columns].nonzero()[0] + indexed)
        return np.unique(np.concatenate(found)).astype(np.int64)
