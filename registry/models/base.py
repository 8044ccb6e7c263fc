"""Metadata conventions, set before any table is declared.

Named constraints let later Alembic migrations alter or drop them on SQLite (batch mode
recreates tables and must know each constraint by name) exactly as on PostgreSQL.
"""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
