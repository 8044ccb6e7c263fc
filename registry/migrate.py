"""Schema migrations through Alembic, callable from the CLI, first-run setup and tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from registry import resources

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
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_empty(engine: Engine) -> bool:
    """True when the database holds no schema at all (a brand-new file or database)."""
    return current_revision(engine) is None
