"""bulk item values: each SIM's new value (a label from a pattern such as "{label} (site A)")
is resolved once per job and kept on its item

Revision ID: f0a1b2c3d4e5
Revises: e9f0a1b2c3d4
Create Date: 2026-12-06 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f0a1b2c3d4e5'
down_revision = 'e9f0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bulk_job_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_value', sa.String(length=255), nullable=True))
    # Items of earlier jobs get the one value their job set on every SIM; labels of jobs not
    # resolved yet become patterns that mean the same text (braces doubled).
    op.execute(
        """
        UPDATE bulk_job_items AS item
        SET new_value = CASE job.action
            WHEN 'enable' THEN 'Enabled'
            WHEN 'disable' THEN 'Disabled'
            ELSE job.values ->> 'label' END
        FROM bulk_jobs AS job
        WHERE item.job_id = job.id AND job.action IN ('enable', 'disable', 'label')
          AND item.outcome IS DISTINCT FROM 'unchanged'
        """
    )
    op.execute(
        """
        UPDATE bulk_jobs
        SET values = jsonb_set(
            values, '{label}',
            to_jsonb(replace(replace(values ->> 'label', '{', '{{'), '}', '}}')))
        WHERE action = 'label' AND total IS NULL AND values ? 'label'
        """
    )


def downgrade():
    op.execute(
        """
        UPDATE bulk_jobs
        SET values = jsonb_set(
            values, '{label}',
            to_jsonb(replace(replace(values ->> 'label', '{{', '{'), '}}', '}')))
        WHERE action = 'label' AND total IS NULL AND values ? 'label'
        """
    )
    with op.batch_alter_table('bulk_job_items', schema=None) as batch_op:
        batch_op.drop_column('new_value')
