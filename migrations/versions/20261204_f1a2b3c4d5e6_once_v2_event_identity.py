"""1NCE v2: events identified by 1NCE's id (v1: the whole record), traffic limit, lifetime volume

Revision ID: f1a2b3c4d5e6
Revises: e8a1c3d5f7b9
Create Date: 2026-12-04 19:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e8a1c3d5f7b9'
branch_labels = None
depends_on = None

# The same expression as webapp/sync/ingest/readings.py's EVENT_KEY, over the stored columns: a
# re-sync of an event stored before this migration finds it under the same key.
EVENT_KEY = """
    COALESCE('id:' || (details->>'id'),
             'md5:' || md5(jsonb_build_array(event_type, severity, alert, country, operator,
                                             details)::text))
"""

# sim_document() as e8a1c3d5f7b9 left it (restored by the downgrade)...
OLD_SIM_DOCUMENT = """
CREATE OR REPLACE FUNCTION sim_document(s sims) RETURNS text LANGUAGE sql STABLE AS $$
SELECT json_build_object(
    'iccid', s.iccid, 'imsi', s.imsi, 'msisdn', s.msisdn, 'imei', nullif(s.imei, ''),
    'imei_lock', s.imei_lock, 'status', s.status, 'label', nullif(s.label, ''),
    'ip_address', s.ip_address, 'activation_date', s.activation_date,
    'data_quota', json_build_object(
        'remaining_mb', trim_scale(s.data_remaining_mb),
        'total_mb', trim_scale(s.data_total_mb),
        'expiry_date', s.data_expires_at,
        'state', CASE s.data_quota_state WHEN 0 THEN 'ok' WHEN 1 THEN 'low'
                                         WHEN 2 THEN 'exhausted' END),
    'sms_quota', json_build_object(
        'remaining', s.sms_remaining, 'total', s.sms_total, 'expiry_date', s.sms_expires_at,
        'state', CASE s.sms_quota_state WHEN 0 THEN 'ok' WHEN 1 THEN 'low'
                                        WHEN 2 THEN 'exhausted' END),
    'connectivity', json_build_object(
        'status', s.connectivity_status, 'online', s.online, 'last_seen_at', s.last_seen_at,
        'operator', s.operator, 'country', s.country, 'rat', s.rat),
    'forecast', json_build_object(
        'data_exhausted_on', s.data_exhausted_on,
        'avg_daily_mb_7d', trim_scale(s.avg_daily_mb_7d),
        'avg_daily_mb_30d', trim_scale(s.avg_daily_mb_30d),
        'last_traffic_on', s.last_traffic_on),
    'synced_at', json_build_object(
        'inventory', s.inventory_synced_at, 'usage', s.usage_synced_at,
        'quotas', s.quotas_synced_at, 'events', s.events_synced_at,
        'connectivity', s.connectivity_synced_at),
    'removed_at', s.removed_at
)::text
$$
"""

# ...and with data_quota.lifetime_mb and connectivity.data_limit_reached added.
SIM_DOCUMENT = OLD_SIM_DOCUMENT.replace(
    "'total_mb', trim_scale(s.data_total_mb),",
    "'total_mb', trim_scale(s.data_total_mb),"
    " 'lifetime_mb', trim_scale(s.data_lifetime_mb),",
).replace("'rat', s.rat)", "'rat', s.rat, 'data_limit_reached', s.data_limit_reached)")
assert SIM_DOCUMENT.count("'lifetime_mb'") == SIM_DOCUMENT.count("'data_limit_reached'") == 1


def rewrite_documents():
    op.execute("SET LOCAL \"TimeZone\" TO 'UTC'")
    op.execute("UPDATE sim_documents d SET body = sim_document(s) FROM sims s WHERE s.iccid = d.iccid")


def upgrade():
    with op.batch_alter_table('sims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_lifetime_mb', sa.Numeric(precision=18, scale=6), nullable=True))
        batch_op.add_column(sa.Column('data_limit_reached', sa.Boolean(), nullable=True))
    op.execute(SIM_DOCUMENT)
    rewrite_documents()

    op.add_column('sim_events', sa.Column('event_key', sa.String(length=64), nullable=True))
    op.execute(f"UPDATE sim_events SET event_key = {EVENT_KEY}")
    op.alter_column('sim_events', 'event_key', nullable=False)
    op.drop_constraint('pk_sim_events', 'sim_events', type_='primary')
    op.create_primary_key('pk_sim_events', 'sim_events', ['iccid', 'occurred_at', 'event_key'])


def downgrade():
    # Keeps one event per (SIM, second, type), as the old key allowed.
    op.execute(
        "DELETE FROM sim_events e USING sim_events d"
        " WHERE (e.iccid, e.occurred_at, e.event_type) = (d.iccid, d.occurred_at, d.event_type)"
        " AND e.event_key > d.event_key"
    )
    op.drop_constraint('pk_sim_events', 'sim_events', type_='primary')
    op.create_primary_key('pk_sim_events', 'sim_events', ['iccid', 'occurred_at', 'event_type'])
    op.drop_column('sim_events', 'event_key')

    op.execute(OLD_SIM_DOCUMENT)
    rewrite_documents()
    with op.batch_alter_table('sims', schema=None) as batch_op:
        batch_op.drop_column('data_limit_reached')
        batch_op.drop_column('data_lifetime_mb')
