"""Database engine, the per-request session, and the one commit that ends each unit of work.

Views ask for :func:`get_session`; commands open :func:`command_session`. Services receive the
session, flush what they write and never commit: the request (after a successful response) or
the command (when it finishes) commits exactly once, and anything else rolls the whole change
back, so a refused save leaves nothing half-written whichever door it came through. The few
services that must keep something although the answer is a refusal (a failed sign-in counted
for throttling) or before a long answer starts (an export's audit event) commit on their own
and say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

ENGINE_KEY = "registry.engine"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs to behave like the other."""
    if url.startswith("sqlite"):
        # Pre-ping here too: a connection closed under the pool (a file restored by a backup,
        # a closed handle) is replaced instead of failing the request that draws it.
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_pre_ping=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers proceed during a write.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    if dbapi_connection.execute("PRAGMA database_list").fetchone()[2]:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Any, _name: str) -> None:
    """Open the transaction before a savepoint, so that releasing it does not commit.

    Python's sqlite3 module sends ``BEGIN`` only before the first INSERT, UPDATE or DELETE; a
    SAVEPOINT issued before any of them starts a transaction of its own, which its RELEASE
    then commits, half a change made permanent before the request decided to keep it.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[ENGINE_KEY]


def get_session() -> Session:
    """The session of the current request, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def end_request(response: Response) -> Response:
    """Commit the request's change when the answer says it succeeded; roll it back otherwise.

    A 4xx or 5xx answer means the change was refused (invalid input, a stale version, a
    forbidden move): whatever a service had flushed before refusing is undone here, so no view
    has to remember to roll back.
    """
    session = g.get("db_session")
    if session is not None:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    return response


def discard_request_changes() -> None:
    """Roll back the request's session so an error page can still read from it.

    After a failed statement PostgreSQL refuses every other one until the transaction is rolled
    back; without this the error page itself would fail on its first query (the signed-in
    user's agency in the menu) and the user would get the server's bare error.
    """
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session; an exception that escaped the view rolls it back first."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.rollback()
        finally:
            session.close()


@contextmanager
def command_session(engine: Engine | None = None) -> Iterator[Session]:
    """A command's unit of work: commit once when the block ends, roll back if it raises."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def init_app(app: Flask) -> None:
    app.extensions[ENGINE_KEY] = make_engine(app.config["DATABASE_URL"])
    app.after_request(end_request)
    app.teardown_appcontext(close_session)


def ids_by_code(session: Session, model: Any) -> dict[str, int]:
    """Every row's id by its public code (agencies, taxonomy terms): one query, then lookups."""
    return dict(session.execute(select(model.code, model.id)).all())  # type: ignore[arg-type]
