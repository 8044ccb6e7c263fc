"""Compiled loops of the all-pairs scan (numba): what array operations cannot express cheaply.

The scan's candidate retrieval is a sparse product of the pruned text vectors with themselves,
keeping each row's best partners. As a matrix product it materialises every nonzero product
(a fifth of all pairs at 100,000 systems) before filtering and ranking them row by row. Here
each pair ``i < j`` is accumulated once (the product is symmetric), filtered (inactive rows,
same product group) and offered straight to both rows' bounded heaps, on every core.
"""

from __future__ import annotations

import threading

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["best_partners", "dense_rowdot", "rowdot"]

_PARALLEL = threading.Lock()
"""One parallel kernel at a time per process: numba's fallback thread pool (when OpenMP is
missing) aborts the process on concurrent launches from two threads (two web requests)."""


@numba.njit(cache=True, nogil=True, inline="always")
def _offer(scores: np.ndarray, columns: np.ndarray, sizes: np.ndarray, row: int, score: float, column: int):
    """Push (score, column) into ``row``'s min-heap of at most ``scores.shape[1]`` entries."""
    size = sizes[row]
    capacity = scores.shape[1]
    heap_s = scores[row]
    heap_c = columns[row]
    if size < capacity:
        position = size
        sizes[row] = size + 1
        while position > 0:
            parent = (position - 1) >> 1
            if heap_s[parent] <= score:
                break
            heap_s[position] = heap_s[parent]
            heap_c[position] = heap_c[parent]
            position = parent
        heap_s[position] = score
        heap_c[position] = column
        return
    if score <= heap_s[0]:
        return
    position = 0
    while True:
        child = 2 * position + 1
        if child >= capacity:
            break
        if child + 1 < capacity and heap_s[child + 1] < heap_s[child]:
            child += 1
        if heap_s[child] >= score:
            break
        heap_s[position] = heap_s[child]
        heap_c[position] = heap_c[child]
        position = child
    heap_s[position] = score
    heap_c[position] = column


@numba.njit(cache=True, nogil=True, inline="always")
def _dot(l_indptr, l_indices, l_data, r_indptr, r_indices, r_data, a, b) -> float:
    """Product of row ``a`` of one CSR matrix and row ``b`` of another (sorted indices)."""
    p, p_end = l_indptr[a], l_indptr[a + 1]
    q, q_end = r_indptr[b], r_indptr[b + 1]
    total = 0.0
    while p < p_end and q < q_end:
        column_p, column_q = l_indices[p], r_indices[q]
        if column_p == column_q:
            total += np.float64(l_data[p]) * np.float64(r_data[q])
            p += 1
            q += 1
        elif column_p < column_q:
            p += 1
        else:
            q += 1
    return total


@numba.njit(cache=True, nogil=True, parallel=True)
def _scan_rows(
    start: int,
    end: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    active: np.ndarray,
    groups: np.ndarray,
    skip_groups: bool,
    scores: np.ndarray,
    columns: np.ndarray,
    sizes: np.ndarray,
    floors: np.ndarray,
):
    """Rows ``start..end`` against every later row; part ``p`` takes every ``parts``-th row.

    Each part owns its heaps (``scores[p]``…), so no two threads write the same memory.
    """
    parts = scores.shape[0]
    size = indptr.size - 1
    for part in numba.prange(parts):
        accumulator = np.zeros(size, dtype=np.float32)
        touched = np.empty(size, dtype=np.int64)
        part_scores, part_columns, part_sizes = scores[part], columns[part], sizes[part]
        # The score a partner must beat to enter each row's heap (0 until the heap is full):
        # checked before touching the heap, which is far away in memory.
        floor = floors[part]
        capacity = part_scores.shape[1]
        for row in range(start + part, end, parts):
            if not active[row]:
                continue
            count = 0
            for p in range(indptr[row], indptr[row + 1]):
                term = indices[p]
                weight = data[p]
                low, high = t_indptr[term], t_indptr[term + 1]
                # Posting lists are sorted: skip to the rows after this one.
                q = low + np.searchsorted(t_indices[low:high], row, side="right")
                while q < high:
                    other = t_indices[q]
                    product = weight * t_data[q]
                    if product > 0.0:  # weights are positive: a zero accumulator is untouched
                        if accumulator[other] == 0.0:
                            touched[count] = other
                            count += 1
                        accumulator[other] += product
                    q += 1
            group = groups[row]
            for c in range(count):
                other = touched[c]
                value = accumulator[other]
                accumulator[other] = 0.0
                if not active[other]:
                    continue
                if skip_groups and group >= 0 and groups[other] == group:
                    continue
                if value > floor[row]:
                    _offer(part_scores, part_columns, part_sizes, row, value, other)
                    if part_sizes[row] == capacity:
                        floor[row] = part_scores[row, 0]
                if value > floor[other]:
                    _offer(part_scores, part_columns, part_sizes, other, value, row)
                    if part_sizes[other] == capacity:
                        floor[other] = part_scores[other, 0]


def best_partners(
    matrix,
    active: np.ndarray,
    groups: np.ndarray,
    per_row: int,
    skip_groups: bool,
    batch_size: int,
    progress=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (i < j) where j is among i's ``per_row`` best partners, or i among j's.

    ``matrix`` is the CSR retrieval matrix; a partner must be active, another row, have a
    positive product and (with ``skip_groups``) not share the row's product group.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sum_duplicates()
    size = matrix.shape[0]
    if size < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    per_row = max(1, min(per_row, size - 1))
    transposed = matrix.T.tocsr()
    transposed.sort_indices()
    parts = max(1, min(numba.get_num_threads(), 8))
    scores = np.zeros((parts, size, per_row), dtype=np.float32)
    columns = np.zeros((parts, size, per_row), dtype=np.int32)
    sizes = np.zeros((parts, size), dtype=np.int64)
    floors = np.zeros((parts, size), dtype=np.float32)
    arguments = (
        matrix.indptr.astype(np.int64),
        matrix.indices.astype(np.int32),
        matrix.data,
        transposed.indptr.astype(np.int64),
        transposed.indices.astype(np.int32),
        transposed.data,
        np.ascontiguousarray(active, dtype=np.bool_),
        np.ascontiguousarray(groups, dtype=np.int64),
        bool(skip_groups),
    )
    for start in range(0, size, batch_size):
        end = min(start + batch_size, size)
        with _PARALLEL:
            _scan_rows(start, end, *arguments, scores, columns, sizes, floors)
        if progress is not None:
            progress(end, size)
    # Each row's heaps from every part: keep its per_row best overall.
    filled = np.arange(per_row)[np.newaxis, np.newaxis, :] < sizes[:, :, np.newaxis]
    best_scores = np.where(filled, scores, -1.0).transpose(1, 0, 2).reshape(size, parts * per_row)
    best_columns = columns.transpose(1, 0, 2).reshape(size, parts * per_row)
    del scores, columns, filled, floors
    if parts > 1:
        best = np.argpartition(-best_scores, per_row - 1, axis=1)[:, :per_row]
        best_scores = np.take_along_axis(best_scores, best, axis=1)
        best_columns = np.take_along_axis(best_columns, best, axis=1)
    keep = best_scores > 0
    left = np.broadcast_to(np.arange(size, dtype=np.int64)[:, np.newaxis], keep.shape)[keep]
    right = best_columns[keep].astype(np.int64)
    if left.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    low, high = np.minimum(left, right), np.maximum(left, right)
    codes = np.unique(low * size + high)
    return codes // size, codes % size


@numba.njit(cache=True, nogil=True, parallel=True)
def _rowdot_parallel(l_indptr, l_indices, l_data, r_indptr, r_indices, r_data, rows_left, rows_right, out):
    for pair in numba.prange(rows_left.size):
        out[pair] = _dot(
            l_indptr, l_indices, l_data, r_indptr, r_indices, r_data, rows_left[pair], rows_right[pair]
        )


@numba.njit(cache=True, nogil=True)
def _rowdot_serial(l_indptr, l_indices, l_data, r_indptr, r_indices, r_data, rows_left, rows_right, out):
    for pair in range(rows_left.size):
        out[pair] = _dot(
            l_indptr, l_indices, l_data, r_indptr, r_indices, r_data, rows_left[pair], rows_right[pair]
        )


PARALLEL_FROM = 20_000
"""Pairs below which threads cost more than they save (a query scores a few dozen)."""


def rowdot(left, right, rows_left: np.ndarray, rows_right: np.ndarray) -> np.ndarray:
    """``left[rows_left[i]] · right[rows_right[i]]`` for every i: a merge of two sorted rows
    per pair, without building the two row-selected matrices."""
    out = np.zeros(rows_left.size, dtype=np.float64)
    if rows_left.size == 0:
        return out
    for matrix in (left, right):
        if not matrix.has_sorted_indices:
            matrix.sort_indices()
    arguments = (
        left.indptr,
        left.indices,
        left.data,
        right.indptr,
        right.indices,
        right.data,
        np.ascontiguousarray(rows_left, dtype=np.int64),
        np.ascontiguousarray(rows_right, dtype=np.int64),
        out,
    )
    if rows_left.size < PARALLEL_FROM:
        _rowdot_serial(*arguments)
    else:
        with _PARALLEL:
            _rowdot_parallel(*arguments)
    return out


@numba.njit(cache=True, nogil=True, parallel=True)
def _dense_rowdot(matrix, rows_left, rows_right, out):
    width = matrix.shape[1]
    for pair in numba.prange(rows_left.size):
        a, b = rows_left[pair], rows_right[pair]
        total = 0.0
        for column in range(width):
            total += matrix[a, column] * matrix[b, column]
        out[pair] = total


def dense_rowdot(matrix: np.ndarray, rows_left: np.ndarray, rows_right: np.ndarray) -> np.ndarray:
    """``matrix[rows_left[i]] · matrix[rows_right[i]]`` for every i, reading the two rows in
    place: selecting them first would copy 3 KB per pair (gigabytes for a scan)."""
    out = np.zeros(rows_left.size, dtype=np.float64)
    if rows_left.size:
        with _PARALLEL:
            _dense_rowdot(
                np.ascontiguousarray(matrix, dtype=np.float32),
                np.ascontiguousarray(rows_left, dtype=np.int64),
                np.ascontiguousarray(rows_right, dtype=np.int64),
                out,
            )
    return out
