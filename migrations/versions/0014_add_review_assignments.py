"""Add review assignments: which reviewer has a proposal on their desk

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'review_assignment',
        sa.Column('system_id', sa.Integer(), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=False),
        sa.Column('assigned_by_label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['reviewer_id'], ['app_user.id'], name=op.f('fk_review_assignment_reviewer_id_app_user')),
        sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name=op.f('fk_review_assignment_system_id_information_system'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('system_id', name=op.f('pk_review_assignment')),
    )
    op.create_index(op.f('ix_review_assignment_reviewer_id'), 'review_assignment', ['reviewer_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_review_assignment_reviewer_id'), table_name='review_assignment')
    op.drop_table('review_assignment')
