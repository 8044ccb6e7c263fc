"""The vectorised signals give exactly what the readable reference definitions give."""

import random

import numpy as np
import pytest

from similarity import DuplicateFinder, scoring, structure
from similarity.graph import neighbourhood_similarity


@pytest.fixture(scope="module")
def finder():
    rng = random.Random(7)
    codes = [f"c{i}" for i in range(8)]
    records = []
    for i in range(60):
        records.append(
            {
                "id": i,
                "name": f"Hệ thống {rng.choice(['văn bản', 'cổng', 'họp', 'đảng viên'])} {i}",
                "capabilities": rng.sample(codes, rng.randint(0, 3)) or None,
                "data_domains": rng.sample(codes, rng.randint(0, 2)) or None,
                "user_agencies": rng.sample(range(5), rng.randint(0, 2)) or None,
                "depends_on": rng.sample(range(60), rng.randint(0, 3)),
                "level": rng.choice(["central", "province", "commune", None]),
            }
        )
    return DuplicateFinder().fit(records)


def _same(vector_value, reference_value):
    if reference_value is None:
        return np.isnan(vector_value)
    return vector_value == pytest.approx(reference_value)


def test_vectorised_signals_match_the_reference(finder):
    left, right = np.triu_indices(len(finder.records_), k=1)
    values = scoring.scan_features(finder, left, right)
    for index, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        a, b = finder.records_[i], finder.records_[j]
        expected = {
            "capabilities": structure.weighted_jaccard(
                a.capabilities, b.capabilities, finder.capability_weights_
            ),
            "data_domains": structure.weighted_jaccard(
                a.data_domains, b.data_domains, finder.domain_weights_
            ),
            "users": structure.jaccard(a.user_agencies, b.user_agencies),
            "level": structure.same_level(a.level, b.level),
            "neighbourhood": neighbourhood_similarity(finder.graph_, a.id, b.id),
        }
        for name, reference in expected.items():
            assert _same(values[name][index], reference), (name, a.id, b.id)


def test_query_and_scan_agree_on_a_fitted_pair(finder):
    record = finder.records_[3]
    as_query = {
        m["id"]: m["score"]
        for m in finder.query(
            {
                "id": record.id,
                "name": record.name,
                "capabilities": list(record.capabilities or []),
                "data_domains": list(record.data_domains or []),
                "user_agencies": list(record.user_agencies or []),
                "depends_on": list(record.depends_on or []),
                "level": record.level,
            },
            k=59,
        )
    }
    scanned = {
        (p["b"] if p["a"] == record.id else p["a"]): p["score"]
        for p in finder.pairs(min_score=0.0, include_reuse=True)
        if record.id in (p["a"], p["b"])
    }
    for other, score in scanned.items():
        if other in as_query:
            assert as_query[other] == pytest.approx(score, abs=1e-3)
