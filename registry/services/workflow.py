"""The lifecycle of a system as one explicit state machine.

draft → submitted → in_review → approved | changes_requested | rejected; changes_requested →
submitted again; approved → in_operation → retired. Submitters move their agency's proposals
(submit, withdraw, mark deployed, retire); reviewers of the standing office take proposals into
review and decide them. Anything else is refused here, whatever the entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import Role, SystemStatus
from registry.errors import ServiceError, StaleEditError, ValidationError
from registry.models import Decision, DuplicateWarning, InformationSystem, User
from registry.services import audit, notifications
from registry.services.consequences import follow_save, refresh_overlaps
from registry.services.locking import refused_if_stale
from registry.services.systems import SystemInput, required_fields, validate_system_input
from registry.text import clean_text

S = SystemStatus
MIN_REASON = 10
"""A decision's reason must say something: at least this many characters."""


class WorkflowError(ServiceError):
    """The transition is not possible from the system's current state."""

    def __init__(self, message: object):
        self.message = message
        super().__init__(str(message))


def _owner_side(actor: Actor, system: InformationSystem) -> bool:
    """The owning agency's submitters, administrators and the server's operators."""
    if actor.is_operator or actor.role == Role.ADMIN:
        return policy.allows(actor, policy.Permission.EDIT_SYSTEM)
    return policy.allows(actor, policy.Permission.EDIT_SYSTEM) and policy.of_agency(
        actor, system.owner_agency_id
    )


def _reviewer(actor: Actor, _system: InformationSystem) -> bool:
    return policy.allows(actor, policy.Permission.REVIEW)


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    label: object
    may: Callable[[Actor, InformationSystem], bool]
    decision: bool = False
    """Decisions of the standing office: a reason is mandatory and a Decision is recorded."""


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", S.DRAFT, S.SUBMITTED, _l("Submit for review"), _owner_side),
    Transition("submit", S.CHANGES_REQUESTED, S.SUBMITTED, _l("Resubmit for review"), _owner_side),
    Transition("withdraw", S.SUBMITTED, S.DRAFT, _l("Withdraw to draft"), _owner_side),
    Transition("withdraw", S.CHANGES_REQUESTED, S.DRAFT, _l("Withdraw to draft"), _owner_side),
    Transition("start_review", S.SUBMITTED, S.IN_REVIEW, _l("Take into review"), _reviewer),
    Transition("approve", S.IN_REVIEW, S.APPROVED, _l("Approve"), _reviewer, decision=True),
    Transition(
        "request_changes", S.IN_REVIEW, S.CHANGES_REQUESTED, _l("Request changes"), _reviewer, decision=True
    ),
    Transition("reject", S.IN_REVIEW, S.REJECTED, _l("Reject"), _reviewer, decision=True),
    Transition("deploy", S.APPROVED, S.IN_OPERATION, _l("Mark as in operation"), _owner_side),
    Transition("retire", S.IN_OPERATION, S.RETIRED, _l("Retire"), _owner_side),
)
ACTIONS = frozenset(t.action for t in TRANSITIONS)


def find_transition(system: InformationSystem, action: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and t.source == system.status), None)


def available(actor: Actor, system: InformationSystem, *, decisions: bool = False) -> list[Transition]:
    """What this person can do with the system now (buttons on its page; decisions on the review page)."""
    return [
        t
        for t in TRANSITIONS
        if t.source == system.status and t.decision == decisions and t.may(actor, system)
    ]


def review_requirements(status: str | None) -> frozenset[str]:
    """Fields not yet required at ``status`` that a submission from it will require.

    Empty when the record cannot be submitted from ``status`` (a new record is a draft).
    """
    status = status or S.DRAFT
    if not any(t.action == "submit" and t.source == status for t in TRANSITIONS):
        return frozenset()
    return required_fields(S.SUBMITTED) - required_fields(status)


def open_overlaps(session: Session, system: InformationSystem) -> list[DuplicateWarning]:
    return list(
        session.scalars(
            select(DuplicateWarning).where(
                (col(DuplicateWarning.system_a_id) == system.id)
                | (col(DuplicateWarning.system_b_id) == system.id),
                col(DuplicateWarning.relation) == "overlap",
                col(DuplicateWarning.disposition) == "open",
            )
        )
    )


def _check_submission(session: Session, system: InformationSystem) -> None:
    """A proposal goes to review complete, and justified when it overlaps existing systems."""
    data = SystemInput.from_system(system)
    data.status = S.SUBMITTED
    errors: dict[str, list[object]] = {}
    try:
        validate_system_input(session, data, system_id=system.id)
    except ValidationError as exc:
        errors.update(exc.errors)
    if open_overlaps(session, system) and not clean_text(system.overlap_justification):
        errors.setdefault("overlap_justification", []).append(
            _l("Similar systems are already registered: explain why they cannot be reused before submitting.")
        )
    if errors:
        raise ValidationError(errors)


def transition(
    session: Session,
    system: InformationSystem,
    action: str,
    *,
    actor: Actor,
    reason: str | None = None,
    reuse_code: str | None = None,
    expected_version: int | None = None,
) -> InformationSystem:
    """Move ``system`` by ``action``; refuse an illegal move with a message saying why.

    A submission first refreshes the proposal's duplication warnings, so it is judged against
    the portfolio as it is now, not as at its last save. Flushes; the caller commits.
    """
    step = find_transition(system, action)
    if step is None:
        raise WorkflowError(
            _l(
                "“%(action)s” is not possible for a system that is %(status)s.",
                action=action,
                status=SystemStatus(system.status).label
                if system.status in SystemStatus._value2member_map_
                else system.status,
            )
        )
    policy.ensure(step.may(actor, system))
    reason = clean_text(reason)
    reuse_id: int | None = None
    if step.decision:
        errors: dict[str, list[object]] = {}
        if not reason or len(reason) < MIN_REASON:
            errors["reason"] = [
                _l("Give the reason for the decision (at least %(n)s characters).", n=MIN_REASON)
            ]
        if reuse_code:
            reuse_id = session.scalar(
                select(col(InformationSystem.id)).where(
                    col(InformationSystem.code) == reuse_code.strip().upper()
                )
            )
            if reuse_id is None or reuse_id == system.id:
                errors["reuse_code"] = [_l("Name an existing system to reuse, by its public code.")]
        if errors:
            raise ValidationError(errors)
    if step.action == "submit":
        refresh_overlaps(session, [system.id])  # type: ignore[list-item]  # ids of saved rows are set; SQLModel types them optional
        _check_submission(session, system)
    if expected_version is not None and expected_version != system.version:
        raise StaleEditError(system.version, expected_version)

    before: dict[str, Any] = {"status": system.status, "version": system.version}
    system.status = step.target
    system.updated_at = datetime.now(UTC)
    with refused_if_stale(session, system, expected_version or before["version"]):
        session.flush()
    after: dict[str, object] = {"status": system.status, "version": system.version}
    if step.decision:
        session.add(
            Decision(
                system_id=system.id,  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
                reviewer_id=actor.user_id,
                reviewer_label=actor.label,
                outcome=step.action,
                reason=reason or "",
                reuse_system_id=reuse_id,
            )
        )
        after.update(reason=reason, reuse=reuse_code.strip().upper() if reuse_code and reuse_id else None)
    audit.record(
        session,
        actor,
        f"system.{step.action}",
        object_type="system",
        object_id=system.code,
        object_label=system.name,
        system_id=system.id,
        before=before,
        after=after,
    )
    follow_save(session, [system], actor=actor, overlaps_too=False)  # submit checked them above
    _notify(session, system, step, actor, reason)
    session.flush()
    return system


def _notify(
    session: Session, system: InformationSystem, step: Transition, actor: Actor, reason: str | None
) -> None:
    if step.action == "submit":
        reviewers = session.scalars(
            select(User).where(col(User.role) == Role.REVIEWER, col(User.is_active).is_(True))
        )
        notifications.notify(session, reviewers, "submitted", system, {"by": actor.label})
    elif step.decision or step.action == "start_review":
        submitters = session.scalars(
            select(User).where(
                col(User.role) == Role.SUBMITTER,
                col(User.agency_id) == system.owner_agency_id,
                col(User.is_active).is_(True),
            )
        )
        notifications.notify(session, submitters, step.action, system, {"by": actor.label, "reason": reason})


def decisions_of(session: Session, system_id: int) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(col(Decision.system_id) == system_id)
            .order_by(col(Decision.decided_at).desc())
        )
    )


DECISION_LABELS: dict[str, object] = {
    "approve": _l("Approved"),
    "request_changes": _l("Changes requested"),
    "reject": _l("Rejected"),
}


def decision_label(outcome: str) -> str:
    return str(DECISION_LABELS.get(outcome, outcome))


def codes_of(session: Session, system_ids: list[int]) -> dict[int, str]:
    if not system_ids:
        return {}
    rows = session.execute(
        select(col(InformationSystem.id), col(InformationSystem.code)).where(
            col(InformationSystem.id).in_(system_ids)
        )
    )
    return {row.id: row.code for row in rows}
