"""sync runs abandoned by a killed process get an outcome of their own

Revision ID: a5b6c7d8e9f0
Revises: f1a2b3c4d5e6
Create Date: 2026-12-05 00:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a5b6c7d8e9f0"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None

OLD_OUTCOMES = "outcome IN ('running', 'success', 'partial', 'failed', 'skipped')"
NEW_OUTCOMES = "outcome IN ('running', 'success', 'partial', 'failed', 'skipped', 'abandoned')"
# Until now an abandoned run was recorded as failed with this message.
OLD_ABANDONED = "outcome = 'failed' AND error_message = 'abandoned'"


def upgrade():
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_runs_outcome_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_runs_outcome_valid"), NEW_OUTCOMES)
    op.execute(f"UPDATE sync_runs SET outcome = 'abandoned' WHERE {OLD_ABANDONED}")


def downgrade():
    op.execute(
        "UPDATE sync_runs SET outcome = 'failed', error_message = 'abandoned'"
        " WHERE outcome = 'abandoned'"
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_runs_outcome_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_runs_outcome_valid"), OLD_OUTCOMES)
