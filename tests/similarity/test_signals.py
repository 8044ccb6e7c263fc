import numpy as np
import pytest

from similarity.graph import (
    complete_linkage,
    dependency_graph,
    duplicate_clusters,
    isolated,
    neighbourhood_similarity,
)
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


def test_clusters_do_not_chain_through_a_path():
    # a~b, b~c, c~d with a and c unrelated: never one cluster, whatever the scores
    clusters = duplicate_clusters([("a", "b", 0.9), ("b", "c", 0.7), ("c", "d", 0.8)])
    assert clusters == [{"a", "b"}, {"c", "d"}]
    assert duplicate_clusters([("a", "b", 0.7), ("b", "c", 0.9), ("c", "d", 0.7)]) == [
        {"b", "c"},
        {"a"},
        {"d"},
    ]


def test_a_clique_stays_one_cluster_and_a_star_does_not():
    clique = [(a, b, 0.8) for a in range(5) for b in range(a + 1, 5)]
    assert duplicate_clusters([*clique, (4, 9, 0.7)]) == [{0, 1, 2, 3, 4}, {9}]
    star = [("hub", leaf, 0.9) for leaf in "abcd"]
    assert max(len(c) for c in duplicate_clusters(star)) == 2


def test_the_strongest_fully_joined_groups_merge_first():
    # {1, 2, 3} is a triangle; 4 is joined to 1 and 2 only, more strongly than 3 is: 4 pairs up,
    # and the triangle that would need 3 does not form
    edges = [(1, 2, 0.95), (1, 3, 0.7), (2, 3, 0.7), (1, 4, 0.9), (2, 4, 0.9)]
    assert duplicate_clusters(edges) == [{1, 2, 4}, {3}]


@pytest.mark.parametrize("seed", range(8))
def test_complete_linkage_gives_fully_joined_groups_that_cannot_merge(seed):
    import random

    import networkx as nx

    rng = random.Random(seed)
    graph = nx.Graph()
    graph.add_nodes_from(range(60))
    for a in range(60):
        for b in range(a + 1, 60):
            if rng.random() < 0.12:
                graph.add_edge(a, b, score=rng.uniform(0.6, 1.0))
    groups = complete_linkage(graph)
    assert sorted(n for g in groups for n in g) == list(range(60))  # a partition
    for group in groups:
        assert all(graph.has_edge(a, b) for a in group for b in group if a < b)
    for i, first in enumerate(groups):
        for second in groups[i + 1 :]:
            assert not all(graph.has_edge(a, b) for a in first for b in second)
    assert groups == complete_linkage(graph.copy())


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
