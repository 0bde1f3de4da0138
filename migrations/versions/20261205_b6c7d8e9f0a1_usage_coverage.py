"""usage coverage: the first kept day per SIM, movers only where the period before was kept

Revision ID: b6c7d8e9f0a1
Revises: a5b6c7d8e9f0
Create Date: 2026-12-05 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b6c7d8e9f0a1'
down_revision = 'a5b6c7d8e9f0'
branch_labels = None
depends_on = None

CHANGE = 'abs(data_mb - previous_data_mb) DESC'


def upgrade():
    with op.batch_alter_table('sims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('usage_synced_from', sa.Date(), nullable=True))
        batch_op.create_index('ix_sims_usage_synced_from', ['usage_synced_from'], unique=False)
    # What is known of SIMs synced before: their earliest stored day (a SIM synced without
    # any row stays unknown until its next sync records what it fetched).
    op.execute(
        """
        UPDATE sims s SET usage_synced_from = u.first_day
        FROM (SELECT iccid, min(day) AS first_day FROM usage_daily GROUP BY iccid) u
        WHERE s.iccid = u.iccid AND s.usage_synced_through IS NOT NULL
        """
    )
    with op.batch_alter_table('sim_usage_periods', schema=None) as batch_op:
        batch_op.alter_column('previous_data_mb', existing_type=sa.Numeric(18, 6), nullable=True)
        batch_op.drop_index('ix_sim_usage_periods_change')
        batch_op.create_index(
            'ix_sim_usage_periods_change', ['period_days', sa.text(CHANGE)], unique=False,
            postgresql_where=sa.text('previous_data_mb IS NOT NULL'),
        )
    # The periods are recomputed by the next sync or the hourly job; until then none claims a
    # period before that may not have been kept.
    op.execute('UPDATE sim_usage_periods SET previous_data_mb = NULL')


def downgrade():
    op.execute('UPDATE sim_usage_periods SET previous_data_mb = 0 WHERE previous_data_mb IS NULL')
    with op.batch_alter_table('sim_usage_periods', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_sim_usage_periods_change', postgresql_where=sa.text('previous_data_mb IS NOT NULL')
        )
        batch_op.create_index(
            'ix_sim_usage_periods_change', ['period_days', sa.text(CHANGE)], unique=False
        )
        batch_op.alter_column('previous_data_mb', existing_type=sa.Numeric(18, 6), nullable=False)
    with op.batch_alter_table('sims', schema=None) as batch_op:
        batch_op.drop_index('ix_sims_usage_synced_from')
        batch_op.drop_column('usage_synced_from')
