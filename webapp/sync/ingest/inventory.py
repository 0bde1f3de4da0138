"""The inventory pass's writes: SIM rows, what changed in them, and SIMs gone from 1NCE."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models.base import utcnow
from webapp.one_nce import SimRecord
from webapp.sync.ingest.copying import copy_rows, temp_table


def upsert_sims(*, account_id: int, sims: Sequence[SimRecord], seen_at: datetime) -> int:
    """Upsert one inventory batch and record what changed; returns the number of changes.

    A change Simfleet made itself was written to `sims` when 1NCE confirmed it, so what is
    recorded here is what changed elsewhere (or what the sync read before that confirmation).
    """
    temp_table(
        "incoming_sims",
        "iccid text, imsi text, msisdn text, imei text, imei_lock bool, status text,"
        " label text, ip_address text, activation_date timestamptz, current_imsi text,"
        " data_quota_state smallint, sms_quota_state smallint",
    )
    columns = (
        "iccid", "imsi", "msisdn", "imei", "imei_lock", "status", "label", "ip_address",
        "activation_date", "current_imsi", "data_quota_state", "sms_quota_state",
    )  # fmt: skip
    copy_rows("incoming_sims", columns, (_sim_row(sim) for sim in sims))
    changes = db.session.execute(
        sa.text(
            """
            INSERT INTO sim_changes (iccid, changed_at, field, old_value, new_value)
            SELECT i.iccid, :seen_at, change.field, change.old_value, change.new_value
            FROM incoming_sims i
            JOIN sims s ON s.iccid = i.iccid
            CROSS JOIN LATERAL (VALUES
                ('status', s.status, i.status),
                ('label', s.label, i.label),
                ('imei', s.imei, i.imei),
                ('imei_lock', s.imei_lock::text, i.imei_lock::text),
                ('data_quota_state', s.data_quota_state::text, i.data_quota_state::text),
                ('restored', CASE WHEN s.removed_at IS NOT NULL THEN 'removed' END, NULL)
            ) AS change(field, old_value, new_value)
            WHERE change.old_value IS DISTINCT FROM change.new_value
            UNION ALL
            SELECT i.iccid, :seen_at, 'added', NULL, i.status
            FROM incoming_sims i
            WHERE NOT EXISTS (SELECT 1 FROM sims s WHERE s.iccid = i.iccid)
            """
        ),
        {"seen_at": seen_at},
    ).rowcount
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    db.session.execute(
        sa.text(
            f"""
            INSERT INTO sims AS s ({", ".join(columns)}, account_id, first_seen_at,
                                   inventory_synced_at)
            SELECT DISTINCT ON (iccid) {", ".join(columns)}, :account_id, :seen_at, :seen_at
            FROM incoming_sims
            ON CONFLICT (iccid) DO UPDATE SET {assignments},
                account_id = EXCLUDED.account_id,
                inventory_synced_at = EXCLUDED.inventory_synced_at,
                removed_at = NULL,
                changed_at = CASE
                    WHEN (s.status, s.label, s.imei, s.data_quota_state, s.removed_at)
                         IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.label, EXCLUDED.imei,
                                           EXCLUDED.data_quota_state, NULL)
                    THEN EXCLUDED.inventory_synced_at ELSE s.changed_at END
            """
        ),
        {"account_id": account_id, "seen_at": seen_at},
    )
    return changes


def _sim_row(sim: SimRecord) -> tuple:
    return (
        sim.iccid, sim.imsi, sim.msisdn, sim.imei, sim.imei_lock, sim.status, sim.label,
        sim.ip_address, sim.activation_date, sim.current_imsi,
        sim.quota_status.id if sim.quota_status else None,
        sim.quota_status_sms.id if sim.quota_status_sms else None,
    )  # fmt: skip


def mark_removed(*, account_id: int, before: datetime) -> int:
    """Flag SIMs that a complete inventory pass did not see; returns how many."""
    return db.session.execute(
        sa.text(
            """
            WITH gone AS (
                UPDATE sims SET removed_at = :now, changed_at = :now
                WHERE account_id = :account_id AND removed_at IS NULL
                  AND inventory_synced_at < :before
                RETURNING iccid, status
            )
            INSERT INTO sim_changes (iccid, changed_at, field, old_value, new_value)
            SELECT iccid, :now, 'removed', status, 'removed' FROM gone
            """
        ),
        {"account_id": account_id, "before": before, "now": utcnow()},
    ).rowcount
