"""Index systems by status and managing agency, for reporting rounds and scorecards

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_information_system_status_owner', 'information_system', ['status', 'owner_agency_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_information_system_status_owner', table_name='information_system')
