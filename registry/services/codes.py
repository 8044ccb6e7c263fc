"""Public codes of systems (``HTTT-2026-000124``), handed out so concurrent saves never collide.

On PostgreSQL many transactions register at once: a form, the API, an import job writing
100,000 rows for a minute. Reading ``max(code)`` in each would give two of them the same
number; the loser would fail, or, waiting on the winner's uncommitted row, fail only when that
commits (for an import, a minute later, and several waiting registrations at once). So numbers
are reserved from a per-year counter in a short transaction of their own, committed at once,
as from a sequence: a registration rolled back leaves a gap in the numbering, never a
duplicate, and nobody waits for anybody else's transaction.

On SQLite, whose writers take turns, the number is read inside the save's transaction (a second
connection would wait for the save's own write lock); the unique index and the caller's retry
cover the rest.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, text
from sqlmodel import Session, col

from registry.models import InformationSystem

CODE_PREFIX = "HTTT"


def prefix_of(year: int) -> str:
    return f"{CODE_PREFIX}-{year:04d}-"


def code_of(year: int, number: int) -> str:
    return f"{prefix_of(year)}{number:06d}"


def number_in(code: str, year: int) -> int | None:
    """The number of ``code`` if it is one of ``year``'s codes."""
    prefix = prefix_of(year)
    tail = code[len(prefix) :] if code.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def highest_stored(connection: Session | Connection, year: int) -> int:
    """The highest number among the stored codes of ``year`` (0 if none)."""
    last = connection.scalar(
        select(func.max(col(InformationSystem.code))).where(
            col(InformationSystem.code).like(prefix_of(year) + "%")
        )
    )
    return (number_in(last, year) or 0) if last else 0


def reserve_codes(session: Session, year: int, count: int, *, above: int = 0) -> list[str]:
    """``count`` fresh codes of ``year``, each above ``above`` (numbers a caller already uses)."""
    if count <= 0:
        return []
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or isinstance(bind, Connection):
        first = max(highest_stored(session, year), above) + 1
        return [code_of(year, number) for number in range(first, first + count)]
    with bind.connect() as connection:  # its own transaction, committed before the save goes on
        floor = max(highest_stored(connection, year), above)
        last = connection.execute(
            text(
                "INSERT INTO system_code_counter (year, last) VALUES (:year, :floor + :count) "
                "ON CONFLICT (year) DO UPDATE "
                "SET last = GREATEST(system_code_counter.last, :floor) + :count RETURNING last"
            ),
            {"year": year, "floor": floor, "count": count},
        ).scalar_one()  # the row stays locked only until this commit: nobody waits long
        connection.commit()
    return [code_of(year, number) for number in range(last - count + 1, last + 1)]
