"""dashboard: sim_usage_periods (per-SIM data of recent periods), an index of alert events

Revision ID: d4e5f6a7b8c9
Revises: afd51c0f5612
Create Date: 2026-11-27 03:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'afd51c0f5612'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sim_usage_periods',
    sa.Column('iccid', sa.String(length=22), nullable=False),
    sa.Column('period_days', sa.SmallInteger(), nullable=False),
    sa.Column('through', sa.Date(), nullable=False),
    sa.Column('data_mb', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('previous_data_mb', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.PrimaryKeyConstraint('iccid', 'period_days', name=op.f('pk_sim_usage_periods'))
    )
    with op.batch_alter_table('sim_usage_periods', schema=None) as batch_op:
        batch_op.create_index('ix_sim_usage_periods_data', ['period_days', sa.text('data_mb DESC')], unique=False)
        batch_op.create_index('ix_sim_usage_periods_change', ['period_days', sa.text('abs(data_mb - previous_data_mb) DESC')], unique=False)

    with op.batch_alter_table('sim_events', schema=None) as batch_op:
        batch_op.create_index('ix_sim_events_alert_occurred_at', ['occurred_at'], unique=False, postgresql_where=sa.text('alert'))


def downgrade():
    with op.batch_alter_table('sim_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sim_events_alert_occurred_at', postgresql_where=sa.text('alert'))

    with op.batch_alter_table('sim_usage_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_sim_usage_periods_change')
        batch_op.drop_index('ix_sim_usage_periods_data')

    op.drop_table('sim_usage_periods')
