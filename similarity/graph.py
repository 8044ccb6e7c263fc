"""Graph signals over the dependency graph and the overlap graph (networkx).

Plain functions that take the graph first, in the manner of networkx itself.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import networkx as nx

__all__ = ["dependency_graph", "duplicate_clusters", "isolated", "neighbourhood_similarity", "neighbours"]


def dependency_graph(edges: Iterable[tuple[Hashable, Iterable[Hashable]]]) -> nx.DiGraph:
    """A directed graph with an edge ``a → b`` for each "a depends on b".

    >>> G = dependency_graph([("app", ["vneid"]), ("vneid", [])])
    >>> sorted(G.successors("app"))
    ['vneid']
    """
    graph = nx.DiGraph()
    for node, targets in edges:
        graph.add_node(node)
        graph.add_edges_from((node, target) for target in targets if target != node)
    return graph


def neighbourhood_similarity(graph: nx.DiGraph, a: Hashable, b: Hashable) -> float | None:
    """Jaccard similarity of the systems each one is connected to (either direction).

    Two provincial apps that both depend on VNeID and the provincial data platform look alike;
    the pair's own edge is ignored. ``None`` when either system has no connection at all, since
    an unconnected system is unknown, not different. O(deg(a) + deg(b)).
    """
    if a not in graph or b not in graph:
        return None
    around_a = neighbours(graph, a) - {b}
    around_b = neighbours(graph, b) - {a}
    if not around_a or not around_b:
        return None
    return len(around_a & around_b) / len(around_a | around_b)


def neighbours(graph: nx.DiGraph, node: Hashable) -> set[Hashable]:
    """What ``node`` depends on and what depends on it."""
    return set(graph.successors(node)) | set(graph.predecessors(node))


def isolated(graph: nx.DiGraph) -> set[Hashable]:
    """Systems connected to nothing: no shared platform, no national database, no exchange."""
    return {node for node, degree in graph.degree() if degree == 0}


def duplicate_clusters(pairs: Iterable[tuple[Hashable, Hashable]]) -> list[set[Hashable]]:
    """Connected components of the overlap graph, largest first: "14 provinces built this".

    >>> [sorted(c) for c in duplicate_clusters([("a", "b"), ("b", "c"), ("x", "y")])]
    [['a', 'b', 'c'], ['x', 'y']]
    """
    graph = nx.Graph()
    graph.add_edges_from(pairs)
    components = [set(c) for c in nx.connected_components(graph)]
    return sorted(components, key=lambda c: (-len(c), sorted(map(str, c))))
