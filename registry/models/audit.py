"""The append-only audit trail and the head of its hash chain."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class AuditEvent(SQLModel, table=True):
    """One write: who, when, what, on which object, the values before and after.

    ``hash`` is SHA-256 over ``prev_hash`` and a canonical form of every other column, so
    editing, deleting or reordering an event directly in the database breaks the chain at that
    point. ``actor_label`` keeps the username as it was, for accounts renamed later and for work
    done from the command line, which has no account.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        # Answers "what happened, by month" and "when was each proposal last submitted" from the
        # index alone: the dashboard reads a year of a national trail without touching its rows.
        Index("ix_audit_event_action_system_time", "action", "system_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    actor_label: str = Field(max_length=100)
    action: str = Field(max_length=40, index=True)
    object_type: str = Field(max_length=30)
    object_id: str = Field(max_length=40)
    object_label: str = Field(default="", max_length=200)
    system_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    request_id: str | None = Field(default=None, max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The single row holding the chain's last sequence number and hash.

    Appending locks this row (``UPDATE`` first), so concurrent writers on several web workers
    queue up and never fork the chain; it also records the tail, so removing the newest events
    is detected as long as this row is not rewritten to match.
    """

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
