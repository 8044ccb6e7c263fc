"""Reading the agency tree: subtrees for filters, grouped choices for forms."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from registry.choices import AgencyLevel
from registry.models import Agency, InformationSystem
from registry.text import fold


@dataclass
class AgencyNode:
    agency: Any
    """A row with the agency's id, code, name, parent_id, level and block."""
    depth: int
    children: list[AgencyNode] = field(default_factory=list)
    owned: int = 0
    owned_below: int = 0
    """Systems managed by this agency, and by it together with every agency under it."""


LEVEL_ORDER = {AgencyLevel.CENTRAL: 0, AgencyLevel.PROVINCE: 1, AgencyLevel.COMMUNE: 2}


def agency_tree(session: Session, *, communes: bool = True, keep: str = "") -> list[AgencyNode]:
    """Roots first by level (central, then provinces), then by name; children nested.

    Reads plain rows, not ORM objects: the tree of 3,500 agencies is built on busy pages.
    Without ``communes`` the commune level is left out, except the agency coded ``keep``
    (an agency whose parent is left out becomes a root).
    """
    query = select(
        col(Agency.id),
        col(Agency.code),
        col(Agency.name),
        col(Agency.parent_id),
        col(Agency.level),
        col(Agency.block),
    )
    if not communes:
        query = query.where((col(Agency.level) != AgencyLevel.COMMUNE.value) | (col(Agency.code) == keep))
    rows = session.execute(query).all()
    present = {row.id for row in rows}
    by_parent: dict[int | None, list[Any]] = defaultdict(list)
    for row in rows:
        by_parent[row.parent_id if row.parent_id in present else None].append(row)

    def build(parent_id: int | None, depth: int) -> list[AgencyNode]:
        ordered = sorted(by_parent.get(parent_id, []), key=_agency_sort_key)
        return [AgencyNode(row, depth, build(row.id, depth + 1)) for row in ordered]

    return build(None, 0)


def _agency_sort_key(agency: Any) -> tuple[int, str]:
    return LEVEL_ORDER.get(AgencyLevel(agency.level), 9), fold(agency.name)


def flatten(nodes: list[AgencyNode]) -> list[AgencyNode]:
    result: list[AgencyNode] = []
    for node in nodes:
        result.append(node)
        result.extend(flatten(node.children))
    return result


def _indented(node: AgencyNode) -> str:
    return "\u2003" * node.depth + node.agency.name


def agency_choices(session: Session) -> list[tuple[int, str]]:
    """(id, indented name) in tree order, so a select shows who sits under whom."""
    return [(node.agency.id, _indented(node)) for node in flatten(agency_tree(session))]


def agency_code_choices(session: Session, only: frozenset[int] | None = None) -> list[tuple[str, str]]:
    """(code, indented name) in tree order, for a select whose value travels as a code;
    ``only`` keeps just those agencies (a submitter's own), unindented."""
    nodes = flatten(agency_tree(session))
    if only is None:
        return [(node.agency.code, _indented(node)) for node in nodes]
    return [(node.agency.code, node.agency.name) for node in nodes if node.agency.id in only]


def filter_choices(session: Session, selected: str = "") -> list[tuple[str, str]]:
    """(code, indented name) of central and provincial agencies, in tree order, for the filter.

    Communes (about 3,300) are left out of the list: a select that long is unusable and made
    every list page load and sort them all. A commune is still filtered on by its code in the
    URL (the agency tree page links to it), and stays in the list while it is selected.
    """
    nodes = flatten(agency_tree(session, communes=False, keep=selected))
    return [(node.agency.code, _indented(node)) for node in nodes]


def agency_tree_with_counts(session: Session) -> list[AgencyNode]:
    """The tree with how many systems each agency manages, itself and with those below it."""
    owned = dict(
        session.execute(
            select(col(InformationSystem.owner_agency_id), func.count()).group_by(
                col(InformationSystem.owner_agency_id)
            )
        ).all()
    )
    roots = agency_tree(session)

    def total(node: AgencyNode) -> int:
        node.owned = owned.get(node.agency.id, 0)
        node.owned_below = node.owned + sum(total(child) for child in node.children)
        return node.owned_below

    for root in roots:
        total(root)
    return roots
