"""The portfolio scan as a background job: what ``flask scan`` does, step by step, cancellable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from registry.auth.actor import Actor
from registry.choices import JobStep
from registry.services.findings import refresh_portfolio
from registry.services.jobs import Progress
from registry.services.overlaps import scan_portfolio


def run_scan(
    engine: Engine, progress: Progress, actor: Actor, _params: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    """Compare every system and store the warnings, then check the rules R1–R10.

    The comparison commits as a whole (cancelled, it stores nothing); the rules commit batch
    by batch as :func:`refresh_portfolio` does for the command line, so a cancel there leaves
    each system's findings either refreshed or as they were, never half written.
    """
    with Session(engine, expire_on_commit=False) as session:
        progress.begin(JobStep.COMPARE)
        report = scan_portfolio(session, progress=progress, actor=actor)
        progress.check()
        session.commit()
    with Session(engine, expire_on_commit=False) as session:
        progress.begin(JobStep.RULES)
        findings = refresh_portfolio(session, progress=progress)
        session.commit()
    return {
        "systems": report.systems,
        "pairs": report.pairs,
        "created": report.created,
        "updated": report.updated,
        "removed": report.removed,
        "findings": findings,
    }
