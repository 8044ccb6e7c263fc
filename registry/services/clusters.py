"""Duplicate clusters: groups of systems that all do the same job ("14 provinces built this").

**What links two systems.** A stored warning links its pair when it is an *overlap* (not
reuse) and either the standing office *confirmed* it (whatever its score) or it is still
*open* with a score at or above the warning threshold. A pair stored below the threshold (by
an older scan, or a scan run with a lower ``--min-score``), or decided as *justified* or
*dismissed*, does not link.

**Who can be a member.** Live systems (not retired, not rejected) that are neither a shared
platform nor a sanctioned deployment of one (``instance_of``): a platform and its deployments
are reuse, the remedy rather than the problem. A warning from a member to a platform, or to a
deployment of one, names the platform that could replace the cluster.

**What a cluster is.** Every pair of members is linked: complete linkage
(:func:`similarity.graph.complete_linkage`) per connected component, so a chain a~b~c~d whose
ends are unrelated never becomes one cluster, and a pair dismissed as a false positive can
never sit in one cluster, since it is not linked. Each cluster is named by the capability most
of its members declare, else by the function their names tell (``similarity/data``), else by
the words their warnings share.

**Cost.** The whole portfolio is clustered at once (about O(m log m) for m warnings) and kept
per process, keyed by a watermark that every write moves: the warnings' count, highest id and
latest update, the systems' count and latest update, and the audit chain's head. Several web
workers each compute once per change, and none serves a stale result.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import networkx as nx
from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from registry.choices import Disposition
from registry.models import (
    Agency,
    AuditHead,
    Capability,
    DuplicateWarning,
    InformationSystem,
    SystemCapabilityLink,
)
from registry.services.overlaps import EXCLUDED_STATUSES, WARNING_THRESHOLD
from registry.services.review import shared_terms
from registry.text import fold
from similarity.graph import complete_linkage
from similarity.knowledge import default_knowledge

CACHE_KEY = "registry.clusters"
CHUNK = 5_000
"""Ids per ``IN (…)`` list: below SQLite's limit on bound parameters, cheap for PostgreSQL."""
LABEL_LENGTH = 22

T = TypeVar("T")


@dataclass(frozen=True)
class Place:
    """An agency, a province or a platform, as a cluster names it: a code and a name."""

    code: str
    name: str


@dataclass(frozen=True)
class Member:
    id: int
    code: str
    name: str
    label: str
    """A short name for the drawing: the owner agency without its kind ("Bắc Ninh")."""
    status: str
    agency: Place
    province: Place | None
    cost_vnd: int | None


@dataclass(frozen=True)
class Pair:
    """A warning that links two members (codes), with its score and whether it was confirmed."""

    warning_id: int
    a: str
    b: str
    score: float
    confirmed: bool


@dataclass(frozen=True)
class Naming:
    """Where a cluster's name comes from: a ``capability`` code, a ``function`` code of the
    engine's knowledge, shared ``terms``, or ``none``."""

    kind: str
    value: str = ""
    shared_by: int = 0


@dataclass(frozen=True)
class Cluster:
    key: str
    """Stable identifier: a digest of the members' codes, the same for the same members."""
    naming: Naming
    members: tuple[Member, ...]
    pairs: tuple[Pair, ...]
    agencies: tuple[Place, ...]
    provinces: tuple[Place, ...]
    total_cost_vnd: int
    cost_unknown: int
    """Members whose estimated cost is not recorded (left out of the total)."""
    platform: Place | None
    platform_basis: str | None
    """``warning`` when warnings already point at the platform, ``capability`` when it only
    provides the cluster's capability."""

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def best_score(self) -> float:
        return max(p.score for p in self.pairs)

    @property
    def min_score(self) -> float:
        return min(p.score for p in self.pairs)

    @property
    def confirmed(self) -> int:
        return sum(1 for p in self.pairs if p.confirmed)

    @property
    def capability(self) -> str | None:
        return self.naming.value if self.naming.kind == "capability" else None


@dataclass(frozen=True)
class ClusterSet:
    """Every cluster of two systems or more, largest first, with what the filters offer."""

    clusters: tuple[Cluster, ...]
    capability_names: dict[str, tuple[str, str]]
    """Capability code → (Vietnamese name, English name)."""
    watermark: tuple[Any, ...]
    seconds: float
    provinces: tuple[Place, ...] = field(default=())

    def name_of(self, cluster: Cluster, locale: str) -> str:
        naming = cluster.naming
        english = locale.startswith("en")
        if naming.kind == "capability" and naming.value in self.capability_names:
            vi, en = self.capability_names[naming.value]
            return en if english and en else vi
        if naming.kind == "function":
            return default_knowledge().label(naming.value, "en" if english else "vi")
        if naming.kind == "terms":
            return naming.value
        return gettext("Systems doing the same job")

    def capability_name(self, code: str, locale: str) -> str:
        vi, en = self.capability_names.get(code, (code, code))
        return en if locale.startswith("en") and en else vi


@dataclass
class ClusterPage:
    items: list[Cluster]
    total: int
    clusters: ClusterSet


# --- reading -----------------------------------------------------------------------------------


def find_clusters(
    session: Session,
    *,
    capability: str = "",
    province: str = "",
    min_size: int = 3,
    page: int = 1,
    per_page: int = 25,
) -> ClusterPage:
    """One page of clusters of at least ``min_size`` members, largest first.

    ``capability`` keeps the clusters named by that capability code; ``province`` (a province
    agency's code) those with a member in that province. A page past the last one is empty.
    """
    every = portfolio_clusters(session)
    chosen = [
        c
        for c in every.clusters
        if c.size >= min_size
        and (not capability or c.capability == capability)
        and (not province or any(p.code == province for p in c.provinces))
    ]
    start = (max(page, 1) - 1) * per_page
    return ClusterPage(items=chosen[start : start + per_page], total=len(chosen), clusters=every)


def portfolio_clusters(session: Session) -> ClusterSet:
    """All clusters, from this process's cache when no write happened since it was computed."""
    mark = watermark(session)
    if not has_app_context():
        return compute_clusters(session, mark)
    holder = current_app.extensions.setdefault(CACHE_KEY, {"lock": threading.Lock(), "value": None})
    cached: ClusterSet | None = holder["value"]
    if cached is not None and cached.watermark == mark:
        return cached
    with holder["lock"]:
        cached = holder["value"]
        if cached is not None and cached.watermark == mark:
            return cached
        result = compute_clusters(session, mark)
        holder["value"] = result
        return result


def watermark(session: Session) -> tuple[Any, ...]:
    """What any write that could change the clusters moves: three small aggregate queries."""
    warnings = session.execute(
        select(func.count(), func.max(DuplicateWarning.id), func.max(DuplicateWarning.updated_at))
    ).one()
    systems = session.execute(select(func.count(), func.max(InformationSystem.updated_at))).one()
    head = session.scalar(select(col(AuditHead.seq)))
    return (*(str(v) for v in warnings), *(str(v) for v in systems), head)


def compute_clusters(session: Session, mark: tuple[Any, ...] = ()) -> ClusterSet:
    """Cluster the whole portfolio now (no cache)."""
    started = time.perf_counter()
    graph = nx.Graph()
    for warning_id, a, b, score, disposition in session.execute(_linking_warnings()):
        graph.add_edge(
            a, b, score=float(score), confirmed=disposition == Disposition.CONFIRMED, id=warning_id
        )
    groups: list[set[int]] = [g for g in complete_linkage(graph) if len(g) >= 2]  # type: ignore[misc]
    member_ids = [i for g in groups for i in g]

    systems = {
        row.id: row
        for chunk in _chunks(member_ids)
        for row in session.execute(
            select(
                col(InformationSystem.id),
                col(InformationSystem.code),
                col(InformationSystem.name),
                col(InformationSystem.status),
                col(InformationSystem.owner_agency_id),
                col(InformationSystem.estimated_cost_vnd),
            ).where(col(InformationSystem.id).in_(chunk))
        )
    }
    capabilities: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(member_ids):
        for system_id, code in session.execute(
            select(col(SystemCapabilityLink.system_id), col(Capability.code))
            .join(Capability, col(Capability.id) == col(SystemCapabilityLink.capability_id))
            .where(col(SystemCapabilityLink.system_id).in_(chunk))
        ):
            capabilities[system_id].add(code)
    agencies = {
        row.id: row
        for row in session.execute(
            select(
                col(Agency.id), col(Agency.code), col(Agency.name), col(Agency.level), col(Agency.parent_id)
            )
        )
    }
    capability_names = {
        row.code: (row.name, row.name_en)
        for row in session.execute(
            select(col(Capability.code), col(Capability.name), col(Capability.name_en))
        )
    }
    cluster_of = {i: n for n, g in enumerate(groups) for i in g}
    votes = _platform_votes(session, cluster_of)
    platforms = _shared_platforms(session)
    frequency = dict(
        session.execute(
            select(col(Capability.code), func.count())
            .join(SystemCapabilityLink, col(SystemCapabilityLink.capability_id) == col(Capability.id))
            .group_by(col(Capability.code))
        ).all()
    )
    knowledge = default_knowledge()

    unnamed: list[int] = []
    built: list[dict[str, Any]] = []
    for n, group in enumerate(groups):
        ids = sorted(group, key=lambda i: systems[i].name)
        codes = {i: systems[i].code for i in ids}
        pairs = tuple(
            sorted(
                (
                    Pair(data["id"], codes[a], codes[b], data["score"], data["confirmed"])
                    for a, b, data in graph.subgraph(group).edges(data=True)
                ),
                key=lambda p: (-p.score, p.a, p.b),
            )
        )
        naming = _naming(
            [capabilities.get(i, set()) for i in ids],
            [set(knowledge.find(systems[i].name)) for i in ids],
            frequency,
        )
        if naming.kind == "none":
            unnamed.append(n)
        members = tuple(
            Member(
                id=i,
                code=systems[i].code,
                name=systems[i].name,
                label=short_agency(agencies[systems[i].owner_agency_id].name),
                status=systems[i].status,
                agency=Place(
                    agencies[systems[i].owner_agency_id].code, agencies[systems[i].owner_agency_id].name
                ),
                province=_province(systems[i].owner_agency_id, agencies),
                cost_vnd=systems[i].estimated_cost_vnd,
            )
            for i in ids
        )
        capability = naming.value if naming.kind == "capability" else None
        platform, basis = _replacement(len(ids), capability, votes.get(n, {}), platforms)
        built.append(
            {"naming": naming, "members": members, "pairs": pairs, "platform": platform, "basis": basis}
        )

    if unnamed:
        terms = _terms_of(session, {n: [p.warning_id for p in built[n]["pairs"]] for n in unnamed})
        for n, term in terms.items():
            built[n]["naming"] = Naming("terms", term, built[n]["naming"].shared_by)

    clusters = [_cluster(**values) for values in built]
    clusters.sort(key=lambda c: (-c.size, -len(c.agencies), -c.total_cost_vnd, c.key))
    provinces = sorted({p for c in clusters for p in c.provinces}, key=lambda p: fold(p.name))
    return ClusterSet(
        clusters=tuple(clusters),
        capability_names=capability_names,
        watermark=mark,
        seconds=time.perf_counter() - started,
        provinces=tuple(provinces),
    )


def _linking_warnings() -> Any:
    """Warnings that link two systems that can be members (see the module's docstring)."""
    a, b = aliased(InformationSystem), aliased(InformationSystem)
    w = DuplicateWarning

    def member(s: Any) -> Any:
        return and_(
            col(s.is_shared_platform).is_(False),
            col(s.instance_of_id).is_(None),
            col(s.status).not_in(EXCLUDED_STATUSES),
        )

    return (
        select(col(w.id), col(w.system_a_id), col(w.system_b_id), col(w.score), col(w.disposition))
        .join(a, col(a.id) == col(w.system_a_id))
        .join(b, col(b.id) == col(w.system_b_id))
        .where(
            col(w.relation) == "overlap",
            or_(
                col(w.disposition) == Disposition.CONFIRMED.value,
                and_(col(w.disposition) == Disposition.OPEN.value, col(w.score) >= WARNING_THRESHOLD),
            ),
            member(a),
            member(b),
        )
    )


@dataclass(frozen=True)
class _Platform:
    place: Place
    capabilities: frozenset[str]
    named: frozenset[str]
    """Functions its name tells (``similarity/data``): a handbook app is named for handbooks."""
    rank: tuple[int, int, str]
    """Most deployed first, then central ones, then by code."""


def _shared_platforms(session: Session) -> dict[int, _Platform]:
    """Live shared platforms with their capabilities and how often they are deployed."""
    knowledge = default_knowledge()
    deployments = dict(
        session.execute(
            select(col(InformationSystem.instance_of_id), func.count())
            .where(col(InformationSystem.instance_of_id).is_not(None))
            .group_by(col(InformationSystem.instance_of_id))
        ).all()
    )
    capabilities: dict[int, set[str]] = defaultdict(set)
    for system_id, code in session.execute(
        select(col(SystemCapabilityLink.system_id), col(Capability.code))
        .join(Capability, col(Capability.id) == col(SystemCapabilityLink.capability_id))
        .join(InformationSystem, col(InformationSystem.id) == col(SystemCapabilityLink.system_id))
        .where(col(InformationSystem.is_shared_platform).is_(True))
    ):
        capabilities[system_id].add(code)
    return {
        row.id: _Platform(
            Place(row.code, row.name),
            frozenset(capabilities.get(row.id, ())),
            frozenset(knowledge.find(row.name)),
            (-deployments.get(row.id, 0), 0 if row.scope_level == "central" else 1, row.code),
        )
        for row in session.execute(
            select(
                col(InformationSystem.id),
                col(InformationSystem.code),
                col(InformationSystem.name),
                col(InformationSystem.scope_level),
            ).where(
                col(InformationSystem.is_shared_platform).is_(True),
                col(InformationSystem.status).not_in(EXCLUDED_STATUSES),
            )
        )
    }


def _platform_votes(
    session: Session, cluster_of: dict[int, int]
) -> dict[int, dict[int, tuple[set[int], float]]]:
    """Per cluster, the platforms that standing warnings from its members point at (directly
    or through one of the platform's deployments): platform id → (members pointing, best score)."""
    votes: dict[int, dict[int, tuple[set[int], float]]] = defaultdict(dict)
    if not cluster_of:
        return votes
    a, b = aliased(InformationSystem), aliased(InformationSystem)
    w = DuplicateWarning

    def reuse_side(s: Any) -> Any:
        return or_(col(s.is_shared_platform).is_(True), col(s.instance_of_id).is_not(None))

    rows = session.execute(
        select(
            col(w.system_a_id),
            col(w.system_b_id),
            col(w.score),
            col(a.is_shared_platform),
            col(a.instance_of_id),
            col(b.is_shared_platform),
            col(b.instance_of_id),
        )
        .join(a, col(a.id) == col(w.system_a_id))
        .join(b, col(b.id) == col(w.system_b_id))
        .where(
            col(w.disposition).in_((Disposition.OPEN.value, Disposition.CONFIRMED.value)),
            or_(reuse_side(a), reuse_side(b)),
        )
    )
    for a_id, b_id, score, a_shared, a_instance, b_shared, b_instance in rows:
        for member, other, shared, instance in (
            (a_id, b_id, b_shared, b_instance),
            (b_id, a_id, a_shared, a_instance),
        ):
            n = cluster_of.get(member)
            if n is None or not (shared or instance is not None):
                continue
            platform = instance if instance is not None else other
            linked, best = votes[n].get(platform, (set(), 0.0))
            linked.add(member)
            votes[n][platform] = (linked, max(best, float(score)))
    return votes


def _replacement(
    size: int,
    capability: str | None,
    votes: dict[int, tuple[set[int], float]],
    platforms: dict[int, _Platform],
) -> tuple[Place | None, str | None]:
    """The platform the warnings point at, if it provides the cluster's capability or half the
    members point at it; else a platform providing the capability, one named for it first, then
    the most deployed."""
    pointed = [
        (len(linked), capability in platforms[p].capabilities, best, -p)
        for p, (linked, best) in votes.items()
        if p in platforms and (capability in platforms[p].capabilities or len(linked) * 2 >= size)
    ]
    if pointed:
        return platforms[-max(pointed)[3]].place, "warning"
    if capability:
        providing = [platform for platform in platforms.values() if capability in platform.capabilities]
        if providing:
            best = min(providing, key=lambda platform: (capability not in platform.named, platform.rank))
            return best.place, "capability"
    return None, None


def _naming(declared: Sequence[set[str]], named: Sequence[set[str]], frequency: dict[str, int]) -> Naming:
    """The capability at least half the members declare (the most shared one; on a tie the one
    their names also tell, then the rarer in the portfolio), else the function at least half
    their names tell, else nothing yet."""
    size = len(declared)
    told = Counter(code for codes in named for code in codes)
    for kind, sets in (("capability", declared), ("function", named)):
        counts = Counter(code for codes in sets for code in codes)
        if counts:
            code, shared = min(
                counts.items(),
                key=lambda item: (-item[1], -told.get(item[0], 0), frequency.get(item[0], 0), item[0]),
            )
            if shared * 2 >= size:
                return Naming(kind, code, shared)
    return Naming("none")


def _terms_of(session: Session, pairs_of: dict[int, list[int]]) -> dict[int, str]:
    """Per cluster, the term that the most of its warnings found in both systems."""
    reasons: dict[int, list[dict[str, Any]]] = {}
    for chunk in _chunks(sorted({i for ids in pairs_of.values() for i in ids})):
        for warning_id, found in session.execute(
            select(col(DuplicateWarning.id), col(DuplicateWarning.reasons)).where(
                col(DuplicateWarning.id).in_(chunk)
            )
        ):
            reasons[warning_id] = found or []
    named: dict[int, str] = {}
    for n, ids in pairs_of.items():
        counts = Counter(term for i in ids for term in set(shared_terms(reasons.get(i, []))))
        if counts:
            named[n] = min(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))[0]
    return named


def _cluster(
    *,
    naming: Naming,
    members: tuple[Member, ...],
    pairs: tuple[Pair, ...],
    platform: Place | None,
    basis: str | None,
) -> Cluster:
    agencies = sorted({m.agency for m in members}, key=lambda p: fold(p.name))
    provinces = sorted({m.province for m in members if m.province is not None}, key=lambda p: fold(p.name))
    digest = hashlib.sha256("\n".join(sorted(m.code for m in members)).encode()).hexdigest()
    return Cluster(
        key=f"C-{digest[:12]}",
        naming=naming,
        members=members,
        pairs=pairs,
        agencies=tuple(agencies),
        provinces=tuple(provinces),
        total_cost_vnd=sum(m.cost_vnd or 0 for m in members),
        cost_unknown=sum(1 for m in members if m.cost_vnd is None),
        platform=platform,
        platform_basis=basis,
    )


def _province(agency_id: int, agencies: dict[int, Any]) -> Place | None:
    """The province an agency belongs to: the topmost province-level agency above it (or
    itself), so a province's People's Committee and its Party committee are one province."""
    found = None
    current: int | None = agency_id
    for _ in range(12):
        row = agencies.get(current) if current is not None else None
        if row is None:
            break
        if row.level == "province":
            found = row
        elif found is not None:
            break
        current = row.parent_id
    return Place(found.code, found.name) if found is not None else None


AGENCY_PREFIXES = ("ủy ban nhân dân", "tỉnh ủy", "thành ủy", "đảng ủy", "đảng bộ")
PLACE_PREFIXES = ("tỉnh", "thành phố")


def short_agency(name: str) -> str:
    """An agency's name without the kind of body: "Tỉnh ủy Bắc Ninh" → "Bắc Ninh",
    "Đảng ủy phường Sài Gòn" → "phường Sài Gòn"; long names are cut."""
    text = name.strip()
    for prefixes in (AGENCY_PREFIXES, PLACE_PREFIXES):
        for prefix in prefixes:
            if text.casefold().startswith(prefix + " "):
                text = text[len(prefix) + 1 :]
                break
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1].rstrip() + "…"


def _chunks(values: Sequence[T] | Iterable[T]) -> Iterator[list[T]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def drawing(cluster: Cluster, width: int = 360, height: int = 260, limit: int = 24) -> dict[str, Any]:
    """Coordinates for a server-side SVG: members on a circle (at most ``limit``), edges whose
    width grows with the score. Pure geometry; the template draws it."""
    shown = cluster.members[:limit]
    count = len(shown)
    cx, cy = width / 2, height / 2
    radius = min(width, height) / 2 - 38
    nodes = {}
    for n, member in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * n / max(count, 1)
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        anchor = "middle" if abs(x - cx) < 1 else ("start" if x > cx else "end")
        lx = x + (12 if anchor == "start" else -12 if anchor == "end" else 0)
        ly = y + (20 if y > cy + 1 else -12 if y < cy - 1 else 4)
        nodes[member.code] = {
            "n": n + 1,
            "x": round(x, 1),
            "y": round(y, 1),
            "lx": round(lx, 1),
            "ly": round(ly, 1),
            "anchor": anchor,
            "member": member,
        }
    edges = [
        {
            "x1": nodes[p.a]["x"],
            "y1": nodes[p.a]["y"],
            "x2": nodes[p.b]["x"],
            "y2": nodes[p.b]["y"],
            "width": round(1 + 5 * max(0.0, (p.score - 0.5) / 0.5), 1),
            "pair": p,
            "a": nodes[p.a]["member"],
            "b": nodes[p.b]["member"],
        }
        for p in sorted(cluster.pairs, key=lambda p: p.score)
        if p.a in nodes and p.b in nodes
    ]
    return {
        "width": width,
        "height": height,
        "nodes": list(nodes.values()),
        "edges": edges,
        "hidden": len(cluster.members) - count,
    }


def cluster_item(clusters: ClusterSet, cluster: Cluster, locale: str) -> dict[str, Any]:
    """A cluster as the API shows it (``GET /api/v1/clusters``)."""

    def place(p: Place | None) -> dict[str, str] | None:
        return None if p is None else {"code": p.code, "name": p.name}

    return {
        "id": cluster.key,
        "name": clusters.name_of(cluster, locale),
        "capability": cluster.capability,
        "named_by": cluster.naming.kind,
        "size": cluster.size,
        "members": [
            {
                "code": m.code,
                "name": m.name,
                "status": m.status,
                "agency": place(m.agency),
                "province": place(m.province),
                "cost_vnd": m.cost_vnd,
            }
            for m in cluster.members
        ],
        "agencies": [place(p) for p in cluster.agencies],
        "provinces": [place(p) for p in cluster.provinces],
        "total_cost_vnd": cluster.total_cost_vnd,
        "cost_unknown": cluster.cost_unknown,
        "best_score": round(cluster.best_score, 4),
        "min_score": round(cluster.min_score, 4),
        "platform": None
        if cluster.platform is None
        else {**place(cluster.platform), "basis": cluster.platform_basis},  # type: ignore[dict-item]
        "confirmed_pairs": cluster.confirmed,
        "pairs": [
            {
                "warning_id": p.warning_id,
                "a": p.a,
                "b": p.b,
                "score": round(p.score, 4),
                "confirmed": p.confirmed,
            }
            for p in cluster.pairs
        ],
    }
