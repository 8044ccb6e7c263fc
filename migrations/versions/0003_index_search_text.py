"""Index the folded search text for substring search

Searching "van ban" in 100,000 descriptions with LIKE '%…%' read every row. SQLite gets an
FTS5 table with the trigram tokenizer (it answers LIKE '%abc%' from its index), kept in step
by triggers; PostgreSQL gets a trigram GIN index (pg_trgm), which its planner uses for LIKE.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE system_search USING fts5(
        search_text, content='information_system', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER system_search_insert AFTER INSERT ON information_system BEGIN
        INSERT INTO system_search(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER system_search_delete AFTER DELETE ON information_system BEGIN
        INSERT INTO system_search(system_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER system_search_update AFTER UPDATE OF search_text ON information_system BEGIN
        INSERT INTO system_search(system_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        INSERT INTO system_search(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    "INSERT INTO system_search(system_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS system_search_update",
    "DROP TRIGGER IF EXISTS system_search_delete",
    "DROP TRIGGER IF EXISTS system_search_insert",
    "DROP TABLE IF EXISTS system_search",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_information_system_search_trgm "
    "ON information_system USING gin (search_text gin_trgm_ops)",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_information_system_search_trgm"]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRES_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWN)
