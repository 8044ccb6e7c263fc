"""Inserting hundreds of thousands of rows given as tuples, straight to the driver.

SQLAlchemy Core's ``executemany`` builds a parameter dictionary per row and runs each column's
bind processor on each value (a JSON dump, a date formatted for SQLite); for an import of
100,000 systems with their audit events, links and 400,000 findings that bookkeeping cost more
than the database's own work. Here the caller gives rows in column order with values the driver
takes as they are, and values that are the same on every row (the import's timestamp) are
converted once with :func:`driver_value`.

On PostgreSQL the rows are streamed with ``COPY … FROM STDIN`` (psycopg's ``Copy``), which
the server takes several times faster than row-by-row inserts; on SQLite, ``executemany``
of a prepared statement is already that. JSON goes as text on both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from typing import Any

from sqlalchemy import Column, Table
from sqlmodel import Session

BATCH = 10_000


def converter(session: Session, column: Column[Any]) -> Callable[[Any], Any]:
    """What Core does to a value of ``column`` before the driver gets it (a date as SQLite's text)."""
    dialect = session.get_bind().dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    return lambda value: None if value is None else process(value)


def driver_value(session: Session, column: Column[Any], value: Any) -> Any:
    """``value`` converted once for ``column``: a constant of every row, such as the import's time."""
    return converter(session, column)(value)


def json_text(value: Any) -> str:
    """A JSON column's value as text; ``None`` becomes JSON ``null``, as Core stores it by default."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) in the session's transaction; returns the count.

    Values go to the driver unconverted: ints, strings, ``None``, booleans, JSON as text
    (:func:`json_text`), and dates or datetimes converted with :func:`driver_value`.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0  # a save whose system breaks no rule: no statement at all
    rows = chain((first,), iterator)  # the first row back in front of the rest
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(table.c[name].name) for name in columns)
    if dialect.name == "postgresql":
        return _copy(session, f"COPY {quote.format_table(table)} ({names}) FROM STDIN", rows)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({', '.join([mark] * len(columns))})"
    )
    connection = session.connection()
    count = 0
    while chunk := list(islice(rows, BATCH)):
        connection.exec_driver_sql(statement, chunk)
        count += len(chunk)
    return count


def _copy(session: Session, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL's ``COPY … FROM STDIN`` through psycopg, in the session's transaction: the
    server parses and plans once for the whole stream instead of once per row."""
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    count = 0
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
