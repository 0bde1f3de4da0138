"""Usage ingest: the sync's upsert against a plain COPY of the same rows, in the same run.

    python -m bench.ingest --database-url postgresql://postgres@127.0.0.1:5433/postgres

Generates SIMs x days of usage (1,000,000 rows by default) and times, on a scratch database:
a plain COPY into an empty table shaped like usage_daily (same columns, primary key and
index; a hypertable when usage_daily is one), then `webapp.sync.ingest.upsert_usage` in
sync-sized chunks, one transaction each, into the empty usage_daily (first pass) and again
with a share of the rows revised (revision pass). Each is the best of --repeat runs; the
fleet rollup is checked against the raw rows at the end. Passes when both passes run at no
less than half the speed of the COPY and the rollup is exact.
"""

import random
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bench.common import (
    CLIENT_ID,
    CLIENT_SECRET,
    describe_machine,
    migrated_app,
    parser,
    print_table,
    scratch_database,
)
from webapp.extensions import db
from webapp.one_nce import UsageRecord
from webapp.sync import ingest
from webapp.sync.services import get_account
from webapp.timeseries import create_hypertable, is_hypertable

TARGET_RATIO = 0.5
COLUMNS = ("iccid", "day", "data_rx_mb", "data_tx_mb", "sms_mo", "sms_mt")
Rows = list[tuple[str, UsageRecord]]


def usage_rows(*, sims: int, days: int, seed: int = 1) -> Rows:
    """`days` days of usage for each of `sims` SIMs, grouped by SIM as the sync fetches them."""
    rng = random.Random(seed)
    first = date.today() - timedelta(days=days - 1)
    rows = []
    for n in range(sims):
        iccid = f"8988228066{n:09d}"
        for offset in range(days):
            rx, tx = (Decimal(rng.randrange(40_000_000)).scaleb(-6) for _ in range(2))
            mo, mt = rng.randrange(5), rng.randrange(5)
            day = UsageRecord(first + timedelta(days=offset), rx + tx, rx, tx, mo + mt, mo, mt)
            rows.append((iccid, day))
    return rows


def revised(rows: Rows, *, share: float, seed: int = 2) -> Rows:
    """The same rows with `share` of them changed, as when 1NCE revises its numbers."""
    rng = random.Random(seed)
    bump = Decimal("0.125")
    return [
        (iccid, replace(u, data_rx_mb=(u.data_rx_mb or 0) + bump) if rng.random() < share else u)
        for iccid, u in rows
    ]


def settle(*tables: str) -> None:
    """Empty `tables`, refresh their statistics and flush dirty pages, so a timed phase
    neither pays for the previous one's writes nor depends on when autovacuum ran."""
    db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)}"))
    db.session.commit()
    db.session.execute(sa.text(f"ANALYZE {', '.join(tables)}"))
    db.session.execute(sa.text("CHECKPOINT"))


def create_copy_table() -> None:
    """An empty `usage_copy` with the columns, keys and indexes of `usage_daily`."""
    db.session.execute(sa.text("CREATE TABLE usage_copy (LIKE usage_daily INCLUDING ALL)"))
    if is_hypertable(db.session.connection(), "usage_daily"):
        create_hypertable(db.session.connection(), "usage_copy", "day", "7 days")
    db.session.commit()


def time_copy(rows: Rows) -> float:
    """Seconds to COPY the rows into the empty `usage_copy` and commit."""
    settle("usage_copy")
    start = time.perf_counter()
    ingest.copy_rows(
        "usage_copy",
        COLUMNS,
        ((iccid, u.day, u.data_rx_mb, u.data_tx_mb, u.sms_mo, u.sms_mt) for iccid, u in rows),
    )
    db.session.commit()
    return time.perf_counter() - start


def time_upsert(rows: Rows, *, account_id: int, batch_rows: int) -> float:
    """Seconds to upsert the rows in batches of `batch_rows`, one transaction each."""
    db.session.execute(sa.text("ANALYZE usage_daily"))
    db.session.execute(sa.text("CHECKPOINT"))
    start = time.perf_counter()
    for first in range(0, len(rows), batch_rows):
        ingest.upsert_usage(account_id=account_id, rows=rows[first : first + batch_rows])
        db.session.commit()
    return time.perf_counter() - start


def rollup_is_exact() -> bool:
    """Whether the fleet rollup equals the stored daily usage summed per day."""
    return db.session.scalar(
        sa.text(
            """
            WITH summed AS (
                SELECT day, SUM(data_rx_mb), SUM(data_tx_mb), SUM(sms_mo), SUM(sms_mt)
                FROM usage_daily GROUP BY day
            ), rollup AS (
                SELECT day, data_rx_mb, data_tx_mb, sms_mo, sms_mt FROM fleet_usage_daily
            )
            SELECT NOT EXISTS (SELECT * FROM summed EXCEPT SELECT * FROM rollup)
               AND NOT EXISTS (SELECT * FROM rollup EXCEPT SELECT * FROM summed)
            """
        )
    )


def describe_server() -> str:
    """The server version and whether `usage_daily` is a hypertable."""
    version = db.session.scalar(sa.text("SHOW server_version")).split()[0]
    timescale = db.session.scalar(
        sa.text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    )
    if is_hypertable(db.session.connection(), "usage_daily"):
        return f"PostgreSQL {version}, TimescaleDB {timescale}, usage_daily a hypertable"
    return f"PostgreSQL {version}, usage_daily a plain table"


def measure(rows: Rows, *, batch_rows: int, changed: float, repeat: int) -> dict[str, float]:
    """Best-of-`repeat` seconds of the COPY, the first upsert pass and the revision pass."""
    account_id = get_account().id
    revision = revised(rows, share=changed)
    create_copy_table()
    timings: dict[str, list[float]] = {"copy": [], "first": [], "revision": []}
    for _ in range(repeat):
        timings["copy"].append(time_copy(rows))
        settle("usage_daily", "fleet_usage_daily")
        timings["first"].append(time_upsert(rows, account_id=account_id, batch_rows=batch_rows))
        timings["revision"].append(
            time_upsert(revision, account_id=account_id, batch_rows=batch_rows)
        )
    return {name: min(seconds) for name, seconds in timings.items()}


def main() -> None:
    """Run the ingest benchmark on a scratch database; exit 1 below the target."""
    args = _arguments()
    rows = usage_rows(sims=args.sims, days=args.days)
    with scratch_database(args.database_url) as url:
        # Redis is configured but never used here, so it is not flushed either.
        credentials = {"ONCE_CLIENT_ID": CLIENT_ID, "ONCE_CLIENT_SECRET": CLIENT_SECRET}
        app = migrated_app(url, args.redis_url, **credentials)
        with app.app_context():
            try:
                chunk_sims = args.chunk_sims or app.config["SYNC_CHUNK_SIMS"]
                server = describe_server()
                before = describe_machine()
                best = measure(
                    rows,
                    batch_rows=chunk_sims * args.days,
                    changed=args.changed,
                    repeat=args.repeat,
                )
                exact = rollup_is_exact()
            finally:
                db.session.remove()
                db.engine.dispose()
    print(f"ingest: {len(rows):,} usage rows ({args.sims:,} SIMs x {args.days} days)")
    print(f"  {args.database_url.rpartition('@')[2]}: {server}")
    print(f"  upserts in chunks of {chunk_sims} SIMs; best of {args.repeat} runs")
    print(f"  machine before: {before}; after: {describe_machine()}")
    copy = best["copy"]
    passes = {
        "upsert, first pass (empty table)": best["first"],
        f"upsert, revision ({args.changed:.0%} of rows changed)": best["revision"],
    }
    target = f"(target >= {TARGET_RATIO:.2f})"
    print_table(
        [
            ("plain COPY into an empty table", f"{copy:6.2f} s {len(rows) / copy:>10,.0f} rows/s"),
            *(
                (name, f"{s:6.2f} s {len(rows) / s:>10,.0f} rows/s  {copy / s:.2f} x COPY {target}")
                for name, s in passes.items()
            ),
            ("rollup equals the summed rows", "yes" if exact else "NO"),
        ]
    )
    if not exact or min(copy / s for s in passes.values()) < TARGET_RATIO:
        print(f"FAIL: an upsert pass below {TARGET_RATIO:.2f} x COPY, or the rollup is off")
        sys.exit(1)
    print(f"PASS: both upsert passes at or above {TARGET_RATIO:.2f} x COPY, rollup exact")


def _arguments():
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=10_000)
    options.add_argument("--days", type=int, default=100)
    options.add_argument(
        "--chunk-sims", type=int, default=0, help="SIMs per batch (default: SYNC_CHUNK_SIMS)"
    )
    options.add_argument("--changed", type=float, default=0.05, help="share revised in pass 2")
    options.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    return options.parse_args()


if __name__ == "__main__":
    main()
