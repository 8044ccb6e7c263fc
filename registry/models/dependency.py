"""Dependencies between systems: the edges of the portfolio's graph."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel


class Dependency(SQLModel, table=True):
    """``source`` depends on ``target`` in the way ``kind`` says (e.g. authenticates via VNeID)."""

    __tablename__ = "dependency"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind", name="uq_dependency_edge"),
        CheckConstraint("source_id <> target_id", name="not_self"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    target_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=500)
