import numpy as np
import pytest

from similarity.graph import dependency_graph, duplicate_clusters, isolated, neighbourhood_similarity
from similarity.structure import jaccard, rarity_weights, same_level, weighted_jaccard
from similarity.text import TextSignal


def test_rare_capabilities_weigh_more():
    weights = rarity_weights([frozenset({"email", "gis"}), frozenset({"email"}), frozenset({"email"})])
    assert weights["gis"] > weights["email"]
    shared_rare = weighted_jaccard(frozenset({"email", "gis"}), frozenset({"gis", "x"}), weights)
    shared_common = weighted_jaccard(frozenset({"email", "gis"}), frozenset({"email", "x"}), weights)
    assert shared_rare > shared_common


@pytest.mark.parametrize("function", [jaccard, lambda a, b: weighted_jaccard(a, b, {})])
def test_unknown_is_not_different(function):
    assert function(None, frozenset({"a"})) is None
    assert function(frozenset(), frozenset({"a"})) is None
    assert function(frozenset({"a"}), frozenset({"a"})) == 1.0


def test_same_level():
    assert same_level("province", "province") == 1.0
    assert same_level("province", "commune") == 0.0
    assert same_level(None, "commune") is None


def test_neighbourhoods():
    graph = dependency_graph(
        [("a", ["vneid", "lgsp"]), ("b", ["vneid", "lgsp", "a"]), ("c", ["mail"]), ("lonely", [])]
    )
    assert neighbourhood_similarity(graph, "a", "b") == 1.0  # their own edge is ignored
    assert neighbourhood_similarity(graph, "a", "c") == 0.0
    assert neighbourhood_similarity(graph, "a", "lonely") is None
    assert neighbourhood_similarity(graph, "a", "unknown") is None
    assert isolated(graph) == {"lonely"}


def test_clusters_are_connected_components_largest_first():
    clusters = duplicate_clusters([(1, 2), (3, 4), (2, 5), (6, 7), (4, 8), (8, 9)])
    assert clusters == [{3, 4, 8, 9}, {1, 2, 5}, {6, 7}]


def test_text_channels_survive_missing_tone_marks_and_abbreviations():
    names = ["Hệ thống quản lý văn bản Nghệ An", "Cổng thông tin điện tử Huế", "Hội nghị truyền hình"]
    signal = TextSignal().fit(names, names)
    probe = signal.transform(["He thong QLVB tinh Gia Lai"], ["He thong QLVB tinh Gia Lai"])
    scores = (signal.stack(probe) @ signal.matrix_.T).toarray().ravel()
    assert scores.argmax() == 0
    assert scores[0] > 0.5 > max(scores[1:])


def test_shared_terms_explain_the_match():
    texts = ["quản lý văn bản đến và văn bản đi", "quản lý văn bản đi, hồ sơ công việc", "tin tức"]
    signal = TextSignal().fit(texts, texts)
    terms, nothing = signal.shared_terms(signal.blocks_, signal.texts_, np.array([0, 0]), np.array([1, 2]))
    assert "quản lý văn bản" in terms  # the shared phrase, not its syllable pairs
    assert "văn bản đi" in terms or "đi" in terms
    assert not any(term in ("lý văn", "bản đến") for term in terms)
    assert nothing == []
