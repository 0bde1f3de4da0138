"""alerts: rules, channels and their links, alerts (one open per rule and SIM) and the outbox
of notifications (one per alert, channel and kind)

Revision ID: a7b8c9d0e1f2
Revises: f0a1b2c3d4e5
Create Date: 2026-12-07 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'a7b8c9d0e1f2'
down_revision = 'f0a1b2c3d4e5'
branch_labels = None
depends_on = None

# The states and kinds as they were when this was written (webapp/models/alert.py).
SEVERITIES = ('info', 'warning', 'critical')
TARGET_TYPES = ('all', 'label', 'view')
CONDITION_TYPES = (
    'data_quota_below_percent', 'data_quota_below_mb', 'sms_quota_below_percent',
    'sms_quota_below_count', 'quota_exhausted', 'data_exhaustion_within_days',
    'expiry_within_days', 'usage_anomaly', 'silent', 'status_changed', 'imei_changed',
    'sim_removed', 'sync_stale', 'once_error_rate', 'api_version_retired',
)
CHANNEL_TYPES = ('email', 'webhook', 'slack')
DIGEST_PERIODS = ('hourly', 'daily')
ALERT_STATES = ('firing', 'acknowledged', 'resolved')
NOTIFICATION_KINDS = ('fired', 'resolved', 'test')
NOTIFICATION_STATUSES = ('pending', 'sent', 'failed')


def one_of(column, values, name):
    """A named CHECK that `column` holds one of `values`."""
    listed = ', '.join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f'{column} IN ({listed})', name=op.f(name))


def upgrade():
    op.create_table('alert_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('config', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('digest_period', sa.String(length=16), nullable=True),
    sa.Column('send_resolved', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    one_of('digest_period', DIGEST_PERIODS, 'ck_alert_channels_digest_period_valid'),
    one_of('type', CHANNEL_TYPES, 'ck_alert_channels_type_valid'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_channels')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_channels_name'))
    )
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('target_value', sa.String(length=255), nullable=True),
    sa.Column('condition_type', sa.String(length=40), nullable=False),
    sa.Column('condition_params', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('include_inactive', sa.Boolean(), nullable=False),
    sa.Column('cooldown_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    one_of('condition_type', CONDITION_TYPES, 'ck_alert_rules_condition_type_valid'),
    one_of('severity', SEVERITIES, 'ck_alert_rules_severity_valid'),
    one_of('target_type', TARGET_TYPES, 'ck_alert_rules_target_type_valid'),
    sa.CheckConstraint('cooldown_minutes >= 0', name=op.f('ck_alert_rules_cooldown_not_negative')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_alert_rules_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_alert_rules_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_rules_name'))
    )
    op.create_table('alert_rule_channels',
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['alert_channels.id'], name=op.f('fk_alert_rule_channels_channel_id_alert_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_rule_channels_rule_id_alert_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'channel_id', name=op.f('pk_alert_rule_channels'))
    )
    with op.batch_alter_table('alert_rule_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_rule_channels_channel_id'), ['channel_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('iccid', sa.String(length=22), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_value', sa.String(length=255), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    one_of('severity', SEVERITIES, 'ck_alerts_severity_valid'),
    one_of('state', ALERT_STATES, 'ck_alerts_state_valid'),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], name=op.f('fk_alerts_acknowledged_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alerts_rule_id_alert_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_iccid_since', ['iccid', 'since'], unique=False)
        batch_op.create_index('ix_alerts_resolved_at', ['resolved_at'], unique=False)
        batch_op.create_index('ix_alerts_rule_id_iccid_resolved_at', ['rule_id', 'iccid', 'resolved_at'], unique=False)
        batch_op.create_index('ix_alerts_state_since', ['state', 'since'], unique=False)
        # One open alert per rule and SIM; a system alert (no SIM) is one key too.
        batch_op.create_index('uq_alerts_open_rule_id_iccid', ['rule_id', 'iccid'], unique=True, postgresql_where=sa.text("state <> 'resolved'"), postgresql_nulls_not_distinct=True)

    op.create_table('alert_notifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('alert_id', sa.BigInteger(), nullable=True),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    one_of('kind', NOTIFICATION_KINDS, 'ck_alert_notifications_kind_valid'),
    one_of('status', NOTIFICATION_STATUSES, 'ck_alert_notifications_status_valid'),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_notifications_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['channel_id'], ['alert_channels.id'], name=op.f('fk_alert_notifications_channel_id_alert_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_notifications')),
    sa.UniqueConstraint('alert_id', 'channel_id', 'kind', name=op.f('uq_alert_notifications_alert_id'))
    )
    with op.batch_alter_table('alert_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_alert_notifications_pending', ['channel_id', 'created_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))



def downgrade():
    with op.batch_alter_table('alert_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_notifications_pending', postgresql_where=sa.text("status = 'pending'"))

    op.drop_table('alert_notifications')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_open_rule_id_iccid', postgresql_where=sa.text("state <> 'resolved'"), postgresql_nulls_not_distinct=True)
        batch_op.drop_index('ix_alerts_state_since')
        batch_op.drop_index('ix_alerts_rule_id_iccid_resolved_at')
        batch_op.drop_index('ix_alerts_resolved_at')
        batch_op.drop_index('ix_alerts_iccid_since')

    op.drop_table('alerts')
    with op.batch_alter_table('alert_rule_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_rule_channels_channel_id'))

    op.drop_table('alert_rule_channels')
    op.drop_table('alert_rules')
    op.drop_table('alert_channels')
