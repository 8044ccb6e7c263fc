"""Index audit events by action, system and time, for the dashboard's figures

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_audit_event_action_system_time', 'audit_event', ['action', 'system_id', 'occurred_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_audit_event_action_system_time', table_name='audit_event')
