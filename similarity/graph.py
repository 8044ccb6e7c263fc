"""Graph signals over the dependency graph and the overlap graph (networkx).

Plain functions that take the graph first, in the manner of networkx itself.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable

import networkx as nx

__all__ = [
    "complete_linkage",
    "dependency_graph",
    "duplicate_clusters",
    "isolated",
    "neighbourhood_similarity",
    "neighbours",
]


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


def duplicate_clusters(
    pairs: Iterable[tuple[Hashable, Hashable] | tuple[Hashable, Hashable, float]],
) -> list[set[Hashable]]:
    """Groups of systems that all overlap one another, largest first: "14 provinces built this".

    ``pairs`` are ``(a, b)`` or ``(a, b, score)``; the groups are :func:`complete_linkage` of
    the overlap graph, so a chain a~b~c whose ends are unrelated is never one group.

    >>> [sorted(c) for c in duplicate_clusters([("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")])]
    [['a', 'b', 'c'], ['d']]
    """
    graph = nx.Graph()
    for pair in pairs:
        a, b = pair[0], pair[1]
        score = float(pair[2]) if len(pair) > 2 else 1.0
        graph.add_edge(a, b, score=score)
    return complete_linkage(graph)


def complete_linkage(graph: nx.Graph, weight: str = "score") -> list[set[Hashable]]:
    """Partition ``graph`` into groups in which **every** pair of nodes is joined by an edge.

    Agglomerative complete linkage where an absent edge means "not similar": the two groups
    whose weakest cross edge is the strongest merge first, and two groups merge only if every
    node of one has an edge to every node of the other. A path a-b-c-d therefore gives
    ``{a, b}`` and ``{c, d}`` (or ``{b, c}`` and two singletons, whichever edges are stronger),
    never one group; a clique stays one group. Nodes without edges are singletons.

    Each connected component is clustered on its own. Only pairs of groups that are still
    fully joined are tracked (a missing pair never reappears as groups grow), so a merge costs
    the smaller of the two groups' lists of fully-joined neighbours: about O(m log m) for m
    edges, with no n × n matrix. Ties break on the nodes' order, so the result is
    deterministic. Groups come largest first.

    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([(1, 2, 0.9), (2, 3, 0.8), (3, 4, 0.7)], weight="score")
    >>> sorted(sorted(c) for c in complete_linkage(G))
    [[1, 2], [3, 4]]
    >>> G.add_weighted_edges_from([(1, 3, 0.85)], weight="score")
    >>> sorted(sorted(c) for c in complete_linkage(G))
    [[1, 2, 3], [4]]
    """
    groups: list[set[Hashable]] = []
    for component in nx.connected_components(graph):
        if len(component) == 1:
            groups.append(set(component))
        else:
            groups.extend(_complete_linkage_component(graph, component, weight))
    return sorted(groups, key=lambda c: (-len(c), sorted(map(str, c))))


def _complete_linkage_component(
    graph: nx.Graph, component: set[Hashable], weight: str
) -> list[set[Hashable]]:
    rank = {node: position for position, node in enumerate(sorted(component, key=str))}
    members: dict[Hashable, list[Hashable]] = {node: [node] for node in component}
    # joined[x][y]: the weakest edge between groups x and y, kept only while they are fully joined
    joined: dict[Hashable, dict[Hashable, float]] = {node: {} for node in component}
    heap: list[tuple[float, int, int, Hashable, Hashable]] = []
    for a, b, data in graph.edges(component, data=True):
        if a == b:
            continue
        value = float(data.get(weight, 1.0))
        joined[a][b] = joined[b][a] = value
        first, second = (a, b) if rank[a] < rank[b] else (b, a)
        heap.append((-value, rank[first], rank[second], first, second))
    heapq.heapify(heap)
    while heap:
        negative, _, _, a, b = heapq.heappop(heap)
        if a not in members or b not in members or joined[a].get(b) != -negative:
            continue  # one side was merged away, or this pair's linkage changed since it was queued
        if len(members[a]) < len(members[b]) or (len(members[a]) == len(members[b]) and rank[b] < rank[a]):
            a, b = b, a
        members[a].extend(members.pop(b))
        around_a, around_b = joined[a], joined.pop(b)
        del around_a[b], around_b[a]
        for other in around_b:
            del joined[other][b]
        kept: dict[Hashable, float] = {}
        for other, value in around_a.items():
            if other in around_b:
                kept[other] = min(value, around_b[other])
            else:
                del joined[other][a]  # b had no edge to some member of ``other``: never again
        joined[a] = kept
        for other, value in kept.items():
            joined[other][a] = value
            first, second = (a, other) if rank[a] < rank[other] else (other, a)
            heapq.heappush(heap, (-value, rank[first], rank[second], first, second))
    return [set(group) for group in members.values()]
