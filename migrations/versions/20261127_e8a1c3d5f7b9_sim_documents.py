"""api: sim_documents, each SIM's API JSON kept current by triggers on sims

Revision ID: e8a1c3d5f7b9
Revises: b7e2a9c4d1f0
Create Date: 2026-11-27 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e8a1c3d5f7b9'
down_revision = 'b7e2a9c4d1f0'
branch_labels = None
depends_on = None

# The SIM as GET /api/v1/sims shows it (webapp/api/representation.py). A new field means a
# new migration that replaces this function and rewrites every document.
SIM_DOCUMENT = """
CREATE FUNCTION sim_document(s sims) RETURNS text LANGUAGE sql STABLE AS $$
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

# One set-based upsert per statement on sims, in the writer's transaction. JSON writes
# timestamps in the session's time zone: fixed to UTC here, whoever writes.
WRITE_SIM_DOCUMENTS = """
CREATE FUNCTION write_sim_documents() RETURNS trigger LANGUAGE plpgsql
SET "TimeZone" TO 'UTC' AS $$
BEGIN
    INSERT INTO sim_documents (iccid, body)
    SELECT s.iccid, sim_document(s) FROM written_sims s
    ON CONFLICT (iccid) DO UPDATE SET body = EXCLUDED.body;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table('sim_documents',
    sa.Column('iccid', sa.String(length=22), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['iccid'], ['sims.iccid'], name=op.f('fk_sim_documents_iccid_sims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('iccid', name=op.f('pk_sim_documents'))
    )
    op.execute(SIM_DOCUMENT)
    op.execute(WRITE_SIM_DOCUMENTS)
    # A trigger with transition tables fires on one event only, hence two.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER sims_write_documents_after_{event.lower()} AFTER {event} ON sims"
            " REFERENCING NEW TABLE AS written_sims"
            " FOR EACH STATEMENT EXECUTE FUNCTION write_sim_documents()"
        )
    op.execute("SET LOCAL \"TimeZone\" TO 'UTC'")
    op.execute("INSERT INTO sim_documents (iccid, body) SELECT iccid, sim_document(s) FROM sims s")


def downgrade():
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER sims_write_documents_after_{event} ON sims")
    op.execute("DROP FUNCTION write_sim_documents()")
    op.execute("DROP FUNCTION sim_document(sims)")
    op.drop_table('sim_documents')
