"""a SIM change keeps the values it replaced; an operator can cancel a sync run

Revision ID: e9f0a1b2c3d4
Revises: d8e9f0a1b2c3
Create Date: 2026-12-06 00:00:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "e9f0a1b2c3d4"
down_revision = "d8e9f0a1b2c3"
branch_labels = None
depends_on = None

OLD_OUTCOMES = "outcome IN ('running', 'success', 'partial', 'failed', 'skipped', 'abandoned')"
NEW_OUTCOMES = (
    "outcome IN ('running', 'success', 'partial', 'failed', 'skipped', 'abandoned', 'cancelled')"
)


def upgrade():
    with op.batch_alter_table("sim_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous", postgresql.JSONB(), nullable=True))
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_runs_outcome_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_runs_outcome_valid"), NEW_OUTCOMES)


def downgrade():
    # Before this revision a run stopped from outside was recorded as abandoned.
    op.execute("UPDATE sync_runs SET outcome = 'abandoned' WHERE outcome = 'cancelled'")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_runs_outcome_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_runs_outcome_valid"), OLD_OUTCOMES)
    with op.batch_alter_table("sim_actions", schema=None) as batch_op:
        batch_op.drop_column("previous")
