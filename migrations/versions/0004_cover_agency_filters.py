"""Cover agency filters with (agency, id) indexes

Filtering by a province's agencies (about a hundred, communes included) read thousands of wide
rows to get their ids; with the id in the index the databases answer from the index alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain CREATE INDEX, not batch mode: rebuilding the table on SQLite would drop the search
    # index triggers of revision 0003.
    op.create_index("ix_information_system_owner_id", "information_system", ["owner_agency_id", "id"])
    op.create_index("ix_information_system_operator_id", "information_system", ["operator_agency_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_information_system_operator_id", table_name="information_system")
    op.drop_index("ix_information_system_owner_id", table_name="information_system")
