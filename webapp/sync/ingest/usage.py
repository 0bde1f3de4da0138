"""Daily usage: the per-SIM rows, the fleet rollup moved by exactly what changed, and the
per-SIM figures read from them (averages, forecast, the dashboard's periods)."""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import sqlalchemy as sa

from webapp.chart_ranges import CHART_RANGES
from webapp.extensions import db
from webapp.models.base import utcnow
from webapp.one_nce import UsageRecord
from webapp.sync.ingest.copying import copy_rows, temp_table

# The forecast: the day the data runs out at the last 7 days' average rate and, when the quota
# expires before that day, the volume expected to be left unused (and lost) at expiry. Which
# comes first is read by webapp/sim_queries.py's forecast_of. Days are UTC days: `:today`
# comes from the app, and the expiry is cut at UTC midnight whatever the session's time zone
# (as ix_sims_runs_out_on).
# A forecast further out than FORECAST_HORIZON_DAYS is none (and stays a valid date).
FORECAST_HORIZON_DAYS = 3660
RUNS_OUT_ON = f"""
    CASE WHEN avg_daily_mb_7d > 0 AND data_remaining_mb IS NOT NULL
              AND data_remaining_mb / avg_daily_mb_7d <= {FORECAST_HORIZON_DAYS}
         THEN CAST(:today AS date) + CEIL(data_remaining_mb / avg_daily_mb_7d)::int END
"""
EXPIRES_ON = "timezone('UTC', data_expires_at)::date"
UNUSED_AT_EXPIRY_MB = f"""
    CASE WHEN {EXPIRES_ON} < COALESCE({RUNS_OUT_ON}, 'infinity'::date)
         THEN GREATEST(0, data_remaining_mb - COALESCE(avg_daily_mb_7d, 0)
                          * GREATEST(0, {EXPIRES_ON} - CAST(:today AS date))) END
"""
FORECAST = f"data_exhausted_on = {RUNS_OUT_ON}, data_unused_at_expiry_mb = {UNUSED_AT_EXPIRY_MB}"

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
    temp_table(
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


# The SIMs' figures after a usage fetch. The days known (`usage_synced_from`) start where the
# fetch started for a SIM never synced, or synced so long ago that the days between its last
# sync and this fetch were never fetched; otherwise they carry on. The averages divide by the
# known days of their window (a SIM known for 3 days averages over 3), never by unknown ones.
REFRESH_FIGURES_SQL = """
UPDATE sims s SET
    avg_daily_mb_7d = COALESCE(a.mb_7d, 0) / LEAST(7, :through - a.known_from + 1),
    avg_daily_mb_30d = COALESCE(a.mb_30d, 0) / LEAST(30, :through - a.known_from + 1),
    last_traffic_on = GREATEST(s.last_traffic_on, a.last_traffic_on),
    usage_synced_at = :now,
    usage_synced_through = :through,
    usage_synced_from = a.known_from
FROM (
    SELECT k.iccid, k.known_from,
           SUM(u.data_rx_mb + u.data_tx_mb) FILTER (WHERE u.day > :through - 7) AS mb_7d,
           SUM(u.data_rx_mb + u.data_tx_mb) AS mb_30d,
           MAX(u.day) FILTER (
               WHERE u.data_rx_mb + u.data_tx_mb > 0 OR u.sms_mo + u.sms_mt > 0
           ) AS last_traffic_on
    FROM (
        SELECT i.iccid,
               LEAST(:through, CASE
                   WHEN s.usage_synced_through IS NULL
                        OR s.usage_synced_through < CAST(:fetched_from AS date) - 1
                        OR s.usage_synced_from IS NULL
                   THEN CAST(:fetched_from AS date)
                   ELSE s.usage_synced_from
               END) AS known_from
        FROM unnest(CAST(:iccids AS text[])) AS i(iccid) JOIN sims s USING (iccid)
    ) k
    LEFT JOIN usage_daily u
        ON u.iccid = k.iccid AND u.day > :through - 30 AND u.day >= k.known_from
        AND u.day <= :through
    GROUP BY k.iccid, k.known_from
) a
WHERE s.iccid = a.iccid
"""


def refresh_usage_figures(
    *, iccids: Sequence[str], synced_through: date, fetched_from: date
) -> None:
    """Record the SIMs' known days after a fetch from `fetched_from` (or from their last
    synced day) to `synced_through`, and recompute their averages, last traffic and forecast.
    """
    db.session.execute(
        sa.text(REFRESH_FIGURES_SQL),
        {
            "iccids": list(iccids),
            "through": synced_through,
            "fetched_from": fetched_from,
            "now": utcnow(),
        },
    )
    refresh_forecast(iccids=iccids, today=synced_through)


def refresh_forecast(*, iccids: Sequence[str], today: date | None = None) -> None:
    """Recompute the forecast of the given SIMs (from today, UTC): when the data runs out, and
    what is left unused if the quota expires first."""
    db.session.execute(
        sa.text(f"UPDATE sims SET {FORECAST} WHERE iccid = ANY(:iccids)"),
        {"iccids": list(iccids), "today": today or datetime.now(UTC).date()},
    )


# The charts' ranges, kept per SIM at ingest for the dashboard's rankings.
USAGE_PERIOD_DAYS = tuple(chart_range.days for chart_range in CHART_RANGES.values())

# A period before that was not wholly kept (fetched and not pruned: from the SIM's
# usage_synced_from on) has no figure, so the SIM is no mover rather than one compared with
# zeros. The current period sums the days kept.
REFRESH_PERIODS_SQL = """
INSERT INTO sim_usage_periods (iccid, period_days, through, data_mb, previous_data_mb)
SELECT sums.iccid, v.days, :through, COALESCE(v.current, 0),
       CASE WHEN s.usage_synced_from <= CAST(:through AS date) - 2 * v.days + 1
            THEN COALESCE(v.previous, 0) END
FROM (
    SELECT iccid, {sums}
    FROM usage_daily
    WHERE day > :through - 2 * :longest AND day <= :through {only}
    GROUP BY iccid
) sums
JOIN sims s ON s.iccid = sums.iccid
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
