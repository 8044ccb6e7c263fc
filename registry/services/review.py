"""The standing office's work: a queue ordered by risk, warning dispositions, comparisons."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import Disposition, Severity
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.filters import QUEUE_STATUSES, QueueFilter, in_age_band, queue_conditions
from registry.models import AuditEvent, DuplicateWarning, Finding, InformationSystem, ReviewAssignment, User
from registry.services import audit
from registry.services.locking import refused_if_stale
from registry.services.overlaps import material_fingerprint
from registry.text import clean_text, fold
from similarity.terms import meaningful_terms

MIN_REASON = 10
SEVERITY_WEIGHT: dict[str, float] = {Severity.HIGH: 3.0, Severity.MEDIUM: 1.5, Severity.LOW: 0.5}

RISK_DUPLICATION = 60
"""Points of the 0–100 risk index for the best open or confirmed warning (its score × 60)."""
RISK_FINDINGS = 25
"""Points for unmet justification rules: high 3, medium 1.5, low 0.5 each, full at 10."""
FINDINGS_FULL = 10.0
RISK_COST = 15
"""Points for the estimated cost: from 0 at one million đồng to full at 100 billion (log scale)."""
COST_FULL_DECADES = 5.0
RISK_LEVELS: tuple[tuple[str, int], ...] = ((Severity.HIGH, 50), (Severity.MEDIUM, 25), (Severity.LOW, 0))
"""The level a reviewer reads first, by lower bound of the index."""


@dataclass
class QueueItem:
    system: InformationSystem
    best_score: float
    open_warnings: int
    findings: Counter[str] = field(default_factory=Counter)
    risk: int = 0
    waiting_since: datetime | None = None
    waiting_days: int = 0
    assignee: User | None = None

    @property
    def risk_level(self) -> str:
        return risk_level(self.risk)


def risk_of(best_score: float, findings: Counter[str], cost_vnd: int | None) -> int:
    """A 0–100 index to sort the queue: likely duplication first, then unmet rules, then money.

    A warning score is a probability (0–1) and gives up to 60 points; findings give up to 25 by
    severity; cost gives up to 15 by its order of magnitude above a million đồng, so a
    50-billion project ranks above a 50-million one with otherwise equal risk. The parts are
    capped so the index reads the same on every portfolio (a legend on the queue says so).
    """
    weight = sum(SEVERITY_WEIGHT.get(severity, 1.0) * n for severity, n in findings.items())
    decades = math.log10(cost_vnd / 1e6) if cost_vnd and cost_vnd > 1e6 else 0.0
    index = (
        RISK_DUPLICATION * min(max(best_score, 0.0), 1.0)
        + RISK_FINDINGS * min(weight, FINDINGS_FULL) / FINDINGS_FULL
        + RISK_COST * min(decades, COST_FULL_DECADES) / COST_FULL_DECADES
    )
    return round(index)


def risk_level(risk: int) -> str:
    return next(level for level, low in RISK_LEVELS if risk >= low)


IN_CHUNK = 5_000
"""Ids per ``IN (…)`` list, well under every database's limit on bound parameters."""
QUEUE_PAGE_SIZE = 50
"""Proposals on one page of the queue; a ministry's backlog can hold thousands."""


@dataclass
class Queue:
    items: list[QueueItem]
    """The page's proposals (all of them when no page was asked for), riskiest first."""
    counts: dict[str, int]
    """Proposals by status under the other filters, for the status tabs."""
    total: int = 0
    """Proposals in the queue under every filter, on all pages."""
    page: int = 1
    pages: int = 1


@dataclass(frozen=True)
class _Waiting:
    id: int
    status: str
    updated_at: datetime
    cost_vnd: int | None
    since: datetime
    days: int


def review_queue(
    session: Session,
    flt: QueueFilter | None = None,
    *,
    user_id: int | None = None,
    today: date | None = None,
    page: int | None = None,
    per_page: int | None = None,
) -> Queue:
    """The proposals waiting for the standing office that match ``flt``, riskiest first.

    ``user_id`` is the reader, for the "mine" filter. How long a proposal has waited counts
    from its last submission in the audit trail (from its last change when it has none, as on
    the dashboard), so a proposal sent back and resubmitted starts again.

    Ranking needs every waiting proposal's risk, so it reads a few columns of each; only the
    asked ``page`` (every proposal if ``None``, as the API lists them) is loaded whole.
    """
    flt = flt or QueueFilter()
    today = today or datetime.now(UTC).date()
    last_submit = (
        select(col(AuditEvent.system_id).label("id"), func.max(col(AuditEvent.occurred_at)).label("at"))
        .where(col(AuditEvent.action) == "system.submit")
        .group_by(col(AuditEvent.system_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(InformationSystem.id),
            col(InformationSystem.status),
            col(InformationSystem.updated_at),
            col(InformationSystem.estimated_cost_vnd),
            last_submit.c.at,
        )
        .outerjoin(last_submit, last_submit.c.id == col(InformationSystem.id))
        .where(col(InformationSystem.status).in_(QUEUE_STATUSES), *queue_conditions(session, flt, user_id))
    )
    waiting: list[_Waiting] = []
    for system_id, status, updated_at, cost, submitted_at in rows:
        since = _aware(submitted_at or updated_at)
        days = max(0, (today - since.date()).days)
        if flt.age and not in_age_band(days, flt.age):
            continue
        waiting.append(_Waiting(system_id, str(status), _aware(updated_at), cost, since, days))
    counts = dict(Counter(w.status for w in waiting))
    if flt.status:
        waiting = [w for w in waiting if w.status == flt.status]
    ids = [w.id for w in waiting]
    best = _best_warnings(session, ids)
    findings = _findings_by_severity(session, ids)
    top = {w.id: best.get(w.id, (0.0, 0)) for w in waiting}
    risk = {w.id: risk_of(top[w.id][0], findings[w.id], w.cost_vnd) for w in waiting}
    ranked = sorted(waiting, key=lambda w: (-risk[w.id], -top[w.id][0], w.updated_at))
    per_page = per_page or QUEUE_PAGE_SIZE
    pages = max(1, -(-len(ranked) // per_page))
    number = min(max(page or 1, 1), pages)
    shown = ranked if page is None else ranked[(number - 1) * per_page : number * per_page]
    systems = _whole(session, [w.id for w in shown])
    assignees = _assignees(session, [w.id for w in shown])
    items = []
    for w in shown:
        score, n = top[w.id]
        items.append(
            QueueItem(
                systems[w.id], score, n, findings[w.id], risk[w.id], w.since, w.days, assignees.get(w.id)
            )
        )
    return Queue(items, counts, total=len(ranked), page=number, pages=pages)


def _in_chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


def _best_warnings(session: Session, ids: list[int]) -> dict[int, tuple[float, int]]:
    """Per proposal: the best score among its open or confirmed overlap warnings, and how many."""
    wanted = set(ids)
    best: dict[int, tuple[float, int]] = {}
    for chunk in _in_chunks(ids):
        for a, b, score in session.execute(
            select(
                col(DuplicateWarning.system_a_id),
                col(DuplicateWarning.system_b_id),
                col(DuplicateWarning.score),
            ).where(
                or_(
                    col(DuplicateWarning.system_a_id).in_(chunk), col(DuplicateWarning.system_b_id).in_(chunk)
                ),
                col(DuplicateWarning.relation) == "overlap",
                col(DuplicateWarning.disposition).in_([Disposition.OPEN, Disposition.CONFIRMED]),
            )
        ):
            for side in {a, b} & wanted:
                top, n = best.get(side, (0.0, 0))
                best[side] = (max(top, score), n + 1)
    return best


def _findings_by_severity(session: Session, ids: list[int]) -> dict[int, Counter[str]]:
    findings: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for chunk in _in_chunks(ids):
        for system_id, severity in session.execute(
            select(col(Finding.system_id), col(Finding.severity)).where(col(Finding.system_id).in_(chunk))
        ):
            findings[system_id][severity] += 1
    return findings


def _whole(session: Session, ids: list[int]) -> dict[int, InformationSystem]:
    found: dict[int, InformationSystem] = {}
    for chunk in _in_chunks(ids):
        for system in session.scalars(select(InformationSystem).where(col(InformationSystem.id).in_(chunk))):
            found[system.id] = system  # type: ignore[index]  # ids of saved rows are set
    return found


def _assignees(session: Session, ids: list[int]) -> dict[int, User]:
    assignees: dict[int, User] = {}
    for chunk in _in_chunks(ids):
        for system_id, user in session.execute(
            select(col(ReviewAssignment.system_id), User)
            .join(User, col(User.id) == col(ReviewAssignment.reviewer_id))
            .where(col(ReviewAssignment.system_id).in_(chunk))
        ).unique():
            assignees[system_id] = user
    return assignees


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive times; every time stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def people_named(session: Session, user_ids: list[int | None]) -> dict[int, str]:
    """Full names of the accounts that decided, for pages a person reads (the audit trail and the
    stored label keep the username, which does not change when a name is corrected)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(col(User.id), col(User.full_name)).where(col(User.id).in_(ids))).all())


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
    """The meaningful words and phrases the detector found in both systems, for highlighting.

    Lone function words, bound syllables and numbers are left out (warnings stored before
    the engine dropped them still carry some): "công" or "126" lit up everywhere says nothing.
    """
    terms: list[str] = []
    for reason in reasons:
        for key in ("terms", "shared_terms"):
            value = reason.get(key)
            if isinstance(value, list):
                terms.extend(str(t) for t in value)
    return sorted(meaningful_terms(terms), key=len, reverse=True)


WORD = re.compile(r"\w+")


def highlight_spans(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_shared) runs: where the shared terms occur, marked.

    The detector's terms are phrases of the normalised text (place names and generic words
    removed), which may not occur verbatim in one field. So a run of two or more consecutive
    words of a term is marked wherever the text has it, and a one-word term wherever that word
    stands; one word of a longer phrase alone is not ("văn" of "văn bản" must not light up
    "Văn phòng"). Words match without case; a word typed without tone marks matches any
    accented form, an accented one only itself ("sơ" must not light up "số"). The spaces
    between two marked words are marked too, so phrases read as one highlight.
    """
    if not text or not terms:
        return [(text or "", False)]
    words = list(WORD.finditer(text))
    lowered = [word.group().lower() for word in words]
    folded = [fold(word) for word in lowered]
    marked = [False] * len(words)

    def same(position: int, term_word: str) -> bool:
        return lowered[position] == term_word or (
            fold(term_word) == term_word and folded[position] == term_word
        )

    for term in meaningful_terms(terms):
        term_words = [word.lower() for word in WORD.findall(term)]
        shortest = 1 if len(term_words) == 1 else 2
        for start in range(len(words)):
            for offset in range(len(term_words)):
                length = 0
                while (
                    start + length < len(words)
                    and offset + length < len(term_words)
                    and same(start + length, term_words[offset + length])
                ):
                    length += 1
                if length >= shortest:
                    marked[start : start + length] = [True] * length
    marks = [False] * len(text)
    for word, mark in zip(words, marked, strict=True):
        if mark:
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
