"""A cache that stays correct across web workers: keyed on the audit chain's head.

Every write service records an audit event in its own transaction, and each event advances
``audit_head.seq``. Reading that one row tells any worker, in well under a millisecond, whether
anything changed since it computed a portfolio-wide figure; no worker has to tell the others.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from registry.models import AuditHead

T = TypeVar("T")


def portfolio_version(session: Session) -> tuple[int, str]:
    """The audit chain's head: it moves on every audited write, in every worker.

    The hash is part of it because a sequence number alone can repeat when a database is
    restored from a backup or rebuilt, while the hash of the head event never does.
    """
    row = session.execute(
        select(col(AuditHead.seq), col(AuditHead.hash)).where(col(AuditHead.id) == 1)
    ).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


class WatermarkCache(Generic[T]):
    """Values computed for a key at one portfolio version, dropped as soon as the version moves.

    Bounded (least recently used first out) so that many distinct keys, such as one per agency
    scope, cannot grow a worker's memory without limit.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._values: OrderedDict[tuple[Hashable, tuple[int, str]], T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        version = portfolio_version(session)
        with self._lock:
            found = self._values.get((key, version))
            if found is not None:
                self._values.move_to_end((key, version))
                return found
        value = compute()
        with self._lock:
            for stale in [k for k in self._values if k[0] == key and k[1] != version]:
                del self._values[stale]
            self._values[(key, version)] = value
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
