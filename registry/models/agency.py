"""Agencies: the central → province → commune tree that owns, operates and uses systems."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlmodel import Field, Session, SQLModel


class Agency(SQLModel, table=True):
    """A managing, operating or user agency.

    ``parent_id`` builds the tree (a commune's Party committee under its province's); ``level``
    is stored rather than derived because central agencies also nest (a department under the
    Central Office) without changing level.
    """

    __tablename__ = "agency"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    level: str = Field(max_length=16, index=True)
    block: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="agency.id", index=True)


def subtree_ids(session: Session, agency_id: int) -> set[int]:
    """``agency_id`` and every agency below it.

    Reads only (id, parent_id) pairs: a few thousand agencies cost about a millisecond, far
    less than keeping a materialised path consistent through every re-parenting.
    """
    children: dict[int | None, list[int]] = defaultdict(list)
    for child_id, parent_id in session.execute(select(Agency.id, Agency.parent_id)):
        children[parent_id].append(child_id)
    found = {agency_id}
    stack = [agency_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found
