"""Keep the preview a job made of a large import

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('import_upload') as batch:
        batch.add_column(sa.Column('preview', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_upload') as batch:
        batch.drop_column('preview')
