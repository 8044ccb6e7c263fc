"""Usage reports: the measured use and cost of a system over a period (measure, don't list)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Column
from sqlmodel import Field, SQLModel


class UsageReport(SQLModel, table=True):
    __tablename__ = "usage_report"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    period_start: date
    period_end: date
    active_users: int | None = Field(default=None, sa_column=Column(BigInteger))
    transactions: int | None = Field(default=None, sa_column=Column(BigInteger))
    cost_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    note: str | None = Field(default=None, max_length=500)
