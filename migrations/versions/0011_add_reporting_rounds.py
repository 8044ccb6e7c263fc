"""Add reporting rounds, system attestations, and who filed each usage report

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'reporting_round',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('opened_by_label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['opened_by_id'], ['app_user.id'], name=op.f('fk_reporting_round_opened_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_round')),
    )
    op.create_index(op.f('ix_reporting_round_status'), 'reporting_round', ['status'])

    op.create_table(
        'round_agency',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminder_count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_round_agency_agency_id_agency')),
        sa.ForeignKeyConstraint(['round_id'], ['reporting_round.id'], name=op.f('fk_round_agency_round_id_reporting_round'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_round_agency')),
        sa.UniqueConstraint('round_id', 'agency_id', name='uq_round_agency_round_agency'),
    )
    op.create_index(op.f('ix_round_agency_agency_id'), 'round_agency', ['agency_id'])
    op.create_index(op.f('ix_round_agency_round_id'), 'round_agency', ['round_id'])

    op.create_table(
        'system_attestation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('system_id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('attested_by_id', sa.Integer(), nullable=True),
        sa.Column('attested_by_label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('attested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_system_attestation_agency_id_agency')),
        sa.ForeignKeyConstraint(['attested_by_id'], ['app_user.id'], name=op.f('fk_system_attestation_attested_by_id_app_user')),
        sa.ForeignKeyConstraint(['round_id'], ['reporting_round.id'], name=op.f('fk_system_attestation_round_id_reporting_round'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name=op.f('fk_system_attestation_system_id_information_system'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_system_attestation')),
    )
    op.create_index(op.f('ix_system_attestation_round_id'), 'system_attestation', ['round_id'])
    # "When was each system last attested": one index range per system, newest last.
    op.create_index('ix_system_attestation_system_latest', 'system_attestation', ['system_id', 'attested_at'])

    with op.batch_alter_table('usage_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('filed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('filed_by_label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_usage_report_round_id'), ['round_id'], unique=False)
        batch_op.create_unique_constraint('uq_usage_report_system_period', ['system_id', 'period_start', 'period_end'])
        batch_op.create_foreign_key(batch_op.f('fk_usage_report_round_id_reporting_round'), 'reporting_round', ['round_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_usage_report_filed_by_id_app_user'), 'app_user', ['filed_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('usage_report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_usage_report_filed_by_id_app_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_usage_report_round_id_reporting_round'), type_='foreignkey')
        batch_op.drop_constraint('uq_usage_report_system_period', type_='unique')
        batch_op.drop_index(batch_op.f('ix_usage_report_round_id'))
        batch_op.drop_column('filed_at')
        batch_op.drop_column('filed_by_label')
        batch_op.drop_column('filed_by_id')
        batch_op.drop_column('round_id')
    op.drop_table('system_attestation')
    op.drop_table('round_agency')
    op.drop_table('reporting_round')
