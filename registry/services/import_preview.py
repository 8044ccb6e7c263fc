"""What an import's preview shows, as one summary: made by the page for a small file, kept
by a job for a large one.

Planning 100,000 rows against the registry takes a minute on a quiet server and several on a
busy one: past any proxy's or gunicorn's timeout if the preview page did it. Above
``IMPORT_CHECK_JOB_THRESHOLD`` rows the upload queues a check job, which plans the file and
keeps this summary on the upload; smaller files are planned by the page itself. Either way
the page renders a summary, so it reads the same.

A kept summary says what the registry looked like when it was made. The commit plans again
and refuses if anything changed (its fingerprint differs); the refusal clears the summary,
so the next visit checks again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from registry.interchange.source import keep_message, kept_message
from registry.services.import_plan import Action, ImportPlan

LISTED = 200
"""Rows listed by kind, and overlaps, on the preview; the counts always cover the whole file."""
PROBLEMS_LISTED = 500
AGENCIES_LISTED = 20


@dataclass
class PreviewSummary:
    """The counts, the first problems, rows and overlaps, and the fingerprint to commit."""

    fingerprint: str
    counts: dict[str, int]
    writes: bool
    default_owner: str | None = None
    default_owner_name: str | None = None
    defaulted: int = 0
    new_agencies: list[dict[str, str]] = field(default_factory=list)
    new_agencies_total: int = 0
    problems: list[tuple[object, str, object]] = field(default_factory=list)
    """``(where, column, message)``, translated when shown."""
    problems_total: int = 0
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    overlaps_checked: int = 0
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """By action (create, update): location, code, name, owner_agency, changed."""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    kept: bool = False
    """Made by the check job and kept on the upload (the page then says when)."""

    def count(self, action: str) -> int:
        return self.counts.get(action, 0)

    @classmethod
    def of(cls, plan: ImportPlan) -> PreviewSummary:
        counts: Counter[str] = plan.counts
        problems = plan.problems()
        listed: dict[str, list[dict[str, Any]]] = {Action.CREATE: [], Action.UPDATE: []}
        for row in plan.rows:
            shown = listed.get(row.action)
            if shown is not None and len(shown) < LISTED:
                shown.append(
                    {
                        "location": row.location,
                        "code": row.code,
                        "name": row.name,
                        "owner_agency": row.owner_agency,
                        "changed": [str(name) for name in row.changed],
                    }
                )
        return cls(
            fingerprint=plan.fingerprint(),
            counts={str(action): int(n) for action, n in counts.items()},
            writes=plan.writes,
            default_owner=plan.default_owner,
            default_owner_name=plan.default_owner_name,
            defaulted=plan.defaulted,
            new_agencies=[{"code": a.code, "name": a.name} for a in plan.new_agencies[:AGENCIES_LISTED]],
            new_agencies_total=len(plan.new_agencies),
            problems=list(problems[:PROBLEMS_LISTED]),
            problems_total=len(problems),
            overlaps=[asdict(overlap) for overlap in plan.overlaps[:LISTED]],
            overlaps_checked=plan.overlaps_checked,
            rows=listed,
        )

    def keep(self) -> dict[str, Any]:
        """As JSON for the upload's ``preview`` column; messages and row locations ("row 5")
        stay translatable."""
        kept = {f.name: getattr(self, f.name) for f in fields(self)}
        kept["problems"] = [
            [keep_message(where), column, keep_message(text)] for where, column, text in self.problems
        ]
        kept["overlaps"] = [_located(overlap, keep_message) for overlap in self.overlaps]
        kept["rows"] = {
            action: [_located(row, keep_message) for row in rows] for action, rows in self.rows.items()
        }
        kept["checked_at"] = self.checked_at.isoformat()
        kept["kept"] = True
        return kept

    @classmethod
    def from_kept(cls, kept: dict[str, Any]) -> PreviewSummary:
        values = dict(kept)
        values["problems"] = [
            (kept_message(where), column, kept_message(text)) for where, column, text in kept["problems"]
        ]
        values["overlaps"] = [_located(overlap, kept_message) for overlap in kept["overlaps"]]
        values["rows"] = {
            action: [_located(row, kept_message) for row in rows] for action, rows in kept["rows"].items()
        }
        values["checked_at"] = datetime.fromisoformat(kept["checked_at"])
        return cls(**values)


def _located(entry: dict[str, Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    return {**entry, "location": convert(entry["location"])}
