"""The portfolio's findings and decision log as the REST API lists them, a page at a time.

Auditors and the standing office read every system's rule violations and every decision in one
list rather than system by system. Findings are described by the code that describes them on a
system's page (:func:`registry.services.findings.describe`); decisions are the export's decision
log (:mod:`registry.exports.records`), with its filters and its restriction of submitters to
their own agency's rows, so the list and the download never disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.exports import records
from registry.filters import agency_subtree
from registry.models import Agency, Finding, InformationSystem
from registry.rules import RULES
from registry.services.api_records import iso
from registry.services.findings import SEVERITY_ORDER, FindingView, capability_names, describe
from registry.services.workflow import decision_label

CATALOGUE = {rule.code: rule for rule in RULES}
RULE_ORDER = {code: n for n, code in enumerate(CATALOGUE)}
"""R1…R10 in the catalogue's order: as text, R10 would sort before R2."""


@dataclass
class ListPage:
    """One page of items, ready for JSON, and how many match in all."""

    items: list[dict[str, Any]]
    total: int


def finding_item(view: FindingView) -> dict[str, Any]:
    """A finding as the API shows it, on its own system or in the portfolio's list."""
    return {
        "rule": view.rule.code,
        "severity": view.severity,
        "title": view.title,
        "message": view.message,
        "details": view.details,
    }


def decision_item(
    outcome: str, reason: str, reviewer: str, reuse_system: str | None, decided_at: datetime | str | None
) -> dict[str, Any]:
    """A decision as the API shows it, on its system or in the portfolio's log."""
    return {
        "outcome": outcome,
        "outcome_label": decision_label(outcome),
        "reason": reason,
        "reviewer": reviewer,
        "reuse_system": reuse_system,
        "decided_at": iso(decided_at),
    }


def list_findings(
    session: Session,
    *,
    rule: str | None = None,
    severity: str | None = None,
    agency: str = "",
    statuses: Collection[str] = (),
    locale: str,
    page: int,
    per_page: int,
) -> ListPage:
    """Stored findings, most severe first, then by system code and rule.

    ``agency`` is an owner agency code, its sub-agencies included (as the systems list reads
    it); ``statuses`` are the systems' statuses. Title and message are in ``locale``.
    """
    # A code no longer in the catalogue cannot be described: it is neither listed nor counted.
    conditions: list[Any] = [col(Finding.rule_code).in_(list(CATALOGUE))]
    if rule:
        conditions.append(col(Finding.rule_code) == rule)
    if severity:
        conditions.append(col(Finding.severity) == severity)
    if statuses:
        conditions.append(col(InformationSystem.status).in_(list(statuses)))
    if agency:
        conditions.append(col(InformationSystem.owner_agency_id).in_(agency_subtree(session, agency)))
    system = col(InformationSystem.id) == col(Finding.system_id)
    total = session.scalar(
        select(func.count()).select_from(Finding).join(InformationSystem, system).where(*conditions)
    )
    severities = {str(level): n for level, n in SEVERITY_ORDER.items()}
    rows = session.execute(
        select(Finding, col(InformationSystem.code), col(InformationSystem.name), col(Agency.code))
        .join(InformationSystem, system)
        .outerjoin(Agency, col(Agency.id) == col(InformationSystem.owner_agency_id))
        .where(*conditions)
        .order_by(
            case(severities, value=col(Finding.severity), else_=len(severities)),
            col(InformationSystem.code),
            case(RULE_ORDER, value=col(Finding.rule_code)),
            col(Finding.id),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    names = capability_names(session, locale) if rows else {}
    items = [
        {
            "system": code,
            "system_name": name,
            "owner_agency": owner,
            **finding_item(describe(CATALOGUE[finding.rule_code], finding.details, names)),
            "detected_at": iso(finding.detected_at),
        }
        for finding, code, name, owner in rows
    ]
    return ListPage(items, total or 0)


def list_decisions(
    session: Session,
    actor: Actor,
    *,
    since: date | None = None,
    until: date | None = None,
    outcomes: Collection[str] = (),
    agency: str = "",
    page: int,
    per_page: int,
) -> ListPage:
    """The decision log, latest first: the export's rows and filters, one page at a time.

    Every reader sees every decision, as in the export
    (:func:`registry.auth.policy.may_read_review_outcomes`); ``agency`` (an owner agency code,
    its sub-agencies included) narrows the log.
    """
    policy.ensure(policy.may_read_review_outcomes(actor))
    flt = records.RecordFilter(
        since=since,
        until=until,
        statuses=list(outcomes),
        owner_ids=tuple(agency_subtree(session, agency)) if agency else None,
    )
    rows = records.latest_decisions(session, flt, offset=(page - 1) * per_page, limit=per_page)
    items = [
        {
            "system": row["system_code"],
            "system_name": row["system_name"],
            "owner_agency": row["owner_agency"],
            **decision_item(
                row["action"], row["reason"], row["decided_by"], row["reuse_code"], row["decided_at"]
            ),
        }
        for row in rows
    ]
    return ListPage(items, records.count_decisions(session, flt))
