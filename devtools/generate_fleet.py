"""Load a realistic fleet straight into a Simfleet database with set-based SQL.

    python -m devtools.generate_fleet --database-url URL --sims 100000 --days 180

The database must be migrated. Every SIM gets a profile from a stable hash of its number
(idle, steady, bursty, near its quota, exhausted, offline, disabled), and everything else
follows from the profile in a handful of INSERT ... SELECT statements over generate_series:
SIMs, daily usage, events of the last 30 days, quota samples, the fleet rollup, the per-SIM
period rollup and the figures the UI reads from `sims`. Deterministic: the same arguments
always give the same fleet (relative to today).
"""

import argparse
import time

import sqlalchemy as sa

from webapp.sync.ingest import refresh_usage_periods

FIRST_ICCID = 8988228066000000000
EVENT_DAYS = 30  # the default retention of events
QUOTA_SAMPLE_EVERY_DAYS = 7
ACCOUNT_SQL = """
INSERT INTO provider_accounts (name, api_url, client_id, created_at)
VALUES ('Generated fleet', :api_url, :client_id, now())
ON CONFLICT ON CONSTRAINT uq_provider_accounts_api DO UPDATE SET name = EXCLUDED.name
RETURNING id
"""
# h picks the profile, h2 the size and trend of the traffic, h3 where the SIM roams. The
# first SIM is always a steady one with traffic every day and no events (tests rely on it).
# quiet_days: days without traffic up to today (NULL: never any traffic).
PROFILES_SQL = """
CREATE TEMP TABLE generated_profiles ON COMMIT DROP AS
SELECT n, (:first_iccid + n)::text AS iccid, h, h2, h3,
    CASE WHEN h < 0.10 THEN 'idle' WHEN h < 0.18 THEN 'offline' WHEN h < 0.58 THEN 'steady'
         WHEN h < 0.75 THEN 'bursty' WHEN h < 0.85 THEN 'near_quota'
         WHEN h < 0.91 THEN 'exhausted' ELSE 'disabled' END AS profile,
    CASE WHEN h < 0.10 THEN NULL WHEN h < 0.18 THEN 4 + n % 40 WHEN h < 0.85 THEN 0
         WHEN h < 0.91 THEN 1 + n % 20 ELSE 8 + n % 120 END AS quiet_days,
    (0.2 + 12 * h2 * h2) * CASE WHEN h >= 0.58 AND h < 0.75 THEN 0.3 ELSE 1 END AS base_mb,
    h2 * 2 - 0.6 AS trend,
    (n * 7919) % 900 + 1 AS age_days,
    CASE WHEN h2 < 0.7 THEN 500 ELSE 1000 END AS data_total_mb
FROM generate_series(1, :count) AS n,
    LATERAL (SELECT CASE WHEN n = 1 THEN 0.5
                         ELSE (hashint4(n) & 2147483647) / 2147483648.0 END AS h,
                    (hashint4(n # 7919) & 2147483647) / 2147483648.0 AS h2,
                    (hashint4(n # 104729) & 2147483647) / 2147483648.0 AS h3) r
"""
# Home countries and operators, a few common and a long tail (h3 squared skews to the front).
NETWORK = "1 + floor(h3 * h3 * 12)::int"
COUNTRIES = ("Germany", "Germany", "Germany", "France", "Netherlands", "Spain", "Austria",
             "Italy", "France", "Poland", "United Kingdom", "Sweden")  # fmt: skip
OPERATORS = ("Telekom", "Vodafone", "O2", "Orange", "KPN", "Movistar", "A1", "TIM", "SFR",
             "Plus", "EE", "Telia")  # fmt: skip


def _pick(values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"(ARRAY[{quoted}])[{NETWORK}]"


SIMS_SQL = f"""
INSERT INTO sims (
    iccid, account_id, imsi, msisdn, imei, imei_lock, status, label, ip_address,
    activation_date, current_imsi, data_quota_state, sms_quota_state, data_remaining_mb,
    data_total_mb, data_expires_at, sms_remaining, sms_total, sms_expires_at,
    connectivity_status, online, last_seen_at, operator, country, rat, first_seen_at,
    inventory_synced_at, usage_synced_at, usage_synced_through, quotas_synced_at,
    events_synced_at, connectivity_synced_at
)
SELECT
    iccid, :account_id, (901405100000000 + n)::text, (882285100000000 + n)::text,
    CASE WHEN profile <> 'idle' THEN (350000000000000 + n)::text END, h2 < 0.3,
    CASE WHEN profile = 'disabled' THEN 'Disabled' ELSE 'Enabled' END,
    CASE WHEN h3 > 0.1 THEN
        (ARRAY['meter', 'tracker', 'pump', 'gateway', 'cooler'])[1 + n % 5] || '-'
        || (ARRAY['north', 'south', 'east', 'west'])[1 + n / 5 % 4] || '-' || (n % 500)
    END,
    '10.' || (n / 65536 % 256) || '.' || (n / 256 % 256) || '.' || (n % 256),
    now() - age_days * interval '1 day', (901405100000000 + n)::text,
    0, CASE WHEN h3 < 0.05 THEN 1 ELSE 0 END, 0, data_total_mb,
    now() + ((n * 7) % 700 + 1) * interval '1 day', 250 - n % 250, 250,
    now() + ((n * 7) % 700 + 1) * interval '1 day',
    c.status, c.status = 'ONLINE', c.last_seen_at, {_pick(OPERATORS)}, {_pick(COUNTRIES)},
    (ARRAY['LTE-M', 'NB-IoT', '4G', '2G'])[1 + floor(h2 * h2 * 4)::int],
    now() - age_days * interval '1 day', now() - (n % 55) * interval '1 minute',
    now() - (n % 700) * interval '1 minute', current_date,
    now() - (n % 650) * interval '1 minute', now() - (n % 600) * interval '1 minute',
    now() - (n % 30) * interval '1 minute'
FROM generated_profiles p,
    LATERAL (SELECT
        CASE WHEN profile IN ('steady', 'bursty', 'near_quota') AND h2 < 0.8 THEN 'ONLINE'
             WHEN profile IN ('idle', 'steady', 'bursty', 'near_quota') THEN 'ATTACHED'
             ELSE 'OFFLINE' END AS status,
        CASE WHEN quiet_days IS NULL THEN now() - (n % 50 + 5) * interval '1 day'
             ELSE now() - quiet_days * interval '1 day' - (n % 240) * interval '1 minute'
        END AS last_seen_at) c
ON CONFLICT (iccid) DO NOTHING
"""
# One row per day with traffic. k is the age of the day; trend makes some SIMs grow and
# others shrink over the months, bursty SIMs spike on about one day in ten. Day by day, so
# that TimescaleDB writes one chunk after the other.
USAGE_SQL = """
INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)
SELECT iccid, current_date - k,
       round(rx::numeric, 6), round((rx * (0.15 + 0.2 * h2))::numeric, 6),
       (u * 10)::int % 3, (u > 0.8)::int
FROM generate_series(0, :days - 1) AS k
CROSS JOIN generated_profiles p
CROSS JOIN LATERAL (SELECT (hashint4(n * 397 + k) & 65535) / 65536.0 AS u) noise
CROSS JOIN LATERAL (SELECT base_mb * GREATEST(0.1, 1 + trend * (1 - k / 180.0)) * (0.5 + u)
                    * CASE WHEN profile = 'bursty' AND u > 0.9 THEN 20 ELSE 1 END AS rx) v
WHERE k >= quiet_days AND k < age_days
ON CONFLICT (iccid, day) DO NOTHING
"""
ROLLUP_SQL = """
INSERT INTO fleet_usage_daily (account_id, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)
SELECT s.account_id, u.day, sum(u.data_rx_mb), sum(u.data_tx_mb), sum(u.sms_mo), sum(u.sms_mt)
FROM usage_daily u JOIN sims s USING (iccid)
WHERE s.account_id = :account_id
GROUP BY s.account_id, u.day
ON CONFLICT (account_id, day) DO UPDATE SET
    data_rx_mb = EXCLUDED.data_rx_mb, data_tx_mb = EXCLUDED.data_tx_mb,
    sms_mo = EXCLUDED.sms_mo, sms_mt = EXCLUDED.sms_mt
"""
# What ingest keeps current: averages, last traffic, then quotas that match the profile
# and the forecast of when the data runs out (webapp/sync/ingest/usage.py's FORECAST).
FIGURES_SQL = """
UPDATE sims s SET
    avg_daily_mb_7d = COALESCE(a.mb_7d, 0) / 7,
    avg_daily_mb_30d = COALESCE(a.mb_30d, 0) / 30,
    last_traffic_on = a.last_traffic_on,
    data_remaining_mb = round((p.data_total_mb * CASE p.profile
        WHEN 'exhausted' THEN 0 WHEN 'near_quota' THEN 0.02 + 0.17 * p.h3
        ELSE 0.25 + 0.75 * p.h3 END)::numeric, 6),
    data_quota_state = CASE p.profile WHEN 'exhausted' THEN 2 WHEN 'near_quota' THEN 1 ELSE 0 END
FROM generated_profiles p
LEFT JOIN (
    SELECT iccid, SUM(data_rx_mb + data_tx_mb) FILTER (WHERE day > current_date - 7) AS mb_7d,
           SUM(data_rx_mb + data_tx_mb) AS mb_30d, MAX(day) AS last_traffic_on
    FROM usage_daily WHERE day > current_date - 30 GROUP BY iccid
) a USING (iccid)
WHERE s.iccid = p.iccid
"""
FORECAST_SQL = """
UPDATE sims s SET
    data_exhausted_on = CASE
        WHEN p.profile = 'exhausted' THEN current_date - p.quiet_days
        WHEN s.avg_daily_mb_7d > 0 AND s.data_remaining_mb / s.avg_daily_mb_7d <= 3660
        THEN current_date + CEIL(s.data_remaining_mb / s.avg_daily_mb_7d)::int END,
    data_unused_at_expiry_mb = CASE
        WHEN p.profile <> 'exhausted' AND timezone('UTC', s.data_expires_at)::date < COALESCE(
            current_date + CEIL(s.data_remaining_mb / NULLIF(s.avg_daily_mb_7d, 0))::int,
            -- the ingest's horizon: no forecast beyond ten years
            'infinity'::date)
        THEN GREATEST(0, s.data_remaining_mb - COALESCE(s.avg_daily_mb_7d, 0) * GREATEST(0,
            timezone('UTC', s.data_expires_at)::date - current_date)) END
FROM generated_profiles p WHERE s.iccid = p.iccid
"""
# Sessions on about a quarter of the days with traffic, a weekly location update, quota
# alerts for SIMs near or past their quota, and the status change of disabled SIMs.
EVENTS_SQL = """
INSERT INTO sim_events
    (iccid, occurred_at, event_key, event_type, severity, alert, country, operator, details)
SELECT e.iccid, e.occurred_at,
       -- keyed as the sync keys a v1 event (webapp/sync/ingest/readings.py's EVENT_KEY)
       'md5:' || md5(jsonb_build_array(e.event_type, e.severity, e.alert, s.country, s.operator,
                                       '{}'::jsonb)::text),
       e.event_type, e.severity, e.alert, s.country, s.operator, '{}'
FROM (
    SELECT iccid, now() - k * interval '1 day'
               - ((hashint4(n + k) & 65535) + 1800 - x.offset_s) * interval '1 second'
               AS occurred_at,
           x.event_type, 'Info' AS severity, false AS alert
    FROM generated_profiles
    CROSS JOIN LATERAL generate_series(COALESCE(quiet_days, 0), :event_days - 1) AS k
    CROSS JOIN LATERAL (VALUES ('Create PDP Context', 0), ('Delete PDP Context', 1800)) x(
        event_type, offset_s)
    WHERE quiet_days IS NOT NULL AND (hashint4(n * 31 + k) & 3) = 0
    UNION ALL
    SELECT iccid, now() - k * interval '1 day' - (n % 80000) * interval '1 second',
           'Update location', 'Info', false
    FROM generated_profiles
    CROSS JOIN LATERAL generate_series(COALESCE(quiet_days, 0) + n % 7, :event_days - 1, 7) k
    WHERE profile <> 'disabled'
    UNION ALL
    SELECT iccid, now() - (quiet_days + 2 + n % 5) * interval '1 day', 'Quota threshold reached',
           'Warn', true
    FROM generated_profiles WHERE profile IN ('near_quota', 'exhausted')
        AND quiet_days + 2 + n % 5 < :event_days
    UNION ALL
    SELECT iccid, now() - quiet_days * interval '1 day' - (n % 3600) * interval '1 second',
           'Quota used up', 'Warn', true
    FROM generated_profiles WHERE profile = 'exhausted' AND quiet_days < :event_days
    UNION ALL
    SELECT iccid, now() - (quiet_days - 1) * interval '1 day',
           'Status of SIM changed from ''Enabled'' to ''Disabled''', 'Info', false
    FROM generated_profiles WHERE profile = 'disabled' AND quiet_days - 1 < :event_days
) e JOIN sims s USING (iccid)
WHERE e.iccid <> :first
ON CONFLICT DO NOTHING
"""
LATEST_EVENT_SQL = """
UPDATE sims s SET latest_event_at = e.latest
FROM (SELECT iccid, MAX(occurred_at) AS latest FROM sim_events
      WHERE occurred_at > now() - :event_days * interval '1 day' GROUP BY iccid) e
WHERE s.iccid = e.iccid AND s.iccid IN (SELECT iccid FROM generated_profiles)
"""
# A data sample a week, walking back from today's remaining quota by the average use.
QUOTA_SQL = """
INSERT INTO quota_samples (iccid, kind, sampled_at, remaining, total, expires_at)
SELECT s.iccid, 'data', date_trunc('minute', now()) - k * interval '1 day',
       LEAST(s.data_total_mb, s.data_remaining_mb + COALESCE(s.avg_daily_mb_30d, 0) * k),
       s.data_total_mb, s.data_expires_at
FROM generated_profiles p JOIN sims s USING (iccid)
CROSS JOIN LATERAL generate_series(0, LEAST(:days, p.age_days) - 1, :every) AS k
UNION ALL
SELECT s.iccid, 'sms', date_trunc('minute', now()), s.sms_remaining, s.sms_total,
       s.sms_expires_at
FROM generated_profiles p JOIN sims s USING (iccid)
ON CONFLICT DO NOTHING
"""


def first_iccid(before_first: int = FIRST_ICCID) -> str:
    """The ICCID of the first generated SIM (they follow in order)."""
    return str(before_first + 1)


def load_fleet(
    connection: sa.Connection,
    *,
    sims: int,
    usage_days: int = 0,
    account: tuple[str, str] = ("https://generated.invalid", "generated"),
    before_first: int = FIRST_ICCID,
) -> int:
    """Insert `sims` SIMs with `usage_days` days of history (usage, events, quotas, rollups).

    The SIMs belong to `account` (API URL, client id) and their ICCIDs follow `before_first`:
    a benchmark lines them up with a simulator's fleet that way. Returns the account's id.
    """
    api_url, client_id = account
    account_id = connection.execute(
        sa.text(ACCOUNT_SQL), {"api_url": api_url, "client_id": client_id}
    ).scalar_one()
    connection.execute(sa.text("DROP TABLE IF EXISTS generated_profiles"))
    connection.execute(sa.text(PROFILES_SQL), {"count": sims, "first_iccid": before_first})
    connection.execute(sa.text(SIMS_SQL), {"account_id": account_id})
    event_days = min(usage_days, EVENT_DAYS)
    if usage_days:
        connection.execute(sa.text(USAGE_SQL), {"days": usage_days})
        connection.execute(sa.text(ROLLUP_SQL), {"account_id": account_id})
        # The generated days are the known ones (as if back-filled that far).
        connection.execute(
            sa.text(
                "UPDATE sims SET usage_synced_from = current_date - :days + 1"
                " WHERE iccid IN (SELECT iccid FROM generated_profiles)"
            ),
            {"days": usage_days},
        )
    connection.execute(sa.text(FIGURES_SQL))
    connection.execute(sa.text(FORECAST_SQL))
    if event_days:
        params = {"event_days": event_days, "first": first_iccid(before_first)}
        connection.execute(sa.text(EVENTS_SQL), params)
        connection.execute(sa.text(LATEST_EVENT_SQL), {"event_days": event_days})
    if usage_days:
        params = {"days": usage_days, "every": QUOTA_SAMPLE_EVERY_DAYS}
        connection.execute(sa.text(QUOTA_SQL), params)
    refresh_usage_periods(connection)
    connection.execute(sa.text("DROP TABLE generated_profiles"))
    return account_id


def main() -> None:
    """Load a fleet into the (migrated) database named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a migrated Simfleet database")
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--days", "--usage-days", dest="days", type=int, default=0)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        load_fleet(connection, sims=args.sims, usage_days=args.days)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))
    seconds = time.perf_counter() - started
    print(f"Loaded {args.sims:,} SIMs with {args.days} days of history in {seconds:.1f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
