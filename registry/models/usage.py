"""Usage reports: the measured use and cost of a system over a period (measure, don't list)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


class UsageReport(SQLModel, table=True):
    """One system's figures for one period; filing the same period again corrects them.

    ``round_id`` names the reporting round the report was filed for, when one was open for the
    system's agency and period; ``filed_by_*`` say who filed (or last corrected) it.
    """

    __tablename__ = "usage_report"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period"),
        UniqueConstraint("system_id", "period_start", "period_end", name="uq_usage_report_system_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    period_start: date
    period_end: date
    active_users: int | None = Field(default=None, sa_column=Column(BigInteger))
    transactions: int | None = Field(default=None, sa_column=Column(BigInteger))
    cost_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    note: str | None = Field(default=None, max_length=500)
    round_id: int | None = Field(
        default=None, foreign_key="reporting_round.id", index=True, ondelete="SET NULL"
    )
    filed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    filed_by_label: str | None = Field(default=None, max_length=100)
    filed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
