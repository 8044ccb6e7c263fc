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
per process, keyed by a watermark that every write moves: the audit chain's head (every write
through the services is audited) and the highest warning and system ids. The web workers of
one machine share one computation per change through a snapshot in the instance folder, and
none serves a stale result.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import pickle
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import func, select
from sqlmodel import Session, col

from registry.choices import Disposition
from registry.models import (
    Agency,
    Capability,
    DuplicateWarning,
    InformationSystem,
    SystemCapabilityLink,
)
from registry.services.overlaps import EXCLUDED_STATUSES, WARNING_THRESHOLD
from registry.services.review import shared_terms
from registry.services.watermark import portfolio_version
from registry.text import fold
from similarity.graph import complete_linkage_edges
from similarity.knowledge import default_knowledge

log = logging.getLogger(__name__)

CACHE_KEY = "registry.clusters"
STANDING = (Disposition.OPEN.value, Disposition.CONFIRMED.value)
"""Dispositions that still stand: dismissed and justified pairs link nothing and point nowhere."""
CHUNK = 5_000
"""Ids per ``IN (…)`` list: below SQLite's limit on bound parameters, cheap for PostgreSQL."""
LABEL_LENGTH = 18
NAMES_READ = 6
"""Members' names read for functions when naming a cluster: enough to tell, bounded in cost."""

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

    size: int = 0
    """How many members (set from ``members``)."""
    capability: str | None = None
    """The capability code naming the cluster, if one does (set from ``naming``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", len(self.members))
        object.__setattr__(
            self, "capability", self.naming.value if self.naming.kind == "capability" else None
        )

    @property
    def best_score(self) -> float:
        return max(p.score for p in self.pairs)

    @property
    def min_score(self) -> float:
        return min(p.score for p in self.pairs)

    @property
    def confirmed(self) -> int:
        return sum(1 for p in self.pairs if p.confirmed)


@dataclass(frozen=True)
class ClusterSet:
    """Every cluster of two systems or more, largest first, with what the filters offer."""

    clusters: tuple[Cluster, ...]
    capability_names: dict[str, tuple[str, str]]
    """Capability code → (Vietnamese name, English name)."""
    watermark: tuple[Any, ...]
    seconds: float
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    provinces: tuple[Place, ...] = field(default=())
    capabilities: tuple[str, ...] = field(default=())
    """Codes of the capabilities that name a cluster, for the filter."""

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
    """All clusters, from this process's cache when no write happened since it was computed,
    else from the snapshot another worker of this machine saved for the same watermark, else
    computed now (and saved for the others).

    At national scale a computation costs seconds, and every write moves the watermark. So once
    a worker holds a result, a write does not make the next reader wait: they get the previous
    result (its ``computed_at`` says when; :func:`is_current` says whether it still is) while one
    background thread computes the new one (``CLUSTERS_REFRESH_IN_BACKGROUND``, on unless
    testing). Only a worker's very first reader waits.
    """
    mark = watermark(session)
    if not has_app_context():
        return compute_clusters(session, mark)
    holder = current_app.extensions.setdefault(
        CACHE_KEY, {"lock": threading.Lock(), "value": None, "refresh": None}
    )
    cached: ClusterSet | None = holder["value"]
    if cached is not None and cached.watermark == mark:
        return cached
    config = current_app.config
    background = config.get("CLUSTERS_REFRESH_IN_BACKGROUND", not config.get("TESTING"))
    if cached is not None and background:
        _refresh_in_background(current_app._get_current_object(), holder)  # type: ignore[attr-defined]  # the proxy's real app
        return cached
    with holder["lock"]:
        cached = holder["value"]
        if cached is not None and cached.watermark == mark:
            return cached
        result = _shared_snapshot(session, mark)
        holder["value"] = result
        return result


def is_current(session: Session, found: ClusterSet) -> bool:
    """Whether ``found`` still reflects every write (else a newer one is being computed)."""
    return found.watermark == watermark(session)


def _refresh_in_background(app: Any, holder: dict[str, Any]) -> threading.Thread:
    """Start computing the clusters of the current watermark, unless a refresh already runs."""
    with holder["lock"]:
        running: threading.Thread | None = holder.get("refresh")
        if running is not None and running.is_alive():
            return running

        def refresh() -> None:
            from registry.db import get_engine

            try:
                with app.app_context(), Session(get_engine(app)) as own:
                    result = _shared_snapshot(own, watermark(own))
                with holder["lock"]:
                    holder["value"] = result
            except Exception:  # noqa: BLE001 - readers keep the previous result; the next write retries
                log.exception("Duplicate clusters: the background refresh failed")

        thread = threading.Thread(target=refresh, name="clusters-refresh", daemon=True)
        holder["refresh"] = thread
        thread.start()
        return thread


def _shared_snapshot(session: Session, mark: tuple[Any, ...]) -> ClusterSet:
    """One computation per watermark for all the web workers of a machine: the first to need
    it computes under a file lock and saves a pickle in the instance folder; the others wait
    for the lock and load it (a fraction of the cost). Older snapshots are removed."""
    folder = Path(current_app.instance_path) / "cache"
    digest = hashlib.sha256(repr((current_app.config.get("DATABASE_URL"), mark)).encode()).hexdigest()[:24]
    path = folder / f"clusters-{digest}.pickle"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "clusters.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if path.exists():
                    with path.open("rb") as handle:
                        loaded = pickle.load(handle)  # noqa: S301 - written by this application only
                    if isinstance(loaded, ClusterSet) and loaded.watermark == mark:
                        return loaded
                result = compute_clusters(session, mark)
                temporary = path.with_suffix(f".{os.getpid()}.tmp")
                with temporary.open("wb") as handle:
                    pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, path)
                for old in folder.glob("clusters-*.pickle"):
                    if old != path:
                        old.unlink(missing_ok=True)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    except (OSError, pickle.PickleError, EOFError, AttributeError):
        log.warning("Duplicate clusters: the shared snapshot could not be used", exc_info=True)
        return compute_clusters(session, mark)


def watermark(session: Session) -> tuple[Any, ...]:
    """What every write that could change the clusters moves, read from indexes (no scan).

    Every write path (saves, dependency changes, decisions on warnings, scans, imports, the
    seed) appends to the audit chain in its own transaction, so the chain's head
    (:func:`registry.services.watermark.portfolio_version`) moves with it; the highest warning
    and system ids also catch rows bulk-loaded outside the services. Three lookups of one row
    each: no count, no scan.
    """
    warning = session.scalar(select(func.max(col(DuplicateWarning.id))))
    system = session.scalar(select(func.max(col(InformationSystem.id))))
    return (warning, system, *portfolio_version(session))


class _System(NamedTuple):
    code: str
    name: str
    status: str
    owner: int
    cost: int | None
    shared: bool
    instance_of: int | None
    scope: str


def compute_clusters(session: Session, mark: tuple[Any, ...] = ()) -> ClusterSet:
    """Cluster the whole portfolio now (no cache).

    Four plain scans (systems, warnings, capability links, agencies) and the rest in memory:
    at 100,000 systems and 300,000 warnings that is cheaper than joins and ``IN`` lists.
    """
    started = time.perf_counter()
    systems = {
        row[0]: _System._make(row[1:])
        for row in session.execute(
            select(
                col(InformationSystem.id),
                col(InformationSystem.code),
                col(InformationSystem.name),
                col(InformationSystem.status),
                col(InformationSystem.owner_agency_id),
                col(InformationSystem.estimated_cost_vnd),
                col(InformationSystem.is_shared_platform),
                col(InformationSystem.instance_of_id),
                col(InformationSystem.scope_level),
            )
        )
    }
    eligible = {
        i
        for i, s in systems.items()
        if not s.shared and s.instance_of is None and s.status not in EXCLUDED_STATUSES
    }
    """Who may be a member: live systems that are neither a platform nor a deployment."""
    links: dict[tuple[int, int], tuple[float, bool, int]] = {}
    """(a, b) → (score, confirmed, warning id), for the warnings that link two members."""
    reuse_links: list[tuple[int, int, float]] = []
    """(member, platform it points at, score), from warnings to platforms or their deployments."""
    for warning_id, a, b, score, relation, disposition in session.execute(
        select(
            col(DuplicateWarning.id),
            col(DuplicateWarning.system_a_id),
            col(DuplicateWarning.system_b_id),
            col(DuplicateWarning.score),
            col(DuplicateWarning.relation),
            col(DuplicateWarning.disposition),
        ).where(col(DuplicateWarning.disposition).in_(STANDING))
    ):
        a_member, b_member = a in eligible, b in eligible
        if a_member and b_member:
            confirmed = disposition == Disposition.CONFIRMED.value
            if relation == "overlap" and (confirmed or score >= WARNING_THRESHOLD):
                links[(a, b)] = (float(score), confirmed, warning_id)
        elif a_member or b_member:
            member, other_id = (a, b) if a_member else (b, a)
            other = systems.get(other_id)
            if other is not None and (other.shared or other.instance_of is not None):
                platform = other.instance_of if other.instance_of is not None else other_id
                reuse_links.append((member, platform, float(score)))

    linkage = complete_linkage_edges((a, b, score) for (a, b), (score, _c, _i) in links.items())
    groups: list[set[int]] = [g for g in linkage if len(g) >= 2]  # type: ignore[misc]
    cluster_of = {i: n for n, g in enumerate(groups) for i in g}
    pairs_of: dict[int, list[Pair]] = defaultdict(list)
    for (a, b), (score, confirmed, warning_id) in links.items():
        n = cluster_of.get(a)
        if n is not None and n == cluster_of.get(b):
            pairs_of[n].append(Pair(warning_id, systems[a].code, systems[b].code, score, confirmed))
    votes: dict[int, dict[int, tuple[set[int], float]]] = defaultdict(dict)
    for member_id, platform_id, score in reuse_links:
        n = cluster_of.get(member_id)
        if n is not None:
            linked, best = votes[n].get(platform_id, (set(), 0.0))
            linked.add(member_id)
            votes[n][platform_id] = (linked, max(best, score))

    capability_codes = {
        row.id: row.code for row in session.execute(select(col(Capability.id), col(Capability.code)))
    }
    capabilities: dict[int, set[str]] = defaultdict(set)
    frequency: Counter[str] = Counter()
    for system_id, capability_id in session.execute(
        select(col(SystemCapabilityLink.system_id), col(SystemCapabilityLink.capability_id))
    ):
        code = capability_codes[capability_id]
        frequency[code] += 1
        if system_id in cluster_of or systems[system_id].shared:
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
    platforms = _shared_platforms(systems, capabilities)
    providers = _providers(platforms)
    owners: dict[int, tuple[Place, Place | None, str]] = {}
    """Agency id → (the agency, its province, its short label), worked out once per agency."""

    unnamed: list[int] = []
    built: list[dict[str, Any]] = []
    for n, group in enumerate(groups):
        ids = sorted(group, key=lambda i: systems[i].name)
        pairs = tuple(sorted(pairs_of[n], key=lambda p: (-p.score, p.a, p.b)))
        naming = _naming([capabilities.get(i, set()) for i in ids], [systems[i].name for i in ids], frequency)
        if naming.kind == "none":
            unnamed.append(n)
        members = []
        for i in ids:
            system = systems[i]
            if system.owner not in owners:
                owner = agencies[system.owner]
                owners[system.owner] = (
                    Place(owner.code, owner.name),
                    _province(system.owner, agencies),
                    short_agency(owner.name),
                )
            agency, province, label = owners[system.owner]
            members.append(
                Member(
                    id=i,
                    code=system.code,
                    name=system.name,
                    label=label,
                    status=system.status,
                    agency=agency,
                    province=province,
                    cost_vnd=system.cost,
                )
            )
        capability = naming.value if naming.kind == "capability" else None
        platform, basis = _replacement(len(ids), capability, votes.get(n, {}), platforms, providers)
        built.append(
            {
                "naming": naming,
                "members": tuple(members),
                "pairs": pairs,
                "platform": platform,
                "basis": basis,
            }
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
        capabilities=tuple(sorted({c.capability for c in clusters if c.capability})),
    )


@dataclass(frozen=True)
class _Platform:
    place: Place
    capabilities: frozenset[str]
    named: frozenset[str]
    """Functions its name tells (``similarity/data``): a handbook app is named for handbooks."""
    rank: tuple[int, int, str]
    """Most deployed first, then central ones, then by code."""


def _shared_platforms(systems: dict[int, _System], capabilities: dict[int, set[str]]) -> dict[int, _Platform]:
    """Live shared platforms with their capabilities and how often they are deployed."""
    knowledge = default_knowledge()
    deployments = Counter(s.instance_of for s in systems.values() if s.instance_of is not None)
    return {
        system_id: _Platform(
            Place(s.code, s.name),
            frozenset(capabilities.get(system_id, ())),
            frozenset(knowledge.find(s.name)),
            (-deployments.get(system_id, 0), 0 if s.scope == "central" else 1, s.code),
        )
        for system_id, s in systems.items()
        if s.shared and s.status not in EXCLUDED_STATUSES
    }


def _providers(platforms: dict[int, _Platform]) -> dict[str, Place]:
    """Per capability, the platform to offer when no warning points at one: a platform named
    for that capability first, then the most deployed."""
    best: dict[str, tuple[tuple[bool, tuple[int, int, str]], Place]] = {}
    for platform in platforms.values():
        for capability in platform.capabilities:
            rank = (capability not in platform.named, platform.rank)
            if capability not in best or rank < best[capability][0]:
                best[capability] = (rank, platform.place)
    return {capability: place for capability, (_rank, place) in best.items()}


def _replacement(
    size: int,
    capability: str | None,
    votes: dict[int, tuple[set[int], float]],
    platforms: dict[int, _Platform],
    providers: dict[str, Place],
) -> tuple[Place | None, str | None]:
    """The platform the warnings point at, if it provides the cluster's capability or half the
    members point at it; else a platform providing the capability (see :func:`_providers`)."""
    pointed = [
        (len(linked), capability in platforms[p].capabilities, best, -p)
        for p, (linked, best) in votes.items()
        if p in platforms and (capability in platforms[p].capabilities or len(linked) * 2 >= size)
    ]
    if pointed:
        return platforms[-max(pointed)[3]].place, "warning"
    if capability and capability in providers:
        return providers[capability], "capability"
    return None, None


def _naming(declared: Sequence[set[str]], names: Sequence[str], frequency: Counter[str]) -> Naming:
    """The capability at least half the members declare (the most shared one; on a tie the one
    their names also tell, then the rarer in the portfolio), else the function at least half
    their names tell (of the first few), else nothing yet."""
    size = len(declared)
    knowledge = default_knowledge()
    told: Counter[str] | None = None
    counts = Counter(code for codes in declared for code in codes)
    if counts:
        top = max(counts.values())
        if top * 2 >= size:
            tied = [code for code, shared in counts.items() if shared == top]
            if len(tied) > 1:
                told = Counter(code for name in names[:NAMES_READ] for code in knowledge.find(name))
            hints = told or Counter()
            code = min(tied, key=lambda c: (-hints.get(c, 0), frequency.get(c, 0), c))
            return Naming("capability", code, top)
    if told is None:
        told = Counter(code for name in names[:NAMES_READ] for code in knowledge.find(name))
    if told:
        code, shared = min(told.items(), key=lambda item: (-item[1], item[0]))
        if shared * 2 >= min(size, NAMES_READ):
            return Naming("function", code, shared)
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
    agencies = sorted({m.agency for m in members}, key=_place_key)
    provinces = sorted({m.province for m in members if m.province is not None}, key=_place_key)
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


@lru_cache(maxsize=20_000)
def _place_key(place: Place) -> str:
    return fold(place.name)


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


def drawing(cluster: Cluster, width: int = 480, height: int = 300, limit: int = 24) -> dict[str, Any]:
    """Coordinates for a server-side SVG: members on a circle (at most ``limit``), labels
    outside it, edges whose width grows with the score. Pure geometry; the template draws it."""
    shown = cluster.members[:limit]
    count = len(shown)
    cx, cy = width / 2, height / 2
    radius = min(height / 2 - 36, width / 2 - 135)
    nodes = {}
    for n, member in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * n / max(count, 1)
        dx, dy = math.cos(angle), math.sin(angle)
        x, y = cx + radius * dx, cy + radius * dy
        anchor = "middle" if abs(dx) < 0.3 else ("start" if dx > 0 else "end")
        lx = x + 15 * dx + (0 if anchor == "middle" else (4 if dx > 0 else -4))
        ly = y + 15 * dy + (4 if anchor != "middle" else (10 if dy > 0 else -2))
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
