"""Who in the standing office reviews which proposal: assigning, taking, handing back.

A proposal waiting in the queue is nobody's until a reviewer takes it or is given it; then the
queue shows whose desk it is on, and each reviewer can list their own ("mine") or what nobody
has yet ("unassigned"). Every change of hands is an audit event, so the trail answers "who
reviewed this, and since when" even after the row has moved on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import Role, SystemStatus
from registry.errors import ValidationError
from registry.models import InformationSystem, ReviewAssignment, User
from registry.services import audit

ASSIGNABLE_STATUSES = (SystemStatus.SUBMITTED, SystemStatus.IN_REVIEW)
"""Only proposals still waiting for a decision are put on someone's desk."""


def reviewers(session: Session) -> list[User]:
    """The active accounts that can review, by name: the choices for an assignment."""
    return list(
        session.scalars(
            select(User)
            .where(col(User.role) == Role.REVIEWER, col(User.is_active).is_(True))
            .order_by(col(User.full_name), col(User.username))
        ).unique()
    )


def assignee_of(session: Session, system_id: int) -> User | None:
    """The reviewer a proposal is assigned to, if any."""
    return session.scalar(
        select(User)
        .join(ReviewAssignment, col(ReviewAssignment.reviewer_id) == col(User.id))
        .where(col(ReviewAssignment.system_id) == system_id)
    )


def assign_reviewer(
    session: Session, system: InformationSystem, *, reviewer: str | None, actor: Actor
) -> User | None:
    """Put ``system`` on the desk of the reviewer with username ``reviewer``; ``None`` or ""
    hands it back to the queue. Returns the new assignee.

    Any member of the standing office may assign (the office shares out its own work, and a
    reviewer taking a proposal is the commonest case); only an active reviewer can receive.
    Assigning to the current assignee again changes and records nothing.
    """
    policy.ensure(policy.allows(actor, policy.Permission.REVIEW))
    if system.status not in ASSIGNABLE_STATUSES:
        raise ValidationError(
            {"reviewer": [_l("Only a proposal waiting for review can be assigned to a reviewer.")]}
        )
    username = (reviewer or "").strip()
    target: User | None = None
    if username:
        target = session.scalar(select(User).where(col(User.username) == username))
        if target is None or target.role != Role.REVIEWER or not target.is_active:
            raise ValidationError({"reviewer": [_l("Choose an active reviewer of the standing office.")]})
    current = session.get(ReviewAssignment, system.id)
    previous = session.get(User, current.reviewer_id) if current is not None else None
    if (previous.id if previous else None) == (target.id if target else None):
        return target
    if target is None:
        assert current is not None  # the two differ, so someone had it
        session.delete(current)
    elif current is None:
        session.add(
            ReviewAssignment(system_id=system.id, reviewer_id=target.id, assigned_by_label=actor.label)  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        )
    else:
        current.reviewer_id = target.id  # type: ignore[assignment]  # ids of saved rows are set
        current.assigned_by_label = actor.label
        current.assigned_at = datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        actor,
        "review.assign",
        object_type="system",
        object_id=system.code,
        object_label=system.name,
        system_id=system.id,
        before={"reviewer": previous.username if previous else None},
        after={"reviewer": target.username if target else None},
    )
    session.flush()
    return target
