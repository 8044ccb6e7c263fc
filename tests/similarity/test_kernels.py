"""The compiled scan loops give what the plain sparse-matrix definitions give, and the scan's
lazy pairs read exactly like the dicts they replace."""

import json
import random

import numpy as np
import pytest
import scipy.sparse as sp

from similarity import DuplicateFinder, kernels, scoring
from similarity.finder import Pair
from similarity.reuse import fold_into_platforms


def _random_matrix(rows: int, columns: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    matrix = sp.random(rows, columns, density=0.08, format="csr", random_state=rng, dtype=np.float32)
    matrix.data += np.float32(0.01)  # strictly positive, like TF-IDF weights
    return matrix


def _reference_partners(matrix, active, groups, per_row, skip_groups):
    """The definition: every row's per_row best partners by the full dense product."""
    product = (matrix @ matrix.T).toarray()
    size = matrix.shape[0]
    found = set()
    for row in range(size):
        if not active[row]:
            continue
        allowed = [
            j
            for j in range(size)
            if j != row
            and active[j]
            and product[row, j] > 0
            and not (skip_groups and groups[row] >= 0 and groups[j] == groups[row])
        ]
        best = sorted(allowed, key=lambda j: -product[row, j])[:per_row]
        found |= {(min(row, j), max(row, j)) for j in best}
    return found


@pytest.mark.parametrize("skip_groups", [True, False])
@pytest.mark.parametrize("batch_size", [7, 1024])
def test_best_partners_match_the_dense_definition(skip_groups, batch_size):
    matrix = _random_matrix(120, 40, seed=3)
    rng = np.random.default_rng(5)
    active = rng.random(120) > 0.1
    groups = np.where(rng.random(120) < 0.4, rng.integers(0, 4, 120), -1)
    left, right = kernels.best_partners(matrix, active, groups, 5, skip_groups, batch_size)
    assert np.all(left < right)
    assert set(zip(left.tolist(), right.tolist(), strict=True)) == _reference_partners(
        matrix, active, groups, 5, skip_groups
    )


def test_best_partners_reports_progress_per_batch():
    calls = []
    kernels.best_partners(
        _random_matrix(10, 8, seed=1),
        np.ones(10, dtype=bool),
        np.full(10, -1),
        3,
        True,
        4,
        lambda done, total: calls.append((done, total)),
    )
    assert calls == [(4, 10), (8, 10), (10, 10)]


def test_rowdot_matches_sparse_products():
    left, right = _random_matrix(50, 30, seed=2), _random_matrix(40, 30, seed=4)
    rows_left = np.array([0, 3, 3, 49, 17], dtype=np.int64)
    rows_right = np.array([0, 39, 3, 1, 17], dtype=np.int64)
    expected = np.asarray(left[rows_left].multiply(right[rows_right]).sum(axis=1)).ravel()
    assert kernels.rowdot(left, right, rows_left, rows_right) == pytest.approx(expected, rel=1e-6)


def _portfolio():
    rng = random.Random(11)
    kinds = ["quản lý văn bản", "cổng thông tin", "quản lý đảng viên", "họp không giấy"]
    records = [
        {
            "id": f"platform-{kind}",
            "name": f"Hệ thống {kind} dùng chung",
            "description": f"Nền tảng {kind} cho các cơ quan",
            "is_shared_platform": True,
            "level": "central",
            "capabilities": [kind],
        }
        for kind in kinds
    ]
    for i in range(80):
        kind = rng.choice(kinds)
        deployed = rng.random() < 0.4
        records.append(
            {
                "id": i,
                "name": f"Phần mềm {kind} {rng.choice(['tỉnh', 'xã'])} số {i % 7}",
                "description": f"Ứng dụng {kind} phục vụ cán bộ, {rng.choice(kinds)}",
                "instance_of": f"platform-{kind}" if deployed else None,
                "level": rng.choice(["province", "commune"]),
                "capabilities": [kind] if rng.random() < 0.5 else None,
            }
        )
    return records


def _eager_pairs(finder, min_score, k, include_reuse):
    """The scan's result built the former way: every pair described, then folded as dicts."""
    per_row = finder.candidates if k is None else min(finder.candidates, 2 * k)
    left, right = finder._candidate_pairs(per_row, skip_groups=not include_reuse)
    values = scoring.scan_features(finder, left, right)
    from similarity.retrieval import within_best

    scores = finder._scores(values)
    keep = scores >= min_score
    if not include_reuse:
        keep &= ~((finder.groups_[left] >= 0) & (finder.groups_[left] == finder.groups_[right]))
    if k is not None:
        keep &= within_best(left, right, np.where(keep, scores, -1.0), k)
    chosen = np.flatnonzero(keep)
    described = scoring.describe(
        finder,
        finder.records_,
        finder.functions_.named,
        finder.text_.blocks_,
        finder.text_.texts_,
        left[chosen],
        right[chosen],
        {name: array[chosen] for name, array in values.items()},
        scores[chosen],
    )
    results = [
        {"a": finder.records_[i].id, "b": finder.records_[j].id, **match}
        for i, j, match in zip(left[chosen].tolist(), right[chosen].tolist(), described, strict=True)
    ]
    results.sort(key=lambda p: (-p["score"], str(p["a"]), str(p["b"])))
    return fold_into_platforms(finder.records_, finder.index_, results, ("a", "b"))


@pytest.mark.parametrize(("k", "include_reuse"), [(None, False), (3, False), (None, True)])
def test_lazy_pairs_equal_the_eagerly_built_dicts(k, include_reuse):
    finder = DuplicateFinder().fit(_portfolio())
    lazy = finder.pairs(min_score=0.2, k=k, include_reuse=include_reuse)
    eager = _eager_pairs(finder, 0.2, k, include_reuse)
    assert any("via_deployments" in p for p in eager)  # the folding is exercised
    assert [dict(p) for p in lazy] == eager


def test_pairs_build_reasons_only_when_read():
    finder = DuplicateFinder().fit(_portfolio())
    found = finder.pairs(min_score=0.2)
    assert found and all(isinstance(p, Pair) for p in found)
    table = found[0]._table
    assert table._reasons == {}
    assert [p["a"] for p in found[:3]] and table._reasons == {}  # ids and scores are free
    assert isinstance(found[0]["reasons"], list) and len(table._reasons) == 1
    assert found[0]["reasons"] is found[0]["reasons"]  # built once


def test_a_pair_reads_like_a_dict():
    finder = DuplicateFinder().fit(_portfolio())
    pair = finder.pairs(min_score=0.2)[0]
    plain = dict(pair)
    assert list(plain)[:6] == ["a", "b", "score", "relation", "reasons", "components"]
    assert {**pair} == plain == pair and len(pair) == len(plain)
    assert pair.get("missing") is None and "reasons" in pair
    json.dumps(plain, ensure_ascii=False)  # the command line and the warnings store it as JSON
    with pytest.raises(KeyError):
        pair["missing"]
