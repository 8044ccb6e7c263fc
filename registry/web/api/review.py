"""The standing office's queue through the API, and who reviews which proposal."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import jsonify, request
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import ValidationError
from registry.filters import parse_queue_filter
from registry.models import User
from registry.services import assignments, review
from registry.web import access
from registry.web.access import current_actor
from registry.web.api import api_error, bp, invalid, json_object, load_system
from registry.web.api.openapi import operation


class QueueQuery(BaseModel):
    """The review queue page's filters, with the same names and values."""

    status: Literal["submitted", "in_review"] | None = None
    agency: str = Field("", max_length=40, description="Managing agency's code; agencies below it included.")
    capability: str = Field("", max_length=40, description="Capability code.")
    age: Literal["week", "month", "quarter", "older"] | None = Field(
        None,
        description="Waiting since the last submission: up to 7 days, 8–30, 31–90, more than 90.",
    )
    assignee: Literal["mine", "unassigned"] | None = Field(
        None, description="Assigned to the caller, or to nobody."
    )


class Reviewer(BaseModel):
    username: str
    full_name: str


class QueueEntry(BaseModel):
    code: str
    name: str
    agency: str = Field(description="Code of the managing agency.")
    status: str
    risk: int = Field(description="Risk index, 0–100: duplication up to 60, rules up to 25, cost up to 15.")
    risk_level: Literal["high", "medium", "low"] = Field(description="high from 50, medium from 25.")
    best_score: float = Field(description="Best open or confirmed duplication warning's score (0–1).")
    warnings: int = Field(description="Open or confirmed duplication warnings.")
    findings: dict[str, int] = Field(description="Unmet justification rules by severity.")
    estimated_cost_vnd: int | None
    waiting_since: datetime
    waiting_days: int
    reviewer: Reviewer | None


class QueueList(BaseModel):
    items: list[QueueEntry]
    counts: dict[str, int] = Field(description="Proposals by status under the other filters.")


class AssignmentWrite(BaseModel):
    reviewer: str | None = Field(
        description="Username of an active reviewer; null hands the proposal back to the queue.",
        examples=["thuongtruc"],
    )


class Assignment(BaseModel):
    code: str
    reviewer: Reviewer | None


def _reviewer(user: User | None) -> dict[str, str] | None:
    return {"username": user.username, "full_name": user.full_name} if user is not None else None


@bp.get("/review/queue")
@access.allow(Permission.REVIEW)
@operation("The review queue", tag="review", query=QueueQuery, responses={200: QueueList})
def review_queue() -> Response:
    """Proposals waiting for the standing office, riskiest first, with the queue page's filters.
    All of them: the queue holds only proposals submitted or in review."""
    parsed = parse_queue_filter(request.args)
    if parsed.problems:
        return api_error(400, "bad_request", " ".join(str(p) for p in parsed.problems))
    found = review.review_queue(get_session(), parsed.filter, user_id=current_actor().user_id)
    return jsonify(
        items=[
            {
                "code": item.system.code,
                "name": item.system.name,
                "agency": item.system.owner.code,
                "status": item.system.status,
                "risk": item.risk,
                "risk_level": item.risk_level,
                "best_score": round(item.best_score, 3),
                "warnings": item.open_warnings,
                "findings": dict(item.findings),
                "estimated_cost_vnd": item.system.estimated_cost_vnd,
                "waiting_since": item.waiting_since.isoformat(timespec="seconds")
                if item.waiting_since
                else None,
                "waiting_days": item.waiting_days,
                "reviewer": _reviewer(item.assignee),
            }
            for item in found.items
        ],
        counts=found.counts,
    )


@bp.put("/systems/<code>/reviewer")
@access.allow(Permission.REVIEW)
@operation(
    "Assign a proposal to a reviewer",
    tag="review",
    body=AssignmentWrite,
    responses={200: Assignment},
)
def system_assign(code: str) -> Response:
    """Put a proposal waiting for review on a reviewer's desk (send your own username to take
    it), or hand it back with null. Audited; assigning to the current reviewer changes nothing."""
    system = load_system(code)
    payload = json_object()
    reviewer = payload.get("reviewer")
    if reviewer is not None and not isinstance(reviewer, str):
        return api_error(
            422, "invalid", "Some fields are not valid.", {"reviewer": ["Send a username or null."]}
        )
    try:
        who = assignments.assign_reviewer(get_session(), system, reviewer=reviewer, actor=current_actor())
    except ValidationError as exc:
        return invalid(exc)
    return jsonify(code=system.code, reviewer=_reviewer(who))
