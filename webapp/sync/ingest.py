"""Set-based writes of what the sync fetched: COPY into a temporary table, then one
statement per batch (`INSERT ... ON CONFLICT`, or for usage insert, update and rollup in one;
a batch of new usage rows is copied straight in). Never a loop of ORM objects."""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import sqlalchemy as sa

from webapp.chart_ranges import CHART_RANGES
from webapp.extensions import db
from webapp.models.base import utcnow
from webapp.one_nce import Connectivity, Event, Quota, SimRecord, UsageRecord

# The forecast: the day the data quota runs out at the last 7 days' average rate, or the day
# it expires, whichever comes first.
FORECAST = """
    LEAST(
        data_expires_at::date,
        CASE WHEN avg_daily_mb_7d > 0 AND data_remaining_mb IS NOT NULL
             THEN current_date + CEIL(data_remaining_mb / avg_daily_mb_7d)::int END
    )
"""

# An event's identity: 1NCE's id on v2; on v1, whose events have none, the whole record, so
# two events that differ in any field (two location updates in one second) are two rows.
# Migration f1a2b3c4d5e6 keyed the events stored before it with the same expression.
EVENT_KEY = """
    COALESCE('id:' || (details->>'id'),
             'md5:' || md5(jsonb_build_array(event_type, severity, alert, country, operator,
                                             details)::text))
"""

# pg_advisory_xact_lock key of the usage writers.
USAGE_WRITE_LOCK = 0x5349_4D55  # "SIMU"

USAGE_COLUMNS = ("iccid", "day", "data_rx_mb", "data_tx_mb", "sms_mo", "sms_mt")
# usage_daily's scale, rounded as PostgreSQL rounds numeric (half away from zero).
MB_SCALE = Decimal("0.000001")
# Per-day totals of rows just stored, added to the rollup.
ADD_TO_ROLLUP = """
    INSERT INTO fleet_usage_daily AS f (account_id, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)
    SELECT :account_id, * FROM unnest(
        CAST(:days AS date[]), CAST(:data_rx_mb AS numeric[]), CAST(:data_tx_mb AS numeric[]),
        CAST(:sms_mo AS bigint[]), CAST(:sms_mt AS bigint[]))
    ON CONFLICT (account_id, day) DO UPDATE SET
        data_rx_mb = f.data_rx_mb + EXCLUDED.data_rx_mb,
        data_tx_mb = f.data_tx_mb + EXCLUDED.data_tx_mb,
        sms_mo = f.sms_mo + EXCLUDED.sms_mo,
        sms_mt = f.sms_mt + EXCLUDED.sms_mt
"""
# Compare the batch with the stored rows in one pass (in key order, which also makes the
# inserts cheap), then insert the new rows, update the changed ones, leave the unchanged ones
# alone, and move the rollup by new minus old. All parts see the rows as they were before.
# Stored rows are found by the batch's SIMs and day range, given as values: a hypertable then
# skips chunks outside the range while planning, and each remaining chunk (or the plain
# table) is read through its primary key per SIM instead of scanned whole.
# The temporary table is not analyzed: with the lookup bound this way the plan does not
# hinge on its statistics, and ANALYZE would cost a sixth of the write. It holds one row per
# SIM and day: upsert_usage keeps the last of a repeated day.
WRITE_USAGE = """
    WITH incoming AS (
        SELECT * FROM incoming_usage ORDER BY iccid, day
    ), stored AS (
        SELECT * FROM usage_daily
        WHERE iccid = ANY(:iccids) AND day BETWEEN :first_day AND :last_day
    ), changed AS (
        SELECT i.*, u.iccid IS NOT NULL AS stored,
               COALESCE(u.data_rx_mb, 0) AS old_rx, COALESCE(u.data_tx_mb, 0) AS old_tx,
               COALESCE(u.sms_mo, 0) AS old_mo, COALESCE(u.sms_mt, 0) AS old_mt
        FROM incoming i LEFT JOIN stored u USING (iccid, day)
        WHERE u.iccid IS NULL
           OR (u.data_rx_mb, u.data_tx_mb, u.sms_mo, u.sms_mt)
              IS DISTINCT FROM (i.data_rx_mb, i.data_tx_mb, i.sms_mo, i.sms_mt)
    ), inserted AS (
        INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)
        SELECT iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt FROM changed WHERE NOT stored
    ), updated AS (
        UPDATE usage_daily u SET data_rx_mb = c.data_rx_mb, data_tx_mb = c.data_tx_mb,
            sms_mo = c.sms_mo, sms_mt = c.sms_mt
        FROM changed c
        WHERE c.stored AND u.iccid = c.iccid AND u.day = c.day
          AND u.iccid = ANY(:iccids) AND u.day BETWEEN :first_day AND :last_day
    ), deltas AS (
        SELECT day, SUM(data_rx_mb - old_rx) AS data_rx_mb, SUM(data_tx_mb - old_tx) AS data_tx_mb,
               SUM(sms_mo - old_mo) AS sms_mo, SUM(sms_mt - old_mt) AS sms_mt, COUNT(*) AS written
        FROM changed GROUP BY day
    ), rollup AS (
        INSERT INTO fleet_usage_daily AS f (account_id, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)
        SELECT :account_id, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt FROM deltas
        ON CONFLICT (account_id, day) DO UPDATE SET
            data_rx_mb = f.data_rx_mb + EXCLUDED.data_rx_mb,
            data_tx_mb = f.data_tx_mb + EXCLUDED.data_tx_mb,
            sms_mo = f.sms_mo + EXCLUDED.sms_mo,
            sms_mt = f.sms_mt + EXCLUDED.sms_mt
    )
    SELECT COALESCE(SUM(written), 0) FROM deltas
"""


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` into `table` in the session's transaction."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _temp_table(name: str, definition: str) -> None:
    db.session.execute(
        sa.text(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({definition}) ON COMMIT DELETE ROWS")
    )


def upsert_sims(*, account_id: int, sims: Sequence[SimRecord], seen_at: datetime) -> int:
    """Upsert one inventory batch and record what changed; returns the number of changes."""
    _temp_table(
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


def upsert_usage(*, account_id: int, rows: Sequence[tuple[str, UsageRecord]]) -> int:
    """Upsert daily usage rows and move the fleet rollup by exactly what changed."""
    if not rows:
        return 0
    # One usage writer at a time, until commit: this statement's snapshot then holds every
    # row an earlier writer committed, so the new rows can be plain inserts and the rollup
    # moves by exactly new minus old even when two workers write the same SIMs.
    db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": USAGE_WRITE_LOCK})
    latest = {(iccid, u.day): (iccid, u) for iccid, u in rows}  # a repeated day: the last
    if not _probably_stored(*min(latest)) and _copy_new_usage(
        latest.values(), account_id=account_id
    ):
        return len(latest)
    days = [u.day for _, u in rows]
    bounds = {
        "account_id": account_id,
        "iccids": sorted({iccid for iccid, _ in rows}),
        "first_day": min(days),
        "last_day": max(days),
    }
    # Same scale as usage_daily, so the rollup moves by the values as stored.
    _temp_table(
        "incoming_usage",
        "iccid text, day date, data_rx_mb numeric(18, 6), data_tx_mb numeric(18, 6),"
        " sms_mo int, sms_mt int",
    )
    copy_rows("incoming_usage", USAGE_COLUMNS, _usage_values(latest.values()))
    return db.session.execute(sa.text(WRITE_USAGE), bounds).scalar_one()


def _probably_stored(iccid: str, day: date) -> bool:
    # A batch of revisions starts with a stored row (the sync fetches from the last synced
    # day); one primary-key probe tells it from a batch of new rows without looking them all up.
    return db.session.scalar(
        sa.text("SELECT EXISTS (SELECT 1 FROM usage_daily WHERE iccid = :iccid AND day = :day)"),
        {"iccid": iccid, "day": day},
    )


def _copy_new_usage(rows: Iterable[tuple[str, UsageRecord]], *, account_id: int) -> bool:
    # Most usage rows are new (a SIM's first sync, every new day): COPY them straight into
    # usage_daily, the fastest write there is, and add the per-day totals to the rollup. Any
    # row already stored makes the primary key refuse the whole COPY, which is then undone
    # (False) and left to the merge. The values come rounded as usage_daily rounds them, so
    # the rollup adds what was stored.
    values = list(_usage_values(rows))
    try:
        with db.session.begin_nested():
            copy_rows("usage_daily", USAGE_COLUMNS, values)
    except psycopg.errors.UniqueViolation:
        return False
    totals = defaultdict(lambda: [0, 0, 0, 0])
    for _, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt in values:
        total = totals[day]
        total[0] += data_rx_mb
        total[1] += data_tx_mb
        total[2] += sms_mo
        total[3] += sms_mt
    days, data_rx_mb, data_tx_mb, sms_mo, sms_mt = zip(
        *((day, *total) for day, total in totals.items()), strict=True
    )
    db.session.execute(
        sa.text(ADD_TO_ROLLUP),
        {"account_id": account_id, "days": list(days), "data_rx_mb": list(data_rx_mb),
         "data_tx_mb": list(data_tx_mb), "sms_mo": list(sms_mo), "sms_mt": list(sms_mt)},
    )  # fmt: skip
    return True


def _mb(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(MB_SCALE, ROUND_HALF_UP)


def _usage_values(rows: Iterable[tuple[str, UsageRecord]]) -> Iterator[tuple]:
    for iccid, u in rows:
        yield iccid, u.day, _mb(u.data_rx_mb), _mb(u.data_tx_mb), u.sms_mo or 0, u.sms_mt or 0


def refresh_usage_figures(*, iccids: Sequence[str], synced_through: date) -> None:
    """Recompute the SIMs' 7/30-day averages, last traffic day and forecast after new usage."""
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET
                avg_daily_mb_7d = COALESCE(a.mb_7d, 0) / 7,
                avg_daily_mb_30d = COALESCE(a.mb_30d, 0) / 30,
                last_traffic_on = GREATEST(s.last_traffic_on, a.last_traffic_on),
                usage_synced_at = :now,
                usage_synced_through = :through
            FROM (
                SELECT i.iccid,
                       SUM(u.data_rx_mb + u.data_tx_mb) FILTER (WHERE u.day > :through - 7)
                           AS mb_7d,
                       SUM(u.data_rx_mb + u.data_tx_mb) AS mb_30d,
                       MAX(u.day) FILTER (
                           WHERE u.data_rx_mb + u.data_tx_mb > 0 OR u.sms_mo + u.sms_mt > 0
                       ) AS last_traffic_on
                FROM unnest(CAST(:iccids AS text[])) AS i(iccid)
                LEFT JOIN usage_daily u ON u.iccid = i.iccid AND u.day > :through - 30
                GROUP BY i.iccid
            ) a
            WHERE s.iccid = a.iccid
            """
        ),
        {"iccids": list(iccids), "through": synced_through, "now": utcnow()},
    )
    refresh_forecast(iccids=iccids)


def refresh_forecast(*, iccids: Sequence[str]) -> None:
    """Recompute the data-exhaustion forecast of the given SIMs."""
    db.session.execute(
        sa.text(f"UPDATE sims SET data_exhausted_on = {FORECAST} WHERE iccid = ANY(:iccids)"),
        {"iccids": list(iccids)},
    )


def record_quotas(*, quotas: Sequence[tuple[str, Quota | None, Quota | None]]) -> int:
    """Store the latest data and SMS quotas of SIMs, and a sample of each one that changed."""
    if not quotas:
        return 0
    now = utcnow()
    _temp_table(
        "incoming_quotas",
        "iccid text, data_remaining numeric, data_total numeric, data_expires timestamptz,"
        " data_lifetime numeric, sms_remaining numeric, sms_total numeric,"
        " sms_expires timestamptz",
    )
    copy_rows(
        "incoming_quotas",
        ("iccid", "data_remaining", "data_total", "data_expires", "data_lifetime",
         "sms_remaining", "sms_total", "sms_expires"),
        (
            (iccid, *_quota_values(data), data and data.accumulated_total_volume,
             *_quota_values(sms))
            for iccid, data, sms in quotas
        ),
    )  # fmt: skip
    samples = db.session.execute(
        sa.text(
            """
            INSERT INTO quota_samples (iccid, kind, sampled_at, remaining, total, expires_at)
            SELECT i.iccid, q.kind, :now, q.remaining, q.total, q.expires
            FROM incoming_quotas i JOIN sims s USING (iccid)
            CROSS JOIN LATERAL (VALUES
                ('data', i.data_remaining, i.data_total, i.data_expires,
                 s.data_remaining_mb, s.data_total_mb, s.data_expires_at),
                ('sms', i.sms_remaining, i.sms_total, i.sms_expires,
                 s.sms_remaining::numeric, s.sms_total::numeric, s.sms_expires_at)
            ) AS q(kind, remaining, total, expires, old_remaining, old_total, old_expires)
            WHERE q.remaining IS NOT NULL
              AND (q.remaining, q.total, q.expires) IS DISTINCT FROM
                  (q.old_remaining, q.old_total, q.old_expires)
            ON CONFLICT DO NOTHING
            """
        ),
        {"now": now},
    ).rowcount
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET
                data_remaining_mb = COALESCE(i.data_remaining, s.data_remaining_mb),
                data_total_mb = COALESCE(i.data_total, s.data_total_mb),
                data_expires_at = COALESCE(i.data_expires, s.data_expires_at),
                data_lifetime_mb = COALESCE(i.data_lifetime, s.data_lifetime_mb),
                sms_remaining = COALESCE(i.sms_remaining::int, s.sms_remaining),
                sms_total = COALESCE(i.sms_total::int, s.sms_total),
                sms_expires_at = COALESCE(i.sms_expires, s.sms_expires_at),
                quotas_synced_at = :now
            FROM incoming_quotas i WHERE s.iccid = i.iccid
            """
        ),
        {"now": now},
    )
    refresh_forecast(iccids=[iccid for iccid, _, _ in quotas])
    return samples


def _quota_values(quota: Quota | None) -> tuple:
    if quota is None:
        return (None, None, None)
    return (quota.volume, quota.total_volume, quota.expiry_date)


def insert_events(*, events: Sequence[tuple[str, Event]]) -> int:
    """Insert new events; events already stored (the same EVENT_KEY) are skipped."""
    _temp_table(
        "incoming_events",
        "iccid text, occurred_at timestamptz, event_type text, severity text, alert bool,"
        " country text, operator text, details jsonb",
    )
    copy_rows(
        "incoming_events",
        ("iccid", "occurred_at", "event_type", "severity", "alert", "country", "operator",
         "details"),
        ((iccid, e.timestamp, e.event_type[:200], e.severity, e.alert, e.country, e.operator,
          _event_details(e)) for iccid, e in events),
    )  # fmt: skip
    inserted = db.session.execute(
        sa.text(
            f"""
            INSERT INTO sim_events (iccid, occurred_at, event_key, event_type, severity, alert,
                                    country, operator, details)
            SELECT DISTINCT ON (iccid, occurred_at, event_key) *
            FROM (SELECT iccid, occurred_at, {EVENT_KEY} AS event_key, event_type, severity,
                         alert, country, operator, details
                  FROM incoming_events) keyed
            ON CONFLICT DO NOTHING
            """
        )
    ).rowcount
    return inserted


def _event_details(event: Event) -> str:
    fields = {
        "id": event.id, "description": event.description, "imsi": event.imsi,
        "imei": event.imei, "mcc": event.mcc, "mnc": event.mnc,
        "failure_cause": event.failure_cause,
    }  # fmt: skip
    return json.dumps({k: v for k, v in fields.items() if v is not None})


def mark_events_synced(*, iccids: Sequence[str]) -> None:
    """Note that the SIMs' events are synced, and the time of each one's newest event."""
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET events_synced_at = :now,
                latest_event_at = GREATEST(s.latest_event_at, (
                    SELECT MAX(occurred_at) FROM sim_events e
                    WHERE e.iccid = s.iccid
                      AND e.occurred_at >= COALESCE(s.latest_event_at, '-infinity')))
            WHERE s.iccid = ANY(:iccids)
            """
        ),
        {"now": utcnow(), "iccids": list(iccids)},
    )


def record_connectivity(*, states: Sequence[tuple[str, Connectivity]]) -> None:
    """Store the latest connectivity of SIMs."""
    now = utcnow()
    _temp_table(
        "incoming_connectivity",
        "iccid text, status text, online bool, last_seen_at timestamptz, operator text,"
        " country text, rat text, limit_reached bool",
    )
    copy_rows(
        "incoming_connectivity",
        ("iccid", "status", "online", "last_seen_at", "operator", "country", "rat",
         "limit_reached"),
        (
            (iccid, c.status, c.online, _last_seen(c), c.operator_name, c.country_name,
             c.session.rat_type if c.session else None, c.data_traffic_limit_reached)
            for iccid, c in states
        ),
    )  # fmt: skip
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET
                connectivity_status = i.status, online = i.online,
                last_seen_at = GREATEST(s.last_seen_at, i.last_seen_at),
                operator = COALESCE(i.operator, s.operator),
                country = COALESCE(i.country, s.country),
                rat = i.rat, data_limit_reached = i.limit_reached,
                connectivity_synced_at = :now
            FROM incoming_connectivity i WHERE s.iccid = i.iccid
            """
        ),
        {"now": now},
    )


def _last_seen(connectivity: Connectivity) -> datetime | None:
    seen = [t for t in (connectivity.last_updated, connectivity.last_updated_gprs) if t]
    return max(seen) if seen else None


# The charts' ranges, kept per SIM at ingest for the dashboard's rankings.
USAGE_PERIOD_DAYS = tuple(chart_range.days for chart_range in CHART_RANGES.values())

REFRESH_PERIODS_SQL = """
INSERT INTO sim_usage_periods (iccid, period_days, through, data_mb, previous_data_mb)
SELECT iccid, v.days, :through, COALESCE(v.current, 0), COALESCE(v.previous, 0)
FROM (
    SELECT iccid, {sums}
    FROM usage_daily
    WHERE day > :through - 2 * :longest AND day <= :through {only}
    GROUP BY iccid
) sums
CROSS JOIN LATERAL (VALUES {values}) AS v(days, current, previous)
"""


def refresh_usage_periods(
    connection: sa.Connection, *, through: date | None = None, iccids: list[str] | None = None
) -> int:
    """Recompute the SIMs' data in each dashboard period up to `through` and the one before.

    One pass over `usage_daily` (two of the longest periods), replacing the rows of the SIMs
    (all without `iccids`); SIMs without usage in that window get none. Returns the rows written.
    """
    through = through or datetime.now(UTC).date()
    mb = "data_rx_mb + data_tx_mb"
    sums = ", ".join(
        f"SUM({mb}) FILTER (WHERE day > :through - {days}) AS c{days}, "
        f"SUM({mb}) FILTER (WHERE day <= :through - {days} AND day > :through - {2 * days})"
        f" AS p{days}"
        for days in USAGE_PERIOD_DAYS
    )
    values = ", ".join(f"({days}, c{days}, p{days})" for days in USAGE_PERIOD_DAYS)
    only = "AND iccid = ANY(:iccids)" if iccids is not None else ""
    params = {"through": through, "longest": max(USAGE_PERIOD_DAYS), "iccids": iccids}
    sql = REFRESH_PERIODS_SQL.format(sums=sums, values=values, only=only)
    connection.execute(sa.text(f"DELETE FROM sim_usage_periods WHERE true {only}"), params)
    return connection.execute(sa.text(sql), params).rowcount
