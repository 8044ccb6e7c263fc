"""Background jobs: long work (a portfolio scan) started from a page or the API, run by a worker.

The row is the job's public face: the page and the API read progress, counts and the outcome
from it, so a user can leave and come back, and any web worker can answer. The queue only
carries the job's id (:mod:`registry.jobs`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class Job(SQLModel, table=True):
    """One run of a kind of work, from queued to succeeded, failed or cancelled.

    ``active_key`` holds the dedupe key while the job is queued or running and is emptied when
    it ends: its unique index lets only one scan of the portfolio be under way at a time, even
    when two people press the button in the same second.
    """

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    state: str = Field(default="queued", max_length=16, index=True)
    dedupe_key: str = Field(max_length=100)
    active_key: str | None = Field(default=None, max_length=100, unique=True, index=True)
    started_by_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    started_by_label: str = Field(max_length=100)
    step: str = Field(default="", max_length=40)
    """The phase under way (a scan compares, then checks the rules); progress counts within it."""
    done: int = 0
    total: int = 0
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """What this run works on (an import's upload and the fingerprint of its preview)."""
    counts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, max_length=1000)
    cancel_requested: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
