"""Duplicate clusters: groups of systems linked by overlap warnings ("14 provinces built this").

A cluster is a connected component of the graph whose edges are the warnings still standing
(open, or confirmed by the standing office); dismissed and justified pairs are not edges, and
sanctioned reuse never is.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from sqlalchemy import select
from sqlmodel import Session, col

from registry.choices import Disposition
from registry.models import Agency, DuplicateWarning, InformationSystem

EDGE_DISPOSITIONS = (Disposition.OPEN, Disposition.CONFIRMED)


@dataclass
class Cluster:
    systems: list[InformationSystem]
    agencies: int
    provinces: int
    confirmed: int
    best_score: float

    @property
    def size(self) -> int:
        return len(self.systems)


def duplicate_clusters(session: Session, *, min_size: int = 3, limit: int = 50) -> tuple[list[Cluster], int]:
    """The largest clusters first (at most ``limit``), and how many clusters there are in all."""
    graph = nx.Graph()
    for a, b, score, disposition in session.execute(
        select(
            col(DuplicateWarning.system_a_id),
            col(DuplicateWarning.system_b_id),
            col(DuplicateWarning.score),
            col(DuplicateWarning.disposition),
        ).where(
            col(DuplicateWarning.relation) == "overlap",
            col(DuplicateWarning.disposition).in_(EDGE_DISPOSITIONS),
        )
    ):
        graph.add_edge(a, b, score=score, confirmed=disposition == Disposition.CONFIRMED)
    components = sorted(
        (c for c in nx.connected_components(graph) if len(c) >= min_size), key=len, reverse=True
    )
    chosen = components[:limit]
    ids = {system_id for component in chosen for system_id in component}
    systems = {
        s.id: s
        for s in session.scalars(select(InformationSystem).where(col(InformationSystem.id).in_(ids))).unique()
    }
    parents = (
        {row.id: row.parent_id for row in session.execute(select(col(Agency.id), col(Agency.parent_id)))}
        if ids
        else {}
    )
    levels = (
        {row.id: row.level for row in session.execute(select(col(Agency.id), col(Agency.level)))}
        if ids
        else {}
    )
    clusters = []
    for component in chosen:
        members = sorted((systems[i] for i in component if i in systems), key=lambda s: s.name)
        edges = graph.subgraph(component).edges(data=True)
        owners = {s.owner_agency_id for s in members}
        clusters.append(
            Cluster(
                systems=members,
                agencies=len(owners),
                provinces=len({_province(o, parents, levels) for o in owners} - {None}),
                confirmed=sum(1 for _a, _b, data in edges if data["confirmed"]),
                best_score=max((data["score"] for _a, _b, data in edges), default=0.0),
            )
        )
    return clusters, len(components)


def _province(agency_id: int, parents: dict[int, int | None], levels: dict[int, str]) -> int | None:
    """The province an agency belongs to (itself, or its nearest province ancestor)."""
    seen = 0
    current: int | None = agency_id
    while current is not None and seen < 10:
        if levels.get(current) == "province":
            return current
        current = parents.get(current)
        seen += 1
    return None
