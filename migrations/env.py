"""Alembic environment: migrates the registry's SQLModel metadata on SQLite or PostgreSQL.

The app passes an open connection in ``config.attributes["connection"]``; the ``alembic``
command line falls back to ``DATABASE_URL`` (or the default SQLite file).
"""

from __future__ import annotations

import os

from alembic import context
from sqlmodel import SQLModel

import registry.models  # noqa: F401 - registers the tables on the metadata
from registry.config import default_database_url, normalise_database_url
from registry.db import make_engine
from registry.migrate import include_object

config = context.config
target_metadata = SQLModel.metadata


def run_with_connection(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
        return
    url = os.environ.get("DATABASE_URL") or default_database_url("instance")
    engine = make_engine(normalise_database_url(url))
    with engine.begin() as conn:
        run_with_connection(conn)


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run against a database.")
run_online()
