"""What every save of a system entails beyond its own row, defined once for every door.

A form, the API, an import, the command line and the seed all save through
:func:`registry.services.systems.create_system` / ``update_system`` (and the workflow's moves),
and those end by calling :func:`follow_save`. It records the reuse the person declared, judges
the system by the rules R1–R10 and refreshes its duplication warnings. The overlap engine runs
in a savepoint: if it fails, the save still stands, the failure is logged and remembered for the
caller to say so, and the next portfolio scan computes the warnings again.

Inside :func:`batched` (an import, the seed), saves only queue their systems; the block's end
follows them all at once, so 100,000 rows cost one rules context and one index catch-up rather
than 100,000 of each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from registry.auth.actor import Actor
from registry.choices import DependencyKind
from registry.errors import ValidationError
from registry.models import InformationSystem
from registry.services import embeddings, overlaps
from registry.services.dependencies import add_dependency
from registry.services.findings import build_context, refresh_findings

log = logging.getLogger(__name__)

LIVE_CHECK_LIMIT = 200
"""Batches of up to this many saved systems get their overlap warnings at once; a bigger one
(a large import) leaves them to the portfolio scan, which compares everything in one pass."""

RULES_BATCH = 2000
"""Systems per statement listing their ids (PostgreSQL takes at most 65,535 parameters)."""

_QUEUE = "registry.saves_to_follow"
_UNCHECKED = "registry.overlaps_unchecked"


@dataclass
class _Queue:
    subjects: list[Any] = field(default_factory=list)
    check_overlaps: list[int] = field(default_factory=list)


def follow_save(
    session: Session,
    systems: Sequence[Any],
    *,
    actor: Actor,
    reuse_of: str | None = None,
    overlaps_too: bool = True,
) -> None:
    """Apply the consequences of saving ``systems`` (already flushed), or queue them in a batch.

    ``systems`` are :class:`InformationSystem` rows or, for bulk writers that never load their
    rows back, objects with the attributes the rules read. ``reuse_of`` is the public code of a
    system the person chose to reuse instead of building anew; it is recorded as a dependency
    of the (single) system saved. ``overlaps_too=False`` is for moves that change nothing the
    engine compares (a reviewer's decision).
    """
    if reuse_of:
        for system in systems:
            _record_reuse(session, system, reuse_of, actor)
    queue: _Queue | None = session.info.get(_QUEUE)
    if queue is not None:
        queue.subjects.extend(systems)
        if overlaps_too:
            queue.check_overlaps.extend(s.id for s in systems)
        return
    _follow(session, list(systems), [s.id for s in systems] if overlaps_too else [])


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Within the block, saves queue their consequences; they are applied once at its end."""
    if _QUEUE in session.info:  # already inside a batch: the outer one follows everything
        yield
        return
    queue = _Queue()
    session.info[_QUEUE] = queue
    try:
        yield
    finally:
        del session.info[_QUEUE]
    _follow(session, queue.subjects, queue.check_overlaps)


def embed(session: Session, systems: Sequence[Any]) -> None:
    """Give saved systems their meaning vectors, before their warnings are computed.

    A few are embedded in the save (a second or two); a batch is left to the embedding job,
    queued here in the save's transaction. Like the overlap check, a failure never costs the
    save: it is logged, and the embedding job embeds the text later.
    """
    if not systems:
        return
    if len(systems) > embeddings.INLINE_LIMIT:
        if embeddings.wanted(current_app.config):
            embeddings.queue_embedding(session)
        return
    try:
        with session.begin_nested():
            embeddings.embed_systems(session, systems, overlaps.portfolio_index().store)
    except Exception:  # noqa: BLE001 - the save stands; the embedding job embeds it later
        log.exception("embedding failed for %s systems; the embedding job retries", len(systems))


def refresh_overlaps(session: Session, system_ids: Sequence[int]) -> bool:
    """Refresh the warnings of ``system_ids`` in a savepoint; False if the engine failed.

    A failure is logged and remembered (see :func:`overlaps_unchecked`); the save it follows
    stands, and the next scan repeats the comparison.
    """
    ids = [i for i in dict.fromkeys(system_ids) if i is not None]
    if not ids:
        return True
    if len(ids) > LIVE_CHECK_LIMIT:
        log.info("%s systems saved at once: their overlap warnings come from the next scan", len(ids))
        session.info.setdefault(_UNCHECKED, set()).update(ids)
        return False
    try:
        with session.begin_nested():
            overlaps.check_systems(session, ids)
    except Exception:  # noqa: BLE001 - the engine must never lose a save; see the docstring
        log.exception("overlap check failed for systems %s; the next scan repeats it", ids[:20])
        session.info.setdefault(_UNCHECKED, set()).update(ids)
        return False
    return True


def overlaps_unchecked(session: Session, system_id: int | None = None) -> bool:
    """Whether a save in this session could not have its overlaps checked (that system's, or any)."""
    unchecked: set[int] = session.info.get(_UNCHECKED, set())
    return bool(unchecked) if system_id is None else system_id in unchecked


def _follow(session: Session, subjects: list[Any], overlap_ids: list[int]) -> None:
    unique = list({s.id: s for s in subjects if s.id is not None}.values())
    if unique:
        ids = [s.id for s in unique]
        context = build_context(session, None if len(ids) > RULES_BATCH else ids)
        for start in range(0, len(unique), RULES_BATCH):
            refresh_findings(session, unique[start : start + RULES_BATCH], context=context)
        session.flush()
    wanted = set(overlap_ids)
    embed(session, [s for s in unique if s.id in wanted and getattr(s, "name", None) is not None])
    refresh_overlaps(session, overlap_ids)


def _record_reuse(session: Session, system: InformationSystem, code: str, actor: Actor) -> None:
    code = code.strip().upper()
    if not code or code == system.code:
        return
    try:
        with session.begin_nested():
            add_dependency(
                session,
                system,
                actor=actor,
                target_code=code,
                kind=DependencyKind.CONSUMES_API.value,
                note=str(_l("Reuses this system instead of building a new one")),
            )
    except ValidationError:
        pass  # already recorded, or the target has gone: the save stands
