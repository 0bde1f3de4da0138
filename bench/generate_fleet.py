"""Load a realistic fleet straight into a Simfleet database with set-based SQL.

    python -m bench.generate_fleet --database-url URL --sims 100000 --usage-days 180

The database must be migrated. SIM rows come from one INSERT ... SELECT over generate_series;
usage days from one more, and the fleet rollup is rebuilt from them. Deterministic: values
derive from the SIM number, so the same arguments always give the same fleet.
"""

import argparse
import time

import sqlalchemy as sa

FIRST_ICCID = 8988228066000000000
ACCOUNT_SQL = """
INSERT INTO provider_accounts (name, api_url, client_id, created_at)
VALUES ('Generated fleet', :api_url, 'generated', now())
ON CONFLICT ON CONSTRAINT uq_provider_accounts_api DO UPDATE SET name = EXCLUDED.name
RETURNING id
"""
# h is a stable pseudo-random number in [0, 1) per SIM; quotas, states and traffic follow it.
SIMS_SQL = """
INSERT INTO sims (
    iccid, account_id, imsi, msisdn, imei, imei_lock, status, label, ip_address,
    activation_date, current_imsi, data_quota_state, sms_quota_state, data_remaining_mb,
    data_total_mb, data_expires_at, sms_remaining, sms_total, sms_expires_at,
    connectivity_status, online, last_seen_at, operator, country, rat, avg_daily_mb_7d,
    avg_daily_mb_30d, last_traffic_on, data_exhausted_on, first_seen_at, inventory_synced_at,
    usage_synced_at, quotas_synced_at, events_synced_at, connectivity_synced_at
)
SELECT
    (:first_iccid + n)::text, :account_id,
    (901405100000000 + n)::text, (882285100000000 + n)::text,
    CASE WHEN h < 0.9 THEN (350000000000000 + n)::text END, h < 0.3,
    CASE WHEN h < 0.95 THEN 'Enabled' ELSE 'Disabled' END,
    CASE WHEN h < 0.7
        THEN 'meter-' || (n % 500) || '-' || CASE WHEN h < 0.35 THEN 'north' ELSE 'south' END
    END,
    '10.' || (n / 65536 % 256) || '.' || (n / 256 % 256) || '.' || (n % 256),
    now() - (n % 900) * interval '1 day', (901405100000000 + n)::text,
    CASE WHEN h < 0.8 THEN 0 WHEN h < 0.93 THEN 1 ELSE 2 END, 0,
    round((500 * CASE WHEN h < 0.8 THEN h WHEN h < 0.93 THEN h / 10 ELSE 0 END)::numeric, 6),
    500, now() + ((n % 700) + 1) * interval '1 day', 250 - (n % 250), 250,
    now() + ((n % 700) + 1) * interval '1 day',
    CASE WHEN h < 0.6 THEN 'ONLINE' WHEN h < 0.9 THEN 'ATTACHED' ELSE 'OFFLINE' END, h < 0.6,
    now() - (n % 4000) * interval '1 minute',
    (ARRAY['Telekom', 'Vodafone', 'Orange', 'O2'])[n % 4 + 1],
    (ARRAY['Germany', 'France', 'Spain', 'Austria'])[n % 4 + 1],
    (ARRAY['LTE-M', 'NB-IoT', '4G'])[n % 3 + 1],
    round((h * 3)::numeric, 6), round((h * 2.5)::numeric, 6),
    current_date - (n % 6), current_date + ((n % 400) + 5),
    now(), now(), now(), now(), now(), now()
FROM generate_series(1, :count) AS n,
    LATERAL (SELECT (hashint4(n) & 2147483647) / 2147483648.0 AS h) r
ON CONFLICT (iccid) DO NOTHING
"""
USAGE_SQL = """
INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)
SELECT s.iccid, d.day,
       round(((hashint8(k) & 1048575) / 262144.0)::numeric, 6),
       round(((hashint8(k + 1) & 1048575) / 1048576.0)::numeric, 6),
       k % 3, k % 2
FROM sims s
CROSS JOIN generate_series(current_date - (:days - 1), current_date, interval '1 day') AS g
CROSS JOIN LATERAL (SELECT g::date AS day, s.iccid::bigint # (g::date - date '2000-01-01') AS k) d
WHERE s.account_id = :account_id
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


def first_iccid() -> str:
    """The ICCID of the first generated SIM (they follow in order)."""
    return str(FIRST_ICCID + 1)


def load_fleet(connection: sa.Connection, *, sims: int, usage_days: int = 0) -> int:
    """Insert `sims` SIMs (and `usage_days` days of usage each, with the rollup); the account id."""
    account_id = connection.execute(
        sa.text(ACCOUNT_SQL), {"api_url": "https://generated.invalid"}
    ).scalar_one()
    params = {"account_id": account_id, "count": sims, "first_iccid": FIRST_ICCID}
    connection.execute(sa.text(SIMS_SQL), params)
    if usage_days:
        connection.execute(sa.text(USAGE_SQL), {"account_id": account_id, "days": usage_days})
        connection.execute(sa.text(ROLLUP_SQL), {"account_id": account_id})
    return account_id


def main() -> None:
    """Load a fleet into the (migrated) database named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a migrated Simfleet database")
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--usage-days", type=int, default=0)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        load_fleet(connection, sims=args.sims, usage_days=args.usage_days)
    seconds = time.perf_counter() - started
    print(f"Loaded {args.sims} SIMs with {args.usage_days} usage days each in {seconds:.1f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
