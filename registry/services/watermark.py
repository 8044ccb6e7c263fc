"""A cache that stays correct across web workers: keyed on the audit chain's head.

Every write service records an audit event in its own transaction, and each event advances
``audit_head``. Reading that one row tells any worker, in well under a millisecond, whether
anything changed since it computed a portfolio-wide figure; no worker has to tell the others.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from registry.models import AuditHead

T = TypeVar("T")
Version = tuple[int, str]

log = logging.getLogger(__name__)


def portfolio_version(session: Session) -> Version:
    """The audit chain's head: it moves on every audited write, in every worker.

    The hash is part of it because a sequence number alone can repeat when a database is
    restored from a backup or rebuilt, while the hash of the head event never does.
    """
    row = session.execute(
        select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1)
    ).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


class WatermarkCache(Generic[T]):
    """The latest value computed for each key, with the portfolio version it was computed at.

    A value of the current version is served as it is. When the version has moved, ``get``
    either computes anew in the request or, given an ``app`` to run in, serves the previous
    value at once and recomputes it in one background thread per key (the stale-while-refresh
    of HTTP caches): a figure that costs a few hundred milliseconds at national scale then
    never makes a reader wait after each write, only the first reader of a worker.
    Bounded (least recently used first out), so many keys cannot grow a worker's memory.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, tuple[Version, T]] = OrderedDict()
        self._refreshing: dict[Hashable, threading.Thread] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[Session], T], *, app: Any = None) -> T:
        version = portfolio_version(session)
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
        if found is not None and found[0] == version:
            return found[1]
        if found is not None and app is not None:
            self._refresh(app, key, compute)
            return found[1]
        value = compute(session)
        self._store(key, version, value)
        return value

    def is_current(self, session: Session, key: Hashable) -> bool:
        """Whether the value held for ``key`` reflects every write made so far."""
        with self._lock:
            found = self._values.get(key)
        return found is not None and found[0] == portfolio_version(session)

    def wait(self, key: Hashable, timeout: float = 60) -> None:
        """Wait for a background refresh of ``key`` to end (tests, and commands that need it)."""
        with self._lock:
            thread = self._refreshing.get(key)
        if thread is not None:
            thread.join(timeout)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def _store(self, key: Hashable, version: Version, value: T) -> None:
        with self._lock:
            self._values[key] = (version, value)
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def _refresh(self, app: Any, key: Hashable, compute: Callable[[Session], T]) -> None:
        from registry.db import get_engine

        with self._lock:
            running = self._refreshing.get(key)
            if running is not None and running.is_alive():
                return

            def refresh() -> None:
                try:
                    with app.app_context(), Session(get_engine(app)) as own:
                        version = portfolio_version(own)
                        self._store(key, version, compute(own))
                except Exception:  # noqa: BLE001 - readers keep the previous value; the next write retries
                    log.exception("A background refresh of %r failed", key)

            thread = threading.Thread(target=refresh, name="figures-refresh", daemon=True)
            self._refreshing[key] = thread
            thread.start()
