"""Optimistic locking: turn SQLAlchemy's version-counter failure into the error people read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from registry.errors import StaleEditError


@contextmanager
def refused_if_stale(session: Session, record: Any, expected_version: int | None) -> Iterator[None]:
    """Run a flush or commit; if another save won the version meanwhile, raise :class:`StaleEditError`.

    The session is rolled back and ``record`` reloaded, so the caller can show the current
    version beside the person's input.
    """
    try:
        yield
    except StaleDataError as exc:
        session.rollback()
        session.refresh(record)
        raise StaleEditError(record.version, expected_version) from exc
