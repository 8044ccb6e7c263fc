"""Keep each import upload's parsed rows, and what each job works on

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('import_upload') as batch:
        batch.add_column(sa.Column('parsed', sa.JSON(), nullable=True))
    with op.batch_alter_table('job') as batch:
        batch.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.drop_column('params')
    with op.batch_alter_table('import_upload') as batch:
        batch.drop_column('parsed')
