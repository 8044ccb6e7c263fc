"""The figures each row of the systems list shows beside the name: open findings, best score.

Read for one page of systems at a time (two grouped queries over their ids), so the list costs
the same whatever the portfolio's size. The same definitions sort the list by these columns
(:func:`registry.filters.open_findings_count`, :func:`registry.filters.best_warning_score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlmodel import Session, col

from registry.filters import STANDING_DISPOSITIONS
from registry.models import DuplicateWarning, Finding


@dataclass(frozen=True)
class RowFigures:
    open_findings: int = 0
    best_score: float | None = None
    """None when no duplication warning stands against the system."""


def row_figures(session: Session, ids: Sequence[int]) -> dict[int, RowFigures]:
    """Every id of ``ids`` with its figures (zero findings and no score when it has none)."""
    if not ids:
        return {}
    findings = dict(
        session.execute(
            select(col(Finding.system_id), func.count())
            .where(col(Finding.system_id).in_(ids))
            .group_by(col(Finding.system_id))
        ).all()
    )
    standing = (
        col(DuplicateWarning.relation) == "overlap",
        col(DuplicateWarning.disposition).in_(STANDING_DISPOSITIONS),
    )
    sides = union_all(
        select(col(DuplicateWarning.system_a_id).label("system_id"), col(DuplicateWarning.score)).where(
            col(DuplicateWarning.system_a_id).in_(ids), *standing
        ),
        select(col(DuplicateWarning.system_b_id).label("system_id"), col(DuplicateWarning.score)).where(
            col(DuplicateWarning.system_b_id).in_(ids), *standing
        ),
    ).subquery()
    scores = dict(
        session.execute(select(sides.c.system_id, func.max(sides.c.score)).group_by(sides.c.system_id)).all()
    )
    return {i: RowFigures(int(findings.get(i, 0)), scores.get(i)) for i in ids}
