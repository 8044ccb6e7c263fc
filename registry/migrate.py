"""Schema migrations through Alembic, callable from the CLI, first-run setup and tests."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from registry import resources

VERSION_TABLE = "alembic_version"
MIGRATIONS_DIR = resources.folder("migrations")

SEARCH_INDEX_OBJECTS = ("system_search", "ix_information_system_search_trgm")
"""Search indexes made by hand-written migrations for one backend each (FTS5, pg_trgm): not in
the models, so comparisons between models and database must not take them for strays."""


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's filter: everything except the backend-specific search index objects."""
    return not (name or "").startswith(SEARCH_INDEX_OBJECTS)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return revision_of(connection)


def revision_of(connection: Connection) -> str | None:
    """The schema revision recorded in the database that ``connection`` reaches.

    Read from Alembic's version table directly: a readiness probe asks every few seconds, and
    Alembic's migration context logs two lines each time it is set up.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return versions[0] if len(versions) == 1 else None if not versions else ",".join(sorted(versions))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@cache
def shipped_head() -> str | None:
    """The newest revision of the migrations shipped with this code, read once per process.

    The migration scripts only change with a new release (and a restart), while a readiness
    probe asks every few seconds: parsing every script each time would cost more than the probe.
    """
    return head_revision()


def is_empty(engine: Engine) -> bool:
    """True when the database holds no schema at all (a brand-new file or database)."""
    return current_revision(engine) is None


@cache
def known_revisions() -> frozenset[str]:
    """Every revision the shipped migrations define: a database at one of them is only behind."""
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())
