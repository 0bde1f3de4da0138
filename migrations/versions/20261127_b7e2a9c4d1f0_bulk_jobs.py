"""bulk actions: bulk_jobs and bulk_job_items

Revision ID: b7e2a9c4d1f0
Revises: d4e5f6a7b8c9
Create Date: 2026-11-27 03:55:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b7e2a9c4d1f0'
down_revision = "d4e5f6a7b8c9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('values', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.Column('selection', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rq_job_id', sa.String(length=64), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("action IN ('enable', 'disable', 'label', 'topup')", name=op.f('ck_bulk_jobs_action_valid')),
    sa.CheckConstraint("state IN ('queued', 'running', 'retrying', 'done', 'failed')", name=op.f('ck_bulk_jobs_state_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bulk_jobs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_jobs')),
    sa.UniqueConstraint('request_key', name=op.f('uq_bulk_jobs_request_key'))
    )
    with op.batch_alter_table('bulk_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_jobs_user_id'), ['user_id'], unique=False)

    op.create_table('bulk_job_items',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('iccid', sa.String(length=22), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IN ('sending', 'accepted', 'unchanged', 'failed', 'unknown')", name=op.f('ck_bulk_job_items_outcome_valid')),
    sa.ForeignKeyConstraint(['job_id'], ['bulk_jobs.id'], name=op.f('fk_bulk_job_items_job_id_bulk_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'iccid', name=op.f('pk_bulk_job_items'))
    )


def downgrade():
    op.drop_table('bulk_job_items')
    with op.batch_alter_table('bulk_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_jobs_user_id'))

    op.drop_table('bulk_jobs')
