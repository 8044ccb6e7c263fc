"""What the review of a proposal produces: rule findings, decisions, notifications, an outbox."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class Finding(SQLModel, table=True):
    """A justification rule (R1–R10) that a system currently fails.

    Findings are recomputed on submit, on edit and by the portfolio scan; a rule that passes
    again removes its finding. ``details`` carries what the message names (e.g. the central
    platform a local system duplicates), so it can be shown in either language.
    """

    __tablename__ = "finding"
    __table_args__ = (UniqueConstraint("system_id", "rule_code", name="uq_finding_system_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    rule_code: str = Field(max_length=8, index=True)
    severity: str = Field(max_length=16)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    detected_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ReviewAssignment(SQLModel, table=True):
    """The reviewer of the standing office who has a proposal on their desk.

    One row per proposal at most, kept apart from the system's own row so that assigning never
    bumps the system's version under an agency's open edit form. Unassigning deletes the row;
    the audit trail keeps every hand it went through.
    """

    __tablename__ = "review_assignment"

    system_id: int = Field(foreign_key="information_system.id", primary_key=True, ondelete="CASCADE")
    reviewer_id: int = Field(foreign_key="app_user.id", index=True)
    assigned_by_label: str = Field(max_length=100)
    assigned_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Decision(SQLModel, table=True):
    """The standing office's decision on a proposal, with its mandatory reason."""

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="information_system.id", index=True, ondelete="CASCADE")
    reviewer_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewer_label: str = Field(max_length=100)
    outcome: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    reuse_system_id: int | None = Field(default=None, foreign_key="information_system.id")
    decided_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )


class Notification(SQLModel, table=True):
    """An in-app message to one account: a decision on their proposal, a new submission."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=30)
    system_id: int | None = Field(default=None, foreign_key="information_system.id", ondelete="CASCADE")
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    read_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class OutboxMessage(SQLModel, table=True):
    """An e-mail waiting to be sent; written with the notification, sent by a later worker.

    Keeping it in the same transaction as the change means no message is lost or sent for a
    change that was rolled back, whenever e-mail delivery is added.
    """

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), index=True))
