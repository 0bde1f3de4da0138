"""audit log: keyset indexes for the admin page's filters

Revision ID: 7f7f2062b07e
Revises: c1d2e3f4a5b6
Create Date: 2026-11-27 04:10:00

The audit page lists events newest first by (at, id), alone or filtered by an exact action
(an action prefix is resolved to its actions first), actor or target. Each index ends with
(at, id), so a page is one backward index range scan whatever the table size. (at, id)
replaces (at), and (action, at, id) replaces (action). Written by hand.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7f7f2062b07e'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_events_at_id', 'audit_events', ['at', 'id'])
    op.create_index('ix_audit_events_action_at_id', 'audit_events', ['action', 'at', 'id'])
    op.create_index('ix_audit_events_actor_at_id', 'audit_events', ['actor', 'at', 'id'])
    op.create_index('ix_audit_events_target_at_id', 'audit_events', ['target', 'at', 'id'])
    op.drop_index('ix_audit_events_at', table_name='audit_events')
    op.drop_index('ix_audit_events_action', table_name='audit_events')


def downgrade():
    op.create_index('ix_audit_events_action', 'audit_events', ['action'])
    op.create_index('ix_audit_events_at', 'audit_events', ['at'])
    op.drop_index('ix_audit_events_target_at_id', table_name='audit_events')
    op.drop_index('ix_audit_events_actor_at_id', table_name='audit_events')
    op.drop_index('ix_audit_events_action_at_id', table_name='audit_events')
    op.drop_index('ix_audit_events_at_id', table_name='audit_events')
