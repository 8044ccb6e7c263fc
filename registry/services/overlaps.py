"""Duplication warnings: running the engine on the portfolio and keeping what it finds.

The engine (:mod:`similarity`) knows nothing of the database; this module turns systems into
its plain records, keeps one fitted index per process, and stores the pairs it finds as
:class:`~registry.models.DuplicateWarning` rows with their score parts and reasons.

Several web workers each keep their own index. None refits on the request path: each catches
up from the database by re-vectorising only the systems saved since its last look (the
``updated_at`` watermark), so every worker sees every save, whichever worker handled it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, func, or_, select
from sqlmodel import Session, col

from registry.auth.actor import Actor
from registry.choices import Disposition, SystemStatus
from registry.db import get_engine
from registry.models import (
    AuditEvent,
    Capability,
    DataDomain,
    Dependency,
    DuplicateWarning,
    InformationSystem,
    SystemCapabilityLink,
    SystemDataDomainLink,
    SystemUserAgencyLink,
)
from registry.services import audit
from registry.services.taxonomy import localized_name
from registry.services.vectors import VectorTable
from similarity import DETECTOR_VERSION, DuplicateFinder, snapshot
from similarity.knowledge import default_knowledge
from similarity.terms import meaningful_terms

log = logging.getLogger(__name__)

OVERLAP_INDEX = "registry.overlap_index"
"""Key of the per-process :class:`PortfolioIndex` in ``app.extensions``."""

WARNING_THRESHOLD = 0.6
"""Calibrated score from which a pair becomes a warning: clearly more likely than not."""

PARTNERS_PER_SYSTEM = 10
"""A full scan keeps each system's best partners only, so a copy built by 3,000 communes does
not drown the review queue in millions of pairs; the clusters still show all of them."""

EXCLUDED_STATUSES = (SystemStatus.RETIRED.value, SystemStatus.REJECTED.value)
"""Retired systems and rejected proposals are not live: nothing can duplicate them any more."""


# --- records -----------------------------------------------------------------------------------


def portfolio_records(session: Session, system_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The engine's plain records for live systems (all, or only ``system_ids``).

    Five set-based queries whatever the portfolio size, instead of one per system.
    """
    wanted = None if system_ids is None else sorted(set(system_ids))
    columns = select(
        col(InformationSystem.id),
        col(InformationSystem.name),
        col(InformationSystem.description),
        col(InformationSystem.purpose),
        col(InformationSystem.scope_level),
        col(InformationSystem.is_shared_platform),
        col(InformationSystem.instance_of_id),
        col(InformationSystem.owner_agency_id),
        col(InformationSystem.status),
    )
    if wanted is not None:
        columns = columns.where(col(InformationSystem.id).in_(wanted))
    rows = session.execute(columns).all()
    ids = [row.id for row in rows]

    def grouped(query: Any) -> dict[int, set[Any]]:
        result: dict[int, set[Any]] = defaultdict(set)
        if wanted is not None:
            query = query.where(query.selected_columns[0].in_(ids))
        for owner, value in session.execute(query):
            result[owner].add(value)
        return result

    capabilities = grouped(
        select(col(SystemCapabilityLink.system_id), col(Capability.code)).join(
            Capability, col(Capability.id) == col(SystemCapabilityLink.capability_id)
        )
    )
    domains = grouped(
        select(col(SystemDataDomainLink.system_id), col(DataDomain.code)).join(
            DataDomain, col(DataDomain.id) == col(SystemDataDomainLink.data_domain_id)
        )
    )
    users = grouped(select(col(SystemUserAgencyLink.system_id), col(SystemUserAgencyLink.agency_id)))
    depends = grouped(select(col(Dependency.source_id), col(Dependency.target_id)))
    return [
        {
            "id": row.id,
            "name": row.name,
            "description": row.description,
            "purpose": row.purpose,
            "level": row.scope_level,
            "is_shared_platform": row.is_shared_platform,
            "instance_of": row.instance_of_id,
            "agency": row.owner_agency_id,
            "capabilities": sorted(capabilities.get(row.id, ())) or None,
            "data_domains": sorted(domains.get(row.id, ())) or None,
            "user_agencies": sorted(users.get(row.id, ())) or None,
            "depends_on": sorted(depends.get(row.id, ())),
            "status": row.status,
        }
        for row in rows
        if row.status not in EXCLUDED_STATUSES
    ]


# --- the per-process index ---------------------------------------------------------------------


def portfolio_finder(store: VectorTable) -> DuplicateFinder:
    """The engine as the registry runs it: vectors come from the database and are never
    computed while fitting (saves and the background job compute them)."""
    return DuplicateFinder(vectors=store, embed_missing=False)


@dataclass(frozen=True)
class IndexState:
    """A snapshot of :class:`PortfolioIndex`'s bookkeeping, for probes and ``flask doctor``."""

    built: bool
    watermark: datetime | None
    """The newest ``updated_at`` the index has seen (None before the first fit, or when empty)."""
    fitted: int
    """Systems in the last fit."""
    caught_up: int
    """Systems re-vectorised since that fit; the index refits once this reaches ``fitted``."""
    busy: bool
    """A fit or a catch-up is running right now."""


class PortfolioIndex:
    """A fitted :class:`DuplicateFinder` that catches up with the database before each use."""

    def __init__(
        self,
        store: VectorTable,
        snapshots: Callable[[], Path | None] | None = None,
        request_snapshot: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.snapshots = snapshots
        """Where to look for a saved index (:mod:`.index_snapshot`); ``None``: always fit."""
        self.request_snapshot = request_snapshot
        """Asks the queue for a saved index, after this process had to fit its own."""
        self.source = ""
        """How the index in use was made: ``snapshot``, ``fit``, or nothing yet."""
        self._lock = threading.Lock()
        self._finder: DuplicateFinder | None = None
        self._watermark: datetime | None = None
        self._fitted = 0
        self._caught_up = 0
        self._vectors_seen = -1
        self._snapshot_tried: Path | None = None

    def reset(self) -> None:
        with self._lock:
            self._finder, self._watermark = None, None
            self._fitted = self._caught_up = 0
            self._vectors_seen = -1
            self._snapshot_tried, self.source = None, ""

    def state(self) -> IndexState:
        """What this process's index holds, read without waiting for its lock.

        A readiness probe asks this every few seconds: it must neither fit the index nor queue
        behind a fit in progress, so it reads the fields as they are and says whether the lock
        is held (a fit or a catch-up running).
        """
        return IndexState(
            built=self._finder is not None,
            watermark=_aware(self._watermark) if self._watermark is not None else None,
            fitted=self._fitted,
            caught_up=self._caught_up,
            busy=self._lock.locked(),
        )

    def current(self, session: Session) -> DuplicateFinder:
        """The finder, caught up with every save since the last look.

        Catching up keeps the fitted vocabulary and weights, which describe the portfolio as
        it was at the fit. Once as many systems have been caught up as were fitted (a new
        registry growing from its first few systems), the index is fitted again: the cost
        doubles the portfolio each time, so it stays linear overall.
        """
        with self._lock:
            self.store.bind(session)
            latest = session.scalar(select(func.max(col(InformationSystem.updated_at))))
            if self._finder is None:
                self._adopt_snapshot(session, latest)
            changed: Sequence[int | None] = ()
            if self._finder is not None and (
                latest is not None and (self._watermark is None or _aware(latest) > _aware(self._watermark))
            ):
                changed = session.scalars(
                    select(col(InformationSystem.id)).where(
                        col(InformationSystem.updated_at) > self._watermark
                    )
                ).all()
                if self._caught_up + len(changed) >= max(self._fitted, 1):
                    self._finder = None
            vectors = self.store.latest()
            if self._finder is None:
                records = portfolio_records(session)
                self._finder = portfolio_finder(self.store).fit(records)
                self._watermark, self._fitted, self._caught_up = latest, len(records), 0
                self.source = "fit"
                if self.snapshots is not None and self.request_snapshot is not None:
                    # The next worker to start (or this one, restarted) maps it instead.
                    self.request_snapshot()
            elif changed:
                fresh = portfolio_records(session, [i for i in changed if i is not None])
                live = {record["id"] for record in fresh}
                self._finder.update(fresh)
                self._finder.remove([system_id for system_id in changed if system_id not in live])
                self._watermark = latest
                self._caught_up += len(changed)
            if vectors != self._vectors_seen:
                # Vectors arrived (the embedding job, another worker's saves): use them. Only the
                # arrivals are read, not every key still missing (most of a portfolio while
                # the job runs after a large import: 1.5 s a save at 100,000 systems).
                if self._vectors_seen >= 0:
                    self._finder.attach_vectors(self.store.since(self._vectors_seen))
                self._vectors_seen = vectors
            return self._finder

    def _adopt_snapshot(self, session: Session, latest: datetime | None) -> bool:
        """Map the saved index, if there is one this process has not tried yet.

        Its watermark then says where catching up starts. A snapshot that cannot be used
        (another format, damaged, fitted by another version of the detector, built from
        another database or from this one before it was restored from a backup) is only
        logged: the index is then fitted here, as without one. Catching up only adds what
        changed after the watermark, so a snapshot of other rows would keep systems this
        database does not have and warn about them.
        """
        directory = self.snapshots() if self.snapshots is not None else None
        if directory is None:
            return False
        try:
            path = snapshot.current_path(directory)
            if path == self._snapshot_tried:
                return False  # loaded once already and outgrown, or unusable: fit instead
            self._snapshot_tried = path
            loaded = snapshot.load(directory, vectors=self.store)
            meta = loaded.meta
            if meta.get("detector_version") != DETECTOR_VERSION:
                raise snapshot.SnapshotError(
                    f"fitted by detector {meta.get('detector_version')!r}, running {DETECTOR_VERSION!r}"
                )
            if meta.get("database") != registry_identity(session):
                raise snapshot.SnapshotError("built from another database")
            watermark = meta.get("watermark")
            systems, vectors = int(meta["systems"]), int(meta.get("vectors", -1))
            moment = datetime.fromisoformat(watermark) if watermark else None
            if moment is not None and (latest is None or _aware(latest) < _aware(moment)):
                raise snapshot.SnapshotError("newer than the database (restored from a backup?)")
        except snapshot.SnapshotMissing:
            log.info("Overlap index: no snapshot in %s yet; fitting in this process", directory)
            return False
        except (snapshot.SnapshotError, KeyError, TypeError, ValueError) as exc:
            log.warning("Overlap index: snapshot in %s not used, fitting instead: %s", directory, exc)
            return False
        self._finder, self._watermark = loaded.finder, moment
        self._fitted, self._caught_up, self._vectors_seen = max(systems, 1), 0, vectors
        self.source = "snapshot"
        log.info(
            "Overlap index: loaded snapshot %s (%d systems, watermark %s)",
            loaded.path.name,
            systems,
            watermark,
        )
        return True


def registry_identity(session: Session) -> str | None:
    """What tells one registry database from another: the hash of its audit trail's first
    event, written when it was set up and never changed (``None`` while the trail is empty)."""
    return session.scalar(select(col(AuditEvent.hash)).order_by(col(AuditEvent.seq)).limit(1))


def init_app(app: Flask) -> None:
    from registry.services import index_snapshot  # it builds on this module

    app.extensions[OVERLAP_INDEX] = PortfolioIndex(
        VectorTable(get_engine(app)),
        snapshots=lambda: index_snapshot.index_dir(app),
        request_snapshot=lambda: index_snapshot.request_build(app),
    )


def portfolio_index() -> PortfolioIndex:
    """The application's overlap index, reached like :func:`registry.db.get_session` is."""
    return current_app.extensions[OVERLAP_INDEX]


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they are stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- warnings ----------------------------------------------------------------------------------


SCAN_ACTOR = Actor.operator("scan")


@dataclass
class ScanReport:
    systems: int
    pairs: int
    created: int
    updated: int
    removed: int
    without_meaning: int = 0
    """Systems compared without a meaning vector (not yet embedded)."""

    def summary(self) -> str:
        text = (
            f"{self.systems} systems compared; {self.pairs} overlapping pairs: "
            f"{self.created} new warnings, {self.updated} updated, {self.removed} no longer found"
        )
        if self.without_meaning:
            text += (
                f"; {self.without_meaning} compared on words only, their texts not analysed yet "
                "(the background job or `flask embed` does it; a scan afterwards weighs meaning)"
            )
        return text


def _store(
    session: Session, found: Sequence[Mapping[str, Any]], scope: set[int] | None
) -> tuple[int, int, int]:
    """Upsert warnings for ``found`` pairs; drop open warnings in ``scope`` that were not found.

    Decided warnings (confirmed, justified, dismissed) are never deleted: the decision and its
    reason are the record of what the standing office concluded.
    """
    now = datetime.now(UTC)
    if scope is not None and found:
        # A per-process index may still hold a system whose save was rolled back afterwards.
        partners = {p["b"] for p in found}
        known = set(
            session.scalars(select(col(InformationSystem.id)).where(col(InformationSystem.id).in_(partners)))
        )
        found = [p for p in found if p["b"] in known]
    keys = {(min(p["a"], p["b"]), max(p["a"], p["b"])): p for p in found}
    existing_query = select(DuplicateWarning)
    if scope is not None:
        existing_query = existing_query.where(
            or_(col(DuplicateWarning.system_a_id).in_(scope), col(DuplicateWarning.system_b_id).in_(scope))
        )
    existing = {(w.system_a_id, w.system_b_id): w for w in session.scalars(existing_query)}
    created = updated = 0
    for key, pair in keys.items():
        warning = existing.get(key)
        if (
            warning is not None
            and warning.disposition == Disposition.DISMISSED.value
            and warning.material_hash != material_fingerprint(session, *key)
        ):
            # Dismissed as a false positive, but one of the systems has changed materially since.
            warning.disposition, warning.material_hash = Disposition.OPEN.value, None
        if warning is None:
            warning = DuplicateWarning(
                system_a_id=key[0],
                system_b_id=key[1],
                score=float(pair["score"]),
                detector_version=DETECTOR_VERSION,
            )
            session.add(warning)
            created += 1
        else:
            updated += 1
        warning.score = float(pair["score"])
        warning.relation = pair["relation"]
        warning.components = pair["components"]
        warning.reasons = pair["reasons"]
        warning.detector_version = DETECTOR_VERSION
        warning.updated_at = now
    stale = [
        w.id for key, w in existing.items() if key not in keys and w.disposition == Disposition.OPEN.value
    ]
    if stale:
        session.execute(delete(DuplicateWarning).where(col(DuplicateWarning.id).in_(stale)))
    return created, updated, len(stale)


def material_fingerprint(session: Session, a_id: int, b_id: int) -> str:
    """What a dismissal of the pair depends on: both systems' names, texts and capabilities."""
    parts = []
    for system_id in (a_id, b_id):
        system = session.get(InformationSystem, system_id)
        if system is None:
            parts.append("-")
            continue
        capabilities = ",".join(sorted(c.code for c in system.capabilities))
        parts.append("\x1f".join([system.name, system.description, system.purpose or "", capabilities]))
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def scan_portfolio(
    session: Session,
    *,
    min_score: float = WARNING_THRESHOLD,
    k: int = PARTNERS_PER_SYSTEM,
    progress: Callable[[int, int], None] | None = None,
    actor: Actor | None = None,
) -> ScanReport:
    """Compare every live system with every other and store the warnings (the caller commits).

    The scan is audited as one event with its counts; the warnings themselves are derived
    data, recomputed by every scan, and are audited when people decide on them.
    """
    records = portfolio_records(session)
    finder = portfolio_finder(VectorTable(session.get_bind(), session)).fit(records)  # type: ignore[arg-type]  # a session is bound to an engine here
    found = finder.pairs(min_score=min_score, k=k, progress=progress)
    created, updated, removed = _store(session, found, scope=None)
    report = ScanReport(len(records), len(found), created, updated, removed, finder.missing_vectors())
    audit.record(
        session,
        actor or SCAN_ACTOR,
        "overlap.scan",
        object_type="portfolio",
        object_id="all",
        after={
            "systems": report.systems,
            "pairs": report.pairs,
            "created": created,
            "updated": updated,
            "removed": removed,
            "min_score": min_score,
            "without_meaning": report.without_meaning,
            "detector_version": DETECTOR_VERSION,
        },
    )
    session.flush()
    return report


def check_systems(
    session: Session,
    system_ids: Iterable[int],
    *,
    index: PortfolioIndex | None = None,
    min_score: float = WARNING_THRESHOLD,
) -> None:
    """Refresh the warnings of systems just saved (flushed), without refitting the portfolio.

    The index catches up once with every save of the batch, then each system is queried:
    a pair of two systems saved together is found from both sides and stored once.
    """
    wanted = sorted(set(system_ids))
    if not wanted:
        return
    index = index or portfolio_index()
    records = {record["id"]: record for record in portfolio_records(session, wanted)}
    finder = index.current(session) if records else None
    for system_id in wanted:
        record = records.get(system_id)
        if record is None or finder is None:  # retired or rejected: nothing can duplicate it
            _store(session, [], scope={system_id})
            continue
        matches = finder.query(record, k=PARTNERS_PER_SYSTEM)
        found = [
            {"a": system_id, "b": m["id"], **m}
            for m in matches
            if m["score"] >= min_score and m["relation"] == "overlap"
        ]
        _store(session, found, scope={system_id})
    session.flush()


def check_system(
    session: Session,
    system: InformationSystem,
    index: PortfolioIndex | None = None,
    *,
    min_score: float = WARNING_THRESHOLD,
) -> list[DuplicateWarning]:
    """Refresh one saved system's warnings and return them, best first."""
    check_systems(session, [system.id], index=index, min_score=min_score)  # type: ignore[list-item]  # ids of saved rows are set; SQLModel types them optional
    return warnings_for(session, system)


def warnings_for(session: Session, system: InformationSystem) -> list[DuplicateWarning]:
    query = (
        select(DuplicateWarning)
        .where(
            or_(
                col(DuplicateWarning.system_a_id) == system.id, col(DuplicateWarning.system_b_id) == system.id
            )
        )
        .order_by(col(DuplicateWarning.score).desc())
    )
    return list(session.scalars(query))


@dataclass
class WarningView:
    """A warning seen from one of its two systems."""

    warning: DuplicateWarning
    other: InformationSystem
    reasons: list[str]


def warnings_seen_from(session: Session, system: InformationSystem, locale: str) -> list[WarningView]:
    warnings = warnings_for(session, system)
    other_ids = {w.system_b_id if w.system_a_id == system.id else w.system_a_id for w in warnings}
    platform_ids = {
        r.get("platform") for w in warnings for r in w.reasons if isinstance(r.get("platform"), int)
    }
    others = {
        s.id: s
        for s in session.scalars(
            select(InformationSystem).where(col(InformationSystem.id).in_(other_ids | platform_ids))
        ).unique()
    }
    capability_names = function_names(session, locale)
    views = []
    for warning in warnings:
        other_id = warning.system_b_id if warning.system_a_id == system.id else warning.system_a_id
        reasons = [describe_reason(r, others, capability_names) for r in warning.reasons]
        views.append(WarningView(warning, others[other_id], [r for r in reasons if r]))
    return views


def standing_warnings(session: Session, system: InformationSystem, locale: str) -> list[WarningView]:
    """The open overlap warnings: those a submission must justify before it goes to review."""
    return [
        view
        for view in warnings_seen_from(session, system, locale)
        if view.warning.relation == "overlap" and view.warning.disposition == "open"
    ]


def function_names(session: Session, locale: str) -> dict[str, str]:
    """Names of capabilities and of the engine's functions (its thesaurus), in the reader's language."""
    knowledge = default_knowledge()
    names = {code: function.label(locale) for code, function in knowledge.functions.items()}
    names.update({c.code: localized_name(c, locale) for c in session.scalars(select(Capability))})
    return names


def describe_reason(
    reason: dict[str, Any], systems: Mapping[int | None, InformationSystem], capability_names: dict[str, str]
) -> str:
    """The engine's reason as a reviewer reads it, in their language (the engine speaks English).

    Each reason is one plain sentence about the two systems. Shared words that say nothing
    (function words, lone syllables, numbers) are dropped, and a reason left with none is "".
    """
    code = reason.get("code")
    value = reason.get("value")
    percent = f"{round(100 * value)}%" if isinstance(value, int | float) else ""
    platform = systems.get(reason.get("platform"))
    platform_name = f"{platform.name} ({platform.code})" if platform else str(reason.get("platform", ""))
    terms = meaningful_terms(reason.get("terms", []))
    count = reason.get("count", 0)
    texts: dict[str, Callable[[], object]] = {
        "similar_names": lambda: _l("The names are alike (%(percent)s)", percent=percent),
        "shared_terms": lambda: (
            _l("Both descriptions speak of: %(terms)s", terms=", ".join(f"“{t}”" for t in terms))
            if terms
            else ""
        ),
        "shared_capabilities": lambda: _l(
            "Both declare the capabilities: %(items)s",
            items=", ".join(capability_names.get(i, i) for i in reason.get("items", [])),
        ),
        "shared_data_domains": lambda: _l("They hold the same kinds of data (%(percent)s)", percent=percent),
        "shared_users": lambda: _l("They serve the same user agencies (%(percent)s)", percent=percent),
        "similar_dependencies": lambda: _l("They connect to the same systems (%(percent)s)", percent=percent),
        "same_level": lambda: _l("Both work at the same level of government"),
        "same_function": lambda: "; ".join(
            str(
                _l(
                    "Both do the same job, %(function)s (“%(term)s” is one of its names)",
                    function=capability_names.get(item.get("function", ""), item.get("function", "")),
                    term=item.get("term", ""),
                )
            )
            for item in reason.get("items", [])
        ),
        "similar_meaning": lambda: _l("The descriptions mean much the same, even where the words differ"),
        "meaning_not_compared": lambda: _l("Not yet compared by meaning: the texts are still being analysed"),
        "duplicates_central_platform": lambda: _l(
            "A local system for a job the shared platform %(platform)s already does",
            platform=platform_name,
        ),
        "via_deployments": lambda: ngettext(
            "Resembles %(num)s deployment of this platform",
            "Resembles %(num)s deployments of this platform",
            count if isinstance(count, int) else 0,
        ),
        "sanctioned_reuse": lambda: _l(
            "Both are deployments of the shared platform %(platform)s: that is reuse, not duplication",
            platform=platform_name,
        ),
    }
    text = texts.get(code or "")
    return str(text()) if text else str(reason.get("message", ""))
