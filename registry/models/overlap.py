"""Duplication warnings: pairs of systems the engine found doing the same job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class DuplicateWarning(SQLModel, table=True):
    """One pair (``system_a_id`` < ``system_b_id``) with the score, its parts and the reasons.

    The engine's output is kept with ``detector_version`` so a later, better detector can be
    told apart from the one a reviewer's decision was based on. ``disposition`` stays ``open``
    until the standing office decides; a rescan updates the numbers but never the decision.
    """

    __tablename__ = "duplicate_warning"
    __table_args__ = (
        UniqueConstraint("system_a_id", "system_b_id", name="uq_duplicate_warning_pair"),
        CheckConstraint("system_a_id < system_b_id", name="ordered_pair"),
    )

    id: int | None = Field(default=None, primary_key=True)
    system_a_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    system_b_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    score: float = Field(index=True)
    relation: str = Field(default="overlap", max_length=16)
    components: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    detector_version: str = Field(max_length=20)
    disposition: str = Field(default="open", max_length=16, index=True)
    disposition_reason: str | None = Field(default=None, max_length=2000)
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_by_label: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    material_hash: str | None = Field(default=None, max_length=64)
    """Fingerprint of both systems' content when dismissed: a material change reopens the pair."""
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    version: int = Field(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:  # noqa: N805 - SQLAlchemy's declared_attr protocol
        return {"version_id_col": cls.__table__.c.version}
