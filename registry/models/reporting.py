"""Reporting rounds: the standing office asks agencies to attest their inventory and file usage.

A round covers a period (whose usage is asked for), has a deadline and a list of agencies, each
with its own progress (:class:`RoundAgency`). An agency attests each system it manages with a
:class:`SystemAttestation`: "this record is still true" (confirmed) or "it was wrong, and I
corrected it" (corrected). Attestations outside a round are possible too (``round_id`` empty).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class ReportingRound(SQLModel, table=True):
    __tablename__ = "reporting_round"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    period_start: date
    period_end: date
    deadline: date
    status: str = Field(default="open", max_length=16, index=True)
    opened_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    opened_by_label: str = Field(max_length=100)
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class RoundAgency(SQLModel, table=True):
    """An agency a round covers, with when it completed its part and when it was last reminded.

    ``deadline`` is an extension the standing office granted this agency; empty, the round's
    deadline applies.
    """

    __tablename__ = "round_agency"
    __table_args__ = (UniqueConstraint("round_id", "agency_id", name="uq_round_agency_round_agency"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="reporting_round.id", index=True, ondelete="CASCADE")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    deadline: date | None = None
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_reminded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reminder_count: int = Field(default=0)


class SystemAttestation(SQLModel, table=True):
    """An agency's statement that a system's record is true (``confirmed``) or was corrected."""

    __tablename__ = "system_attestation"
    __table_args__ = (Index("ix_system_attestation_system_latest", "system_id", "attested_at"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="information_system.id", ondelete="CASCADE")
    round_id: int | None = Field(
        default=None, foreign_key="reporting_round.id", index=True, ondelete="CASCADE"
    )
    agency_id: int = Field(foreign_key="agency.id")
    attested_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    attested_by_label: str = Field(max_length=100)
    attested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    outcome: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=500)
