"""Keep the default managing agency chosen for an import's rows that name none

The commit plans the staged file again, with the default the preview used.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('import_upload', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_owner', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_upload', schema=None) as batch_op:
        batch_op.drop_column('default_owner')
