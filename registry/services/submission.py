"""Saving a proposal's edit and sending it for review in one step.

A submitter completing a refused submission should not have to save, find the submit button
again and hope: the edit is saved exactly as any other save (:func:`update_system`), then the
workflow's own submit runs (:func:`workflow.transition`). When the submission is refused the
save still stands, and the caller learns which fields block it, so nothing typed is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from registry.auth.actor import Actor
from registry.errors import ValidationError
from registry.models import InformationSystem
from registry.services import workflow
from registry.services.systems import SystemInput, update_system


@dataclass
class SubmitOutcome:
    """What became of a save-and-submit: always saved; submitted, or blocked by these fields."""

    system: InformationSystem
    submitted: bool
    blockers: dict[str, list[object]] = field(default_factory=dict)
    refusal: object | None = None
    """Why the move itself is not possible (the record is no longer a draft, say)."""


def save_and_submit(
    session: Session,
    system: InformationSystem,
    data: SystemInput,
    *,
    actor: Actor,
    expected_version: int | None,
    reuse_of: str | None = None,
) -> SubmitOutcome:
    """Save ``data`` on ``system``, then submit it; flushes only, the caller commits once.

    A refused save (invalid input, stale version, no permission) raises as the save does, and
    nothing is written. A refused submission is not an error of the save: it is returned, with
    the fields that block it, and the saved edit is kept.
    """
    update_system(session, system, data, actor=actor, expected_version=expected_version, reuse_of=reuse_of)
    try:
        workflow.transition(session, system, "submit", actor=actor)
    except ValidationError as exc:
        return SubmitOutcome(system, submitted=False, blockers=dict(exc.errors))
    except workflow.WorkflowError as exc:
        return SubmitOutcome(system, submitted=False, refusal=exc.message)
    return SubmitOutcome(system, submitted=True)
