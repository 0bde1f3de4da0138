"""forecast reason: the data runs out (volume) or the quota expires first, with the volume
left unused at expiry; the API's forecast says which

Revision ID: d8e9f0a1b2c3
Revises: c7d8e9f0a1b2
Create Date: 2026-12-06 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd8e9f0a1b2c3'
down_revision = 'c7d8e9f0a1b2'
branch_labels = None
depends_on = None

# sim_document() as f1a2b3c4d5e6 left it (restored by the downgrade)...
OLD_SIM_DOCUMENT = """
CREATE OR REPLACE FUNCTION sim_document(s sims) RETURNS text LANGUAGE sql STABLE AS $$
SELECT json_build_object(
    'iccid', s.iccid, 'imsi', s.imsi, 'msisdn', s.msisdn, 'imei', nullif(s.imei, ''),
    'imei_lock', s.imei_lock, 'status', s.status, 'label', nullif(s.label, ''),
    'ip_address', s.ip_address, 'activation_date', s.activation_date,
    'data_quota', json_build_object(
        'remaining_mb', trim_scale(s.data_remaining_mb),
        'total_mb', trim_scale(s.data_total_mb), 'lifetime_mb', trim_scale(s.data_lifetime_mb),
        'expiry_date', s.data_expires_at,
        'state', CASE s.data_quota_state WHEN 0 THEN 'ok' WHEN 1 THEN 'low'
                                         WHEN 2 THEN 'exhausted' END),
    'sms_quota', json_build_object(
        'remaining', s.sms_remaining, 'total', s.sms_total, 'expiry_date', s.sms_expires_at,
        'state', CASE s.sms_quota_state WHEN 0 THEN 'ok' WHEN 1 THEN 'low'
                                        WHEN 2 THEN 'exhausted' END),
    'connectivity', json_build_object(
        'status', s.connectivity_status, 'online', s.online, 'last_seen_at', s.last_seen_at,
        'operator', s.operator, 'country', s.country, 'rat', s.rat, 'data_limit_reached', s.data_limit_reached),
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

# ...and with the forecast's day, reason and unused volume (webapp/sim_queries.py's
# forecast_of); data_exhausted_on keeps its old meaning, the day the quota ends.
EXPIRES_ON = "timezone('UTC', s.data_expires_at)::date"
ENDS_ON = f"LEAST(s.data_exhausted_on, {EXPIRES_ON})"
REASON = (
    f"CASE WHEN {EXPIRES_ON} < COALESCE(s.data_exhausted_on, 'infinity'::date) THEN 'expires'"
    " WHEN s.data_exhausted_on IS NOT NULL THEN 'runs_out' END"
)
SIM_DOCUMENT = OLD_SIM_DOCUMENT.replace(
    "'data_exhausted_on', s.data_exhausted_on,",
    f"'ends_on', {ENDS_ON}, 'reason', {REASON},"
    " 'runs_out_on', s.data_exhausted_on,"
    " 'unused_at_expiry_mb', trim_scale(s.data_unused_at_expiry_mb),"
    f" 'data_exhausted_on', {ENDS_ON},",
)
assert SIM_DOCUMENT.count("'reason'") == 1

# The forecast as webapp/sync/ingest/usage.py computes it today, from each SIM's last synced
# day of usage (the day its forecast was last computed from).
TODAY = "COALESCE(usage_synced_through, timezone('UTC', now())::date)"
RUNS_OUT_ON = f"""
    CASE WHEN avg_daily_mb_7d > 0 AND data_remaining_mb IS NOT NULL
              AND data_remaining_mb / avg_daily_mb_7d <= 3660
         THEN {TODAY} + CEIL(data_remaining_mb / avg_daily_mb_7d)::int END
"""
SIM_EXPIRES_ON = "timezone('UTC', data_expires_at)::date"
FORECAST = f"""
UPDATE sims SET
    data_exhausted_on = {RUNS_OUT_ON},
    data_unused_at_expiry_mb = CASE
        WHEN {SIM_EXPIRES_ON} < COALESCE({RUNS_OUT_ON}, 'infinity'::date)
        THEN GREATEST(0, data_remaining_mb - COALESCE(avg_daily_mb_7d, 0)
                         * GREATEST(0, {SIM_EXPIRES_ON} - {TODAY})) END
"""
OLD_FORECAST = f"UPDATE sims SET data_exhausted_on = LEAST(data_exhausted_on, {SIM_EXPIRES_ON})"


def rewrite_documents():
    op.execute("UPDATE sim_documents d SET body = sim_document(s) FROM sims s WHERE s.iccid = d.iccid")


def upgrade():
    op.execute("SET LOCAL \"TimeZone\" TO 'UTC'")
    with op.batch_alter_table('sims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_unused_at_expiry_mb', sa.Numeric(precision=18, scale=6), nullable=True))
    op.execute(SIM_DOCUMENT)
    op.execute(FORECAST)
    rewrite_documents()


def downgrade():
    op.execute("SET LOCAL \"TimeZone\" TO 'UTC'")
    op.execute(OLD_SIM_DOCUMENT)
    op.execute(OLD_FORECAST)
    with op.batch_alter_table('sims', schema=None) as batch_op:
        batch_op.drop_column('data_unused_at_expiry_mb')
    rewrite_documents()
