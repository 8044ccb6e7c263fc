"""The standing office's work: a queue ordered by risk, warning dispositions, comparisons."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import Disposition, Severity, SystemStatus
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.models import DuplicateWarning, Finding, InformationSystem
from registry.services import audit
from registry.services.locking import refused_if_stale
from registry.services.overlaps import material_fingerprint
from registry.text import clean_text, fold

QUEUE_STATUSES = (SystemStatus.SUBMITTED, SystemStatus.IN_REVIEW)
MIN_REASON = 10
SEVERITY_WEIGHT: dict[str, float] = {Severity.HIGH: 3.0, Severity.MEDIUM: 1.5, Severity.LOW: 0.5}


@dataclass
class QueueItem:
    system: InformationSystem
    best_score: float
    open_warnings: int
    findings: Counter[str] = field(default_factory=Counter)
    risk: float = 0.0


def risk_of(best_score: float, findings: Counter[str], cost_vnd: int | None) -> float:
    """One number to sort the queue: likely duplication first, then unmet rules, then money.

    A warning score is a probability (0–1) and weighs most; each finding adds by severity; cost
    adds its order of magnitude above a million đồng, so a 50-billion project ranks above a
    50-million one with otherwise equal risk.
    """
    weight = sum(SEVERITY_WEIGHT.get(severity, 1.0) * n for severity, n in findings.items())
    money = math.log10(cost_vnd / 1e6) if cost_vnd and cost_vnd > 1e6 else 0.0
    return round(10 * best_score + weight + money, 3)


def review_queue(session: Session, status: str | None = None) -> tuple[list[QueueItem], dict[str, int]]:
    statuses = [status] if status in QUEUE_STATUSES else list(QUEUE_STATUSES)
    systems = list(
        session.scalars(select(InformationSystem).where(col(InformationSystem.status).in_(statuses))).unique()
    )
    ids = [s.id for s in systems]
    counts = dict(
        session.execute(
            select(col(InformationSystem.status), func.count())
            .where(col(InformationSystem.status).in_(QUEUE_STATUSES))
            .group_by(col(InformationSystem.status))
        ).all()
    )
    best: dict[int, tuple[float, int]] = {}
    findings: dict[int, Counter[str]] = {i: Counter() for i in ids}  # type: ignore[misc]  # ids of saved rows are set; SQLModel types them optional
    if ids:
        for w in session.scalars(
            select(DuplicateWarning).where(
                or_(col(DuplicateWarning.system_a_id).in_(ids), col(DuplicateWarning.system_b_id).in_(ids)),
                col(DuplicateWarning.relation) == "overlap",
                col(DuplicateWarning.disposition).in_([Disposition.OPEN, Disposition.CONFIRMED]),
            )
        ):
            for side in (w.system_a_id, w.system_b_id):
                if side in findings:
                    score, n = best.get(side, (0.0, 0))
                    best[side] = (max(score, w.score), n + 1)
        for system_id, severity in session.execute(
            select(col(Finding.system_id), col(Finding.severity)).where(col(Finding.system_id).in_(ids))
        ):
            findings[system_id][severity] += 1
    items = []
    for system in systems:
        score, n = best.get(system.id, (0.0, 0))  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        counter = findings[system.id]  # type: ignore[index]  # ids of saved rows are set; SQLModel types them optional
        items.append(QueueItem(system, score, n, counter, risk_of(score, counter, system.estimated_cost_vnd)))
    items.sort(key=lambda item: (-item.risk, item.system.updated_at))
    return items, {str(k): v for k, v in counts.items()}


def dispose_warning(
    session: Session,
    warning_id: int,
    *,
    disposition: str,
    reason: str | None,
    actor: Actor,
    expected_version: int | None,
) -> DuplicateWarning:
    """Record the standing office's judgement of one warning, with its mandatory reason."""
    policy.ensure(policy.allows(actor, policy.Permission.REVIEW))
    warning = session.get(DuplicateWarning, warning_id)
    if warning is None:
        raise NotFoundError(str(warning_id))
    reason = clean_text(reason)
    errors: dict[str, list[object]] = {}
    if disposition not in Disposition._value2member_map_ or disposition == Disposition.OPEN:
        errors["disposition"] = [_l("Choose: confirmed duplicate, justified overlap or false positive.")]
    if not reason or len(reason) < MIN_REASON:
        errors["reason"] = [_l("Give the reason for the decision (at least %(n)s characters).", n=MIN_REASON)]
    if errors:
        raise ValidationError(errors)
    if expected_version != warning.version:
        raise StaleEditError(warning.version, expected_version)
    before = {"disposition": warning.disposition, "reason": warning.disposition_reason}
    warning.disposition = disposition
    warning.disposition_reason = reason
    warning.decided_by_id = actor.user_id
    warning.decided_by_label = actor.label
    warning.decided_at = datetime.now(UTC)
    warning.material_hash = (
        material_fingerprint(session, warning.system_a_id, warning.system_b_id)
        if disposition == Disposition.DISMISSED
        else None
    )
    with refused_if_stale(session, warning, expected_version):
        session.flush()
    codes = dict(
        session.execute(
            select(col(InformationSystem.id), col(InformationSystem.code)).where(
                col(InformationSystem.id).in_([warning.system_a_id, warning.system_b_id])
            )
        ).all()
    )
    audit.record(
        session,
        actor,
        "warning.dispose",
        object_type="warning",
        object_id=warning.id,
        object_label=f"{codes.get(warning.system_a_id)} ~ {codes.get(warning.system_b_id)}",
        before=before,
        after={"disposition": disposition, "reason": reason, "score": round(warning.score, 3)},
    )
    session.flush()
    return warning


SIGNAL_LABELS: dict[str, object] = {
    "name": _l("Names"),
    "word": _l("Words of the descriptions"),
    "plain": _l("Descriptions without tone marks"),
    "capabilities": _l("Capabilities"),
    "data_domains": _l("Data domains"),
    "users": _l("User agencies"),
    "neighbourhood": _l("Dependencies"),
    "level": _l("Scope level"),
}


def signal_rows(components: dict[str, object]) -> list[tuple[str, float | None]]:
    """The score's components as (label, similarity or None when a side did not declare it)."""
    rows = []
    for key, label in SIGNAL_LABELS.items():
        if key in components:
            value = components[key]
            rows.append((str(label), float(value) if isinstance(value, int | float) else None))
    return rows


def shared_terms(reasons: list[dict[str, object]]) -> list[str]:
    """The words and phrases the detector found in both systems, for highlighting."""
    terms: list[str] = []
    for reason in reasons:
        for key in ("terms", "shared_terms"):
            value = reason.get(key)
            if isinstance(value, list):
                terms.extend(str(t) for t in value if str(t).strip())
    return sorted(set(terms), key=len, reverse=True)


WORD = re.compile(r"\w+")


def highlight_spans(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_shared) runs: words of the shared terms, marked.

    The detector's terms are phrases of the normalised text (place names and generic words
    removed), which may not occur verbatim in one field; their words do. Words match without
    tone marks or case, and the spaces between two marked words are marked too, so phrases
    read as one highlight.
    """
    if not text or not terms:
        return [(text or "", False)]
    term_words = [word.lower() for term in terms for word in WORD.findall(term)]
    exact = set(term_words)
    # Words typed without tone marks match any accented form; accented ones only themselves
    # ("sơ" must not light up "số").
    unaccented = {word for word in term_words if fold(word) == word}
    marks = [False] * len(text)
    words = list(WORD.finditer(text))
    for word in words:
        if word.group().lower() in exact or fold(word.group()) in unaccented:
            marks[word.start() : word.end()] = [True] * (word.end() - word.start())
    for left, right in zip(words, words[1:], strict=False):
        if marks[left.start()] and marks[right.start()] and not text[left.end() : right.start()].strip():
            marks[left.end() : right.start()] = [True] * (right.start() - left.end())
    spans: list[tuple[str, bool]] = []
    for ch, mark in zip(text, marks, strict=True):
        if spans and spans[-1][1] == mark:
            spans[-1] = (spans[-1][0] + ch, mark)
        else:
            spans.append((ch, mark))
    return spans
