"""A system's dependency neighbourhood, N hops out, small enough to draw.

The portfolio graph has 100,000 systems and some shared platforms (VNeID, the document
platform) have tens of thousands of consumers, so the graph is never loaded whole: each hop
reads only the edges of its frontier, through the indexes on ``dependency.source_id``,
``dependency.target_id`` and ``information_system.instance_of_id``. When a hop would bring
more systems than the picture can hold (:data:`NODE_CAP`), the surplus is collapsed on the
server into one node per owner agency ("12 systems of Tỉnh ủy Nghệ An"), or, when even those
are too many, per province or per level, and the answer says what was collapsed.

Relations are those of :class:`~registry.models.Dependency` (the source depends on the target
in the way ``kind`` says) plus ``instance_of``: a deployment points at the shared platform it
deploys. The overlays come from the stored findings of rules R6 (a local system doing what a
central platform does) and R7 (isolated), which every save and scan keeps current, so the
explorer says exactly what the system's page says.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from flask_babel import format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlmodel import Session, col

from registry.choices import AgencyLevel, DependencyKind
from registry.errors import NotFoundError, ValidationError
from registry.models import Agency, Dependency, Finding, InformationSystem

__all__ = [
    "DEFAULT_HOPS",
    "INSTANCE_OF",
    "MAX_HOPS",
    "NODE_CAP",
    "OVERLAYS",
    "GraphView",
    "neighbourhood_graph",
    "parse_hops",
    "kind_label",
    "short_label",
    "system_code",
]

MAX_HOPS = 3
DEFAULT_HOPS = 2
NODE_CAP = 150
"""Most nodes an answer holds, collapsed groups included: what a browser draws legibly."""
SMALL_CAP = 30
"""Most nodes of the small picture on a system's page."""
FETCH_LIMIT = 200
"""A frontier system with more connections than this has them counted by group in SQL
rather than read one by one; the picture could not show them singly anyway."""
FETCH_BUDGET = 2000
"""Most single connections read per hop; busier frontier systems are counted by group."""
LABEL_LENGTH = 48
INSTANCE_OF = "instance_of"
"""The relation of a deployment to the shared platform it deploys (not a dependency kind)."""
VARIOUS = "various"
"""The relation of a group counted from the indexes alone, whose kinds were not read."""
OVERLAYS = {"R7": "isolated", "R6": "duplicates_central"}
"""Rule code → the overlay flag it sets on a node."""
GROUPINGS = ("agency", "province", "level", "all")
"""Ever coarser ways of collapsing systems, tried in order until the groups fit."""


@dataclass
class GraphView:
    """What the API answers and the explorer draws; :meth:`as_dict` is the JSON."""

    focus: str
    hops: int
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    collapsed: list[dict[str, Any]] = field(default_factory=list)
    """One entry per group node: which system's connections it collapses, how many, by what."""
    unexpanded: list[str] = field(default_factory=list)
    """Codes of systems whose further connections were left out: no room was left for them."""
    cap: int = NODE_CAP

    @property
    def truncated(self) -> bool:
        return bool(self.collapsed or self.unexpanded)

    def as_dict(self) -> dict[str, Any]:
        return {
            "focus": self.focus,
            "hops": self.hops,
            "cap": self.cap,
            "truncated": self.truncated,
            "collapsed": self.collapsed,
            "unexpanded": self.unexpanded,
            "nodes": self.nodes,
            "edges": self.edges,
        }


def system_code(session: Session, text: str) -> str | None:
    """The code typed, if a system has it (what a search box tries before searching)."""
    code = (text or "").strip().upper()
    found = _scalar(session, select(col(InformationSystem.code)).where(col(InformationSystem.code) == code))
    return str(found) if found else None


def parse_hops(value: str | int | None) -> int:
    """How many hops out a request asks for (:data:`DEFAULT_HOPS` when it does not say);
    anything but a whole number from 1 to :data:`MAX_HOPS` is a :class:`ValidationError`."""
    if value is None or value == "":
        return DEFAULT_HOPS
    try:
        hops = int(value)
    except (TypeError, ValueError):
        hops = 0
    if not 1 <= hops <= MAX_HOPS:
        raise ValidationError({"hops": [_l("Choose from 1 to %(most)s hops.", most=MAX_HOPS)]})
    return hops


def short_label(name: str, limit: int = LABEL_LENGTH) -> str:
    """The name, cut at a word boundary when longer than ``limit``.

    >>> short_label("Hệ thống thông tin giải quyết thủ tục hành chính cấp tỉnh", 30)
    'Hệ thống thông tin giải quyết…'
    >>> short_label("VNeID")
    'VNeID'
    """
    if len(name) <= limit:
        return name
    cut = name[: limit - 1]
    if name[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–") + "…"


@dataclass
class _Link:
    """One connection found from a frontier system: ``other`` relates to ``via``."""

    via: int
    other: int
    kind: str
    outgoing: bool
    """True when ``via`` depends on (or deploys) ``other``."""


@dataclass
class _Group:
    via: int
    outgoing: bool
    key: tuple[str, str]
    count: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


class _Agencies:
    """The agencies that collapsed systems belong to, with their ancestors, read on demand
    (a few indexed lookups per level of the tree) and only when something is collapsed."""

    def __init__(self, session: Session, locale: str):
        self.session = session
        self.locale = locale
        self.tree: dict[int, tuple[str, int | None]] = {}
        """Agency id → (level, parent id)."""
        self.named: dict[int, Any] = {}
        self._regions: dict[int, int] = {}

    def load(self) -> None:
        """The whole tree as (id, level, parent) triples: one query of a few thousand small rows
        beats walking up from thousands of owners in batches."""
        if not self.tree:
            self.tree = {
                agency_id: (level, parent_id)
                for agency_id, level, parent_id in _run(
                    self.session, select(col(Agency.id), col(Agency.level), col(Agency.parent_id))
                )
            }

    def load_names(self, ids: Collection[int]) -> None:
        for chunk in _in_chunks(set(ids) - self.named.keys()):
            for row in _run(
                self.session,
                select(col(Agency.id), col(Agency.code), col(Agency.name), col(Agency.name_en)).where(
                    col(Agency.id).in_(chunk)
                ),
            ):
                self.named[row.id] = row

    def name(self, agency_id: int) -> str:
        row = self.named[agency_id]
        return str(row.name_en) if self.locale == "en" and row.name_en else str(row.name)

    def region(self, agency_id: int) -> int:
        """The province an agency belongs to (its topmost non-central ancestor), or for a
        central agency the root of its branch."""
        found = self._regions.get(agency_id)
        if found is not None:
            return found
        current = agency_id
        level, parent = self.tree[current]
        seen = {current}
        while parent is not None and parent in self.tree and parent not in seen:
            parent_level, grandparent = self.tree[parent]
            if level != "central" and parent_level == "central":
                break
            seen.add(parent)
            current, level, parent = parent, parent_level, grandparent
        self._regions[agency_id] = current
        return current

    def key(self, agency_id: int | None, grouping: str) -> tuple[str, str]:
        if agency_id is None or agency_id not in self.tree:
            return ("all", "")
        if grouping == "agency":
            return ("agency", str(agency_id))
        if grouping == "province":
            return ("province", str(self.region(agency_id)))
        if grouping == "level":
            return ("level", self.tree[agency_id][0])
        return ("all", "")

    def describe(self, key: tuple[str, str], count: int) -> tuple[str, dict[str, Any]]:
        """The group's label (its count written as the reader's language writes numbers) and
        its description in the answer."""
        by, value = key
        shown = format_decimal(count)
        if by in ("agency", "province"):
            agency_id = int(value)
            name = self.name(agency_id)
            level = self.tree[agency_id][0]
            info = {"by": by, "agency": self.named[agency_id].code, "name": name, "level": level}
            if by == "agency":
                label = ngettext(
                    "%(count)s system of %(agency)s",
                    "%(count)s systems of %(agency)s",
                    count,
                    count=shown,
                    agency=name,
                )
            else:
                label = ngettext(
                    "%(count)s system under %(agency)s",
                    "%(count)s systems under %(agency)s",
                    count,
                    count=shown,
                    agency=name,
                )
            return label, info
        if by == "level":
            label = ngettext(
                "%(count)s %(level)s-level system",
                "%(count)s %(level)s-level systems",
                count,
                count=shown,
                level=AgencyLevel(value).label.lower(),
            )
            return label, {"by": by, "level": value, "name": AgencyLevel(value).label}
        label = ngettext("%(count)s other system", "%(count)s other systems", count, count=shown)
        return label, {"by": "all"}


def _run(session: Session, statement: Any) -> Any:
    """Rows as plain tuples from the session's connection, fetched at once: the ORM's result
    machinery, or fetching row by row, costs a third of the time of a query returning
    thousands of counts."""
    return session.connection().execute(statement).all()


def _scalar(session: Session, statement: Any) -> Any:
    return session.connection().scalar(statement)


def _in_chunks(ids: Collection[int], size: int = 900) -> Iterable[list[int]]:
    """IN lists no longer than SQLite's comfortable limit."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _degrees(
    session: Session, ids: Collection[int], instance_of: dict[int, int | None]
) -> tuple[dict[int, int], dict[int, tuple[int, int, int]]]:
    """Connections of each system in the whole portfolio, counted from the indexes alone: the
    total (dependencies both ways, deployments of it, the platform it deploys) and the parts
    (what it depends on, what depends on it, its deployments)."""
    parts: dict[int, list[int]] = {i: [0, 0, 0] for i in ids}
    for chunk in _in_chunks(ids):
        for position, column in enumerate(
            (col(Dependency.source_id), col(Dependency.target_id), col(InformationSystem.instance_of_id))
        ):
            for system_id, n in _run(
                session, select(column, func.count()).where(column.in_(chunk)).group_by(column)
            ):
                parts[system_id][position] += n
    degree = {i: sum(p) + (instance_of.get(i) is not None) for i, p in parts.items()}
    return degree, {i: (p[0], p[1], p[2]) for i, p in parts.items()}


def _counted_by_index(
    session: Session, via: int, parts: tuple[int, int, int], shown: Collection[int], *, outgoing: bool
) -> list[tuple[bool, str, int | None, int]]:
    """A busy system's connections to systems not shown, from the index counts alone: what
    the picture needs when the system is not the focus (one group per direction, kinds left
    unread), or on the small picture of a system's page."""
    out_n, in_n, deployed_n = parts
    others = list(shown)
    in_shown = _scalar(
        session,
        select(func.count()).where(col(Dependency.target_id) == via, col(Dependency.source_id).in_(others)),
    )
    deployed_shown = _scalar(
        session,
        select(func.count()).where(
            col(InformationSystem.instance_of_id) == via, col(InformationSystem.id).in_(others)
        ),
    )
    entries = [
        (False, VARIOUS, None, in_n - (in_shown or 0)),
        (False, INSTANCE_OF, None, deployed_n - (deployed_shown or 0)),
    ]
    if outgoing:
        out_shown = _scalar(
            session,
            select(func.count()).where(
                col(Dependency.source_id) == via, col(Dependency.target_id).in_(others)
            ),
        )
        entries.append((True, VARIOUS, None, out_n - (out_shown or 0)))
    return [entry for entry in entries if entry[3] > 0]


def _system_rows(session: Session, ids: Collection[int]) -> dict[int, Any]:
    rows: dict[int, Any] = {}
    for chunk in _in_chunks(ids):
        for row in _run(
            session,
            select(
                col(InformationSystem.id),
                col(InformationSystem.code),
                col(InformationSystem.name),
                col(InformationSystem.status),
                col(InformationSystem.scope_level),
                col(InformationSystem.is_shared_platform),
                col(InformationSystem.instance_of_id),
                col(InformationSystem.owner_agency_id),
                col(Agency.code).label("agency_code"),
                col(Agency.name).label("agency_name"),
                col(Agency.name_en).label("agency_name_en"),
                col(Agency.level).label("agency_level"),
            )
            .join(Agency, col(Agency.id) == col(InformationSystem.owner_agency_id))
            .where(col(InformationSystem.id).in_(chunk)),
        ):
            rows[row.id] = row
    return rows


def _links(session: Session, frontier: Collection[int], rows: dict[int, Any]) -> list[_Link]:
    """Every connection of these (not too busy) systems, one by one."""
    found: list[_Link] = []
    for chunk in _in_chunks(frontier):
        for source, target, kind in _run(
            session,
            select(col(Dependency.source_id), col(Dependency.target_id), col(Dependency.kind)).where(
                col(Dependency.source_id).in_(chunk)
            ),
        ):
            found.append(_Link(source, target, kind, outgoing=True))
        for source, target, kind in _run(
            session,
            select(col(Dependency.source_id), col(Dependency.target_id), col(Dependency.kind)).where(
                col(Dependency.target_id).in_(chunk)
            ),
        ):
            found.append(_Link(target, source, kind, outgoing=False))
        for deployment, platform in _run(
            session,
            select(col(InformationSystem.id), col(InformationSystem.instance_of_id)).where(
                col(InformationSystem.instance_of_id).in_(chunk)
            ),
        ):
            found.append(_Link(platform, deployment, INSTANCE_OF, outgoing=False))
    for system_id in frontier:
        platform = rows[system_id].instance_of_id
        if platform is not None:
            found.append(_Link(system_id, platform, INSTANCE_OF, outgoing=True))
    return found


def _owners(session: Session, ids: Collection[int]) -> dict[int, int]:
    owners: dict[int, int] = {}
    for chunk in _in_chunks(ids):
        for system_id, agency_id in _run(
            session,
            select(col(InformationSystem.id), col(InformationSystem.owner_agency_id)).where(
                col(InformationSystem.id).in_(chunk)
            ),
        ):
            owners[system_id] = agency_id
    return owners


def _outgoing(session: Session, via: int, rows: dict[int, Any], limit: int) -> list[_Link] | None:
    """What ``via`` depends on (and the platform it deploys), or ``None`` if more than ``limit``."""
    found = [
        _Link(via, target, kind, outgoing=True)
        for target, kind in _run(
            session,
            select(col(Dependency.target_id), col(Dependency.kind))
            .where(col(Dependency.source_id) == via)
            .limit(limit + 1),
        )
    ]
    if len(found) > limit:
        return None
    platform = rows[via].instance_of_id
    return found + ([_Link(via, platform, INSTANCE_OF, outgoing=True)] if platform is not None else [])


def _counted_by_owner(
    session: Session, busy: int, shown: Collection[int], *, outgoing: bool = True
) -> list[tuple[bool, str, int | None, int]]:
    """(outgoing, kind, owner agency id, count) of a busy system's connections to systems not
    shown: grouped in SQL, so a platform with 30,000 consumers costs one indexed pass."""
    system = InformationSystem
    others = list(shown)
    owner = col(system.owner_agency_id)
    kind = col(Dependency.kind)
    counted: list[tuple[bool, str, int | None, int]] = []
    directions = [(False, col(Dependency.target_id), col(Dependency.source_id))]
    if outgoing:
        directions.append((True, col(Dependency.source_id), col(Dependency.target_id)))
    for out, near, far in directions:
        by_owner = (
            select(kind, owner, func.count())
            .join(system, col(system.id) == far)
            .where(near == busy, far.not_in(others))
            .group_by(kind, owner)
        )
        counted += [(out, k, agency, n) for k, agency, n in _run(session, by_owner)]
    deployments = (
        select(owner, func.count())
        .where(col(system.instance_of_id) == busy, col(system.id).not_in(others))
        .group_by(owner)
    )
    counted += [(False, INSTANCE_OF, agency, n) for agency, n in _run(session, deployments)]
    return counted


def _grouped(
    entries: list[tuple[bool, str, int | None, int]], room: int, agencies: _Agencies, via: int
) -> list[_Group] | None:
    """The connections of ``via`` in the finest grouping whose groups fit in ``room``, or
    ``None`` when not even one group per direction fits."""
    by_owner: dict[tuple[bool, int | None], dict[str, int]] = {}
    for outgoing, kind, owner, n in entries:
        kinds = by_owner.setdefault((outgoing, owner), {})
        kinds[kind] = kinds.get(kind, 0) + n
    for grouping in GROUPINGS:
        if grouping == "agency" and len(by_owner) > room:
            continue  # one group per owner: too many, without computing a key
        keyed = [
            ((outgoing, agencies.key(owner, grouping)), kinds)
            for (outgoing, owner), kinds in by_owner.items()
        ]
        if len({key for key, _kinds in keyed}) > room:
            continue
        groups: dict[tuple[bool, tuple[str, str]], _Group] = {}
        for (outgoing, key), kinds in keyed:
            group = groups.get((outgoing, key))
            if group is None:
                group = groups[(outgoing, key)] = _Group(via, outgoing, key)
            for kind, n in kinds.items():
                group.count += n
                group.kinds[kind] += n
        return list(groups.values())
    return None


def neighbourhood_graph(
    session: Session,
    focus_code: str,
    *,
    hops: int = DEFAULT_HOPS,
    cap: int = NODE_CAP,
    locale: str = "vi",
    coarse: bool = False,
) -> GraphView:
    """The systems within ``hops`` connections of the system ``focus_code``, at most ``cap``
    nodes, busy neighbourhoods collapsed into groups.

    Hop by hop, the frontier's connections are read singly for ordinary systems and counted by
    owner agency for busy ones; new systems are shown singly while they fit, the least
    connected frontier systems first, and the rest are collapsed per frontier system. Groups
    are not expanded further. Edges are then every relation among the systems shown (so links
    between two neighbours appear too), plus one edge per group.

    A busy system other than the focus has its hidden connections counted from the indexes
    alone, one group per direction: the picture has little room for them, and reading tens
    of thousands of rows for it would cost more than the rest of the answer. ``coarse`` does
    the same for the focus: what the small picture on every system's page does, so that a
    national platform's page stays fast.

    Cost: O(hops) rounds of indexed queries, each bounded by :data:`FETCH_BUDGET` rows read
    singly and one grouped pass per busy system; never the whole graph.

    Raises :class:`~registry.errors.NotFoundError` for an unknown code and
    :class:`~registry.errors.ValidationError` for hops outside 1..:data:`MAX_HOPS`.
    """
    hops = parse_hops(hops)
    focus_id = _scalar(
        session,
        select(col(InformationSystem.id)).where(
            col(InformationSystem.code) == (focus_code or "").strip().upper()
        ),
    )
    if focus_id is None:
        raise NotFoundError(focus_code)

    rows = _system_rows(session, [focus_id])
    depth: dict[int, int] = {focus_id: 0}
    instance_of = {focus_id: rows[focus_id].instance_of_id}
    degree, parts = _degrees(session, [focus_id], instance_of)
    groups: list[_Group] = []
    unexpanded: list[int] = []
    agencies: _Agencies | None = None
    frontier = [focus_id]

    for hop in range(1, hops + 1):
        if not frontier:
            break
        frontier.sort(key=lambda i: (degree[i], i))
        quiet: list[int] = []
        budget = FETCH_BUDGET
        for system_id in frontier:
            if degree[system_id] <= min(FETCH_LIMIT, budget):
                quiet.append(system_id)
                budget -= degree[system_id]
        busy = [i for i in frontier if i not in set(quiet)]

        new_by_via: dict[int, list[_Link]] = defaultdict(list)
        for link in _links(session, quiet, rows):
            if link.other not in depth:
                new_by_via[link.via].append(link)

        next_frontier: list[int] = []
        to_collapse: list[int] = []
        vias = sorted(new_by_via, key=lambda v: (len({lk.other for lk in new_by_via[v]}), degree[v], v))
        for position, via in enumerate(vias):
            new = {lk.other for lk in new_by_via[via] if lk.other not in depth}
            still_to_place = len(vias) - position - 1 + len(busy)
            room = cap - len(depth) - len(groups) - still_to_place
            if len(new) <= room:
                for other in sorted(new):
                    depth[other] = hop
                    next_frontier.append(other)
            else:
                to_collapse.append(via)

        if to_collapse or busy:
            agencies = agencies or _Agencies(session, locale)
            hidden = {lk.other for v in to_collapse for lk in new_by_via[v] if lk.other not in depth}
            owner = _owners(session, hidden) if hidden else {}
            order = to_collapse + sorted(busy, key=lambda i: (degree[i], i))
            for position, via in enumerate(order):
                left = cap - len(depth) - len(groups)
                if left < 1:
                    unexpanded.append(via)
                    continue
                room = max(1, left // (len(order) - position))
                # What a system depends on is usually a handful (its platforms, its host): shown
                # singly when it fits, leaving the groups to the crowd that depends on it.
                if via in busy:
                    out_links = _outgoing(session, via, rows, FETCH_LIMIT)
                else:
                    out_links = [lk for lk in new_by_via[via] if lk.outgoing]
                new_out = sorted({lk.other for lk in out_links or () if lk.other not in depth})
                singly = out_links is not None and len(new_out) < room
                if singly:
                    for other in new_out:
                        depth[other] = hop
                        next_frontier.append(other)
                    room -= len(new_out)
                shown_now = set(depth)
                if via in busy and (coarse or hop > 1):
                    entries = _counted_by_index(session, via, parts[via], shown_now, outgoing=not singly)
                elif via in busy:
                    entries = _counted_by_owner(session, via, shown_now, outgoing=not singly)
                else:
                    entries = [
                        (lk.outgoing, lk.kind, owner.get(lk.other), 1)
                        for lk in new_by_via[via]
                        if lk.other not in shown_now
                    ]
                if not entries:
                    continue
                agencies.load()
                made = _grouped(entries, room, agencies, via)
                if made is None:
                    unexpanded.append(via)
                else:
                    groups.extend(made)

        if next_frontier:
            new_rows = _system_rows(session, next_frontier)
            rows.update(new_rows)
            instance_of.update({i: r.instance_of_id for i, r in new_rows.items()})
            more_degrees, more_parts = _degrees(session, next_frontier, instance_of)
            degree.update(more_degrees)
            parts.update(more_parts)
        frontier = next_frontier

    return _assemble(session, focus_id, hops, cap, rows, degree, depth, groups, unexpanded, agencies, locale)


def _flags(session: Session, ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """R6 and R7 as the stored findings say, per system."""
    flags: dict[int, dict[str, Any]] = defaultdict(dict)
    for chunk in _in_chunks(ids):
        for system_id, rule_code, details in _run(
            session,
            select(col(Finding.system_id), col(Finding.rule_code), col(Finding.details)).where(
                col(Finding.system_id).in_(chunk), col(Finding.rule_code).in_(list(OVERLAYS))
            ),
        ):
            flags[system_id][OVERLAYS[rule_code]] = details or {}
    return flags


def _assemble(
    session: Session,
    focus_id: int,
    hops: int,
    cap: int,
    rows: dict[int, Any],
    degree: dict[int, int],
    depth: dict[int, int],
    groups: list[_Group],
    unexpanded: list[int],
    agencies: _Agencies | None,
    locale: str,
) -> GraphView:
    graph = nx.MultiDiGraph()
    flags = _flags(session, depth)
    for system_id in depth:
        row = rows[system_id]
        flagged = flags.get(system_id, {})
        agency_name = row.agency_name_en if locale == "en" and row.agency_name_en else row.agency_name
        graph.add_node(
            row.code,
            type="system",
            code=row.code,
            label=short_label(row.name),
            name=row.name,
            status=row.status,
            scope_level=row.scope_level,
            agency=row.agency_code,
            agency_name=agency_name,
            agency_level=row.agency_level,
            is_shared_platform=bool(row.is_shared_platform),
            degree=degree.get(system_id, 0),
            isolated="isolated" in flagged,
            duplicates_central="duplicates_central" in flagged,
            duplicates_platform=flagged.get("duplicates_central", {}).get("platform_code"),
            focus=system_id == focus_id,
            hops=depth[system_id],  # hop by hop from the focus: the shortest distance
        )
    codes = {system_id: rows[system_id].code for system_id in depth}
    for chunk in _in_chunks(depth):
        for dependency_id, source, target, kind in _run(
            session,
            select(
                col(Dependency.id), col(Dependency.source_id), col(Dependency.target_id), col(Dependency.kind)
            ).where(col(Dependency.source_id).in_(chunk), col(Dependency.target_id).in_(list(depth))),
        ):
            graph.add_edge(codes[source], codes[target], key=kind, id=f"d{dependency_id}", kind=kind, count=1)
    for system_id in depth:
        platform = rows[system_id].instance_of_id
        if platform in codes:
            graph.add_edge(
                codes[system_id],
                codes[platform],
                key=INSTANCE_OF,
                id=f"i{system_id}",
                kind=INSTANCE_OF,
                count=1,
            )

    collapsed = []
    if agencies is not None:
        agencies.load_names({int(g.key[1]) for g in groups if g.key[0] in ("agency", "province")})
    for index, group in enumerate(groups):
        assert agencies is not None
        label, info = agencies.describe(group.key, group.count)
        node_id = f"g{index}"
        via = codes[group.via]
        kind = group.kinds.most_common(1)[0][0]
        graph.add_node(
            node_id,
            type="group",
            label=label,
            name=label,
            count=group.count,
            group=info,
            agency_level=info.get("level"),
            via=via,
            degree=group.count,
            hops=depth[group.via] + 1,
        )
        source, target = (via, node_id) if group.outgoing else (node_id, via)
        graph.add_edge(
            source, target, key=kind, id=f"e{node_id}", kind=kind, count=group.count, kinds=dict(group.kinds)
        )
        collapsed.append({"node": node_id, "via": via, "count": group.count, **info})

    focus = codes[focus_id]
    nodes = [{"id": node_id, **data} for node_id, data in graph.nodes(data=True)]
    nodes.sort(key=lambda n: (n["hops"], n["type"] != "system", not n.get("is_shared_platform"), n["label"]))
    edges = [
        {"id": data["id"], "source": source, "target": target, **{k: v for k, v in data.items() if k != "id"}}
        for source, target, data in graph.edges(data=True)
    ]
    edges.sort(key=lambda e: e["id"])
    return GraphView(
        focus=focus,
        hops=hops,
        nodes=nodes,
        edges=edges,
        collapsed=collapsed,
        unexpanded=sorted(codes[i] for i in unexpanded),
        cap=cap,
    )


def kind_label(kind: str) -> str:
    """A relation's name in the reader's language, the deployment relation included."""
    if kind == INSTANCE_OF:
        return gettext("Deployment of")
    if kind == VARIOUS:
        return gettext("Various relations")
    return DependencyKind(kind).label if kind in DependencyKind._value2member_map_ else kind
