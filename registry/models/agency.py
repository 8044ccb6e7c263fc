"""Agencies: the central → province → commune tree that owns, operates and uses systems."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


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
