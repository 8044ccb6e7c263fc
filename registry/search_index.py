"""Keeping SQLite's full-text search index in step during bulk inserts.

On SQLite the migrations maintain the FTS5 trigram index ``system_search`` with triggers; fed
row by row they cost about half a millisecond per system (five seconds per 10,000), while one
``INSERT … SELECT`` of the same rows costs a sixth of that. PostgreSQL's trigram index needs
nothing of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select, text
from sqlmodel import Session

from registry.models import InformationSystem

INSERT_TRIGGER = "system_search_insert"


@contextmanager
def bulk_inserts(session: Session) -> Iterator[None]:
    """Within the caller's transaction: suspend the per-row trigger, then index the new rows at once.

    New systems are recognised by their ids, which only grow; the trigger is restored exactly
    as it was (its SQL is read back from the schema), in the same transaction, so a failure
    rolls back the suspension too.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    trigger = session.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
        {"name": INSERT_TRIGGER},
    ).scalar()
    if trigger is None:  # a schema without the search index (older migrations): nothing to do
        yield
        return
    last = session.scalar(select(func.max(InformationSystem.id))) or 0
    session.execute(text(f'DROP TRIGGER "{INSERT_TRIGGER}"'))
    yield
    session.execute(
        text(
            "INSERT INTO system_search(rowid, search_text) "
            "SELECT id, search_text FROM information_system WHERE id > :last"
        ),
        {"last": last},
    )
    session.execute(text(trigger))
