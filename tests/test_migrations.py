"""The migrations, not ``create_all``, build every schema: they must match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from registry import migrate
from registry.db import get_engine, make_engine


def test_migrated_schema_matches_the_models(app):
    engine = get_engine(app)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_database_is_at_the_newest_revision(app):
    assert migrate.current_revision(get_engine(app)) == migrate.head_revision()


def test_migrations_go_down_and_up_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")
    assert migrate.is_empty(engine)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    with engine.connect() as connection:
        tables = set(engine.dialect.get_table_names(connection))
    assert tables == {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_the_search_index_triggers_survive_every_migration(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'triggers.sqlite3'}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        triggers = {
            row[0]
            for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
    assert triggers == {"system_search_insert", "system_search_update", "system_search_delete"}
