"""The usage upsert: new, revised and unchanged rows, and a rollup that stays exact."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.helpers import eventually
from webapp.extensions import db
from webapp.models import ProviderAccount, Sim
from webapp.one_nce import UsageRecord
from webapp.sim_queries import Forecast, forecast_of
from webapp.sync import ingest

FIRST_DAY = date(2026, 11, 1)


@pytest.fixture
def account_id(app) -> int:
    account = ProviderAccount(name="1NCE", api_url="http://127.0.0.1:9/api", client_id="test")
    db.session.add(account)
    db.session.commit()
    return account.id


def day(offset: int, rx: str, tx: str = "1", mo: int = 1, mt: int = 2) -> UsageRecord:
    rx_mb, tx_mb = Decimal(rx), Decimal(tx)
    return UsageRecord(
        FIRST_DAY + timedelta(days=offset), rx_mb + tx_mb, rx_mb, tx_mb, mo + mt, mo, mt
    )


def stored() -> dict[tuple[str, date], tuple]:
    rows = db.session.execute(
        sa.text("SELECT iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt FROM usage_daily")
    )
    return {(iccid, d): tuple(values) for iccid, d, *values in rows}


def rollup_matches_raw_rows() -> bool:
    summed = db.session.execute(
        sa.text(
            "SELECT day, SUM(data_rx_mb), SUM(data_tx_mb), SUM(sms_mo), SUM(sms_mt)"
            " FROM usage_daily GROUP BY day ORDER BY day"
        )
    ).all()
    rollup = db.session.execute(
        sa.text(
            "SELECT day, data_rx_mb, data_tx_mb, sms_mo, sms_mt FROM fleet_usage_daily ORDER BY day"
        )
    ).all()
    return summed == rollup


def upsert(account_id: int, rows: list[tuple[str, UsageRecord]]) -> int:
    written = ingest.upsert_usage(account_id=account_id, rows=rows)
    db.session.commit()
    return written


def test_new_revised_and_unchanged_rows(account_id):
    first = [("A", day(0, "1.5")), ("A", day(1, "2")), ("B", day(0, "3"))]
    assert upsert(account_id, first) == 3
    revision = [
        ("A", day(0, "1.5")),  # unchanged
        ("A", day(1, "2.25", mo=4)),  # revised by 1NCE
        ("B", day(0, "3")),
        ("B", day(1, "7")),  # new
        ("B", day(1, "7")),  # the same row twice in one batch
    ]
    assert upsert(account_id, revision) == 2
    assert stored() == {
        ("A", FIRST_DAY): (Decimal("1.5"), Decimal(1), 1, 2),
        ("A", FIRST_DAY + timedelta(days=1)): (Decimal("2.25"), Decimal(1), 4, 2),
        ("B", FIRST_DAY): (Decimal(3), Decimal(1), 1, 2),
        ("B", FIRST_DAY + timedelta(days=1)): (Decimal(7), Decimal(1), 1, 2),
    }
    assert rollup_matches_raw_rows()


def test_a_first_batch_goes_straight_in_keeping_the_last_of_a_repeated_day(account_id):
    # Nothing stored yet for these SIMs: the rows are copied straight into usage_daily.
    rows = [("A", day(0, "1")), ("A", day(0, "2.5")), ("B", day(3, "4"))]
    assert upsert(account_id, rows) == 2
    assert stored() == {
        ("A", FIRST_DAY): (Decimal("2.5"), Decimal(1), 1, 2),
        ("B", FIRST_DAY + timedelta(days=3)): (Decimal(4), Decimal(1), 1, 2),
    }
    assert upsert(account_id, [("C", day(0, "1"))]) == 1
    assert rollup_matches_raw_rows()


def test_new_rows_with_a_stored_one_among_them_are_merged(account_id):
    # The batch starts with a new row, so it is tried as a COPY; B's stored day refuses it,
    # the COPY is undone and the batch merged: nothing lost, nothing doubled.
    upsert(account_id, [("B", day(0, "3"))])
    assert upsert(account_id, [("A", day(0, "1")), ("B", day(0, "4")), ("B", day(1, "5"))]) == 3
    assert stored() == {
        ("A", FIRST_DAY): (Decimal(1), Decimal(1), 1, 2),
        ("B", FIRST_DAY): (Decimal(4), Decimal(1), 1, 2),
        ("B", FIRST_DAY + timedelta(days=1)): (Decimal(5), Decimal(1), 1, 2),
    }
    assert rollup_matches_raw_rows()


def test_repeating_a_batch_rewrites_nothing(account_id):
    rows = [(iccid, day(offset, "0.5")) for iccid in "ABC" for offset in range(5)]
    upsert(account_id, rows)
    versions = db.session.execute(sa.text("SELECT iccid, day, xmin::text FROM usage_daily")).all()
    assert upsert(account_id, rows) == 0
    assert db.session.execute(sa.text("SELECT iccid, day, xmin::text FROM usage_daily")).all() == (
        versions
    )
    assert rollup_matches_raw_rows()


def test_the_rollup_moves_by_the_values_as_stored(account_id):
    # usage_daily keeps 6 decimals: the rollup must add what was stored, not what came in.
    upsert(account_id, [("A", day(0, "0.1234564")), ("B", day(0, "0.0000004"))])
    upsert(account_id, [("A", day(0, "0.1234566"))])
    assert stored()[("A", FIRST_DAY)][0] == Decimal("0.123457")
    # Halves round away from zero, as PostgreSQL rounds numeric.
    upsert(account_id, [("C", day(0, "0.0000005", tx="2.0000025"))])
    assert stored()[("C", FIRST_DAY)][:2] == (Decimal("0.000001"), Decimal("2.000003"))
    assert rollup_matches_raw_rows()


def test_two_writers_of_the_same_sims_keep_the_rollup_exact(app, account_id):
    upsert(account_id, [("A", day(0, "1"))])
    ingest.upsert_usage(account_id=account_id, rows=[("A", day(0, "2")), ("B", day(0, "5"))])

    def second_writer():
        with app.app_context():
            upsert(account_id, [("A", day(0, "4")), ("B", day(0, "6"))])

    writer = threading.Thread(target=second_writer)
    writer.start()
    wait_for_a_lock_wait()
    db.session.commit()
    writer.join(timeout=30)
    assert stored() == {
        ("A", FIRST_DAY): (Decimal(4), Decimal(1), 1, 2),
        ("B", FIRST_DAY): (Decimal(6), Decimal(1), 1, 2),
    }
    assert rollup_matches_raw_rows()


def wait_for_a_lock_wait(timeout: float = 10) -> None:
    """Until another session of this database waits for a lock this one holds."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.engine.connect() as conn:

        def someone_waits() -> int:
            count = conn.scalar(waiting)
            conn.rollback()  # the next look gets a fresh snapshot of pg_stat_activity
            return count

        eventually(
            someone_waits,
            timeout=timeout,
            interval=0.05,
            message="the second writer never waited",
        )


# The figures written after a usage fetch, against values worked out by hand.
THROUGH = date(2026, 11, 30)


def history(iccid: str, mb_by_age: dict[int, str]) -> None:
    """Store `iccid`'s data per day, by the day's age before THROUGH (received 80 %, sent 20 %)."""
    db.session.execute(
        sa.text(
            "INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)"
            " SELECT :iccid, CAST(:through AS date) - age, mb * 0.8, mb * 0.2, 0, 0"
            " FROM unnest(CAST(:ages AS int[]), CAST(:mbs AS numeric[])) AS h(age, mb)"
        ),
        {"iccid": iccid, "through": THROUGH, "ages": list(mb_by_age),
         "mbs": [Decimal(mb) for mb in mb_by_age.values()]},
    )  # fmt: skip
    db.session.commit()


def figures(iccid: str) -> sa.Row:
    db.session.expire_all()
    return db.session.execute(
        sa.text(
            "SELECT avg_daily_mb_7d, avg_daily_mb_30d, data_exhausted_on, last_traffic_on,"
            " data_unused_at_expiry_mb,"
            " usage_synced_from, usage_synced_through FROM sims WHERE iccid = :i"
        ),
        {"i": iccid},
    ).one()


def refresh(iccid: str, *, through: date = THROUGH, fetched_from: date | None = None) -> None:
    fetched_from = fetched_from or through - timedelta(days=182)
    ingest.refresh_usage_figures(iccids=[iccid], synced_through=through, fetched_from=fetched_from)
    db.session.commit()


def test_averages_and_forecast_match_a_crafted_history(make_sim):
    sim = make_sim(data_remaining_mb=Decimal(30), data_total_mb=Decimal(500))
    # 7 days are THROUGH and the 6 before (ages 0-6), 30 days ages 0-29.
    history(sim.iccid, {0: "10", 3: "4", 6: "7", 7: "100", 29: "20", 30: "1000"})
    refresh(sim.iccid)
    row = figures(sim.iccid)
    assert row.avg_daily_mb_7d == Decimal(21) / 7 == 3  # 10 + 4 + 7
    assert row.avg_daily_mb_30d == Decimal("4.7")  # (21 + 100 + 20) / 30
    assert row.data_exhausted_on == THROUGH + timedelta(days=10)  # 30 MB left at 3 MB a day
    assert row.last_traffic_on == THROUGH
    assert (row.usage_synced_from, row.usage_synced_through) == (
        THROUGH - timedelta(days=182),
        THROUGH,
    )
    # 31 MB left: 10.33 days, so it runs out on the 11th day.
    db.session.execute(sa.text("UPDATE sims SET data_remaining_mb = 31"))
    refresh(sim.iccid)
    assert figures(sim.iccid).data_exhausted_on == THROUGH + timedelta(days=11)


def test_the_forecast_counts_utc_days_whatever_the_session_time_zone(make_sim):
    # The quota expires at 23:30 UTC on 3 December: 4 December already in Kiribati (UTC+14).
    expires = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    sim = make_sim(data_remaining_mb=Decimal(300), data_expires_at=expires)
    history(sim.iccid, {0: "7"})
    db.session.execute(sa.text("SET TIME ZONE 'Pacific/Kiritimati'"))
    ingest.refresh_usage_figures(
        iccids=[sim.iccid], synced_through=THROUGH, fetched_from=THROUGH - timedelta(days=30)
    )
    row = figures(sim.iccid)
    db.session.execute(sa.text("SET TIME ZONE 'UTC'"))
    db.session.commit()
    # 300 MB at 1 MB a day would last 300 days; the expiry, in UTC, comes first, 3 days on,
    # with 297 MB unused.
    assert row.avg_daily_mb_7d == 1
    assert row.data_exhausted_on == THROUGH + timedelta(days=300)
    assert row.data_unused_at_expiry_mb == 297
    sim = db.session.get(Sim, sim.iccid)
    assert forecast_of(sim) == Forecast(date(2026, 12, 3), "expires", Decimal(297))


def test_a_quota_that_runs_out_before_it_expires_leaves_nothing_unused(make_sim):
    expires = datetime(2026, 12, 20, tzinfo=UTC)
    sim = make_sim(data_remaining_mb=Decimal(5), data_expires_at=expires)
    history(sim.iccid, {0: "7"})
    refresh(sim.iccid, fetched_from=THROUGH - timedelta(days=30))
    row = figures(sim.iccid)
    assert row.data_exhausted_on == THROUGH + timedelta(days=5)
    assert row.data_unused_at_expiry_mb is None
    sim = db.session.get(Sim, sim.iccid)
    assert forecast_of(sim) == Forecast(THROUGH + timedelta(days=5), "runs_out")


def test_a_sim_known_for_fewer_days_averages_over_those_days(make_sim):
    sim = make_sim()
    history(sim.iccid, {0: "3", 1: "3", 2: "3", 5: "50"})  # age 5: stored, but not fetched
    refresh(sim.iccid, fetched_from=THROUGH - timedelta(days=2))
    row = figures(sim.iccid)
    assert row.usage_synced_from == THROUGH - timedelta(days=2)
    assert row.avg_daily_mb_7d == row.avg_daily_mb_30d == 3  # 9 MB over the 3 known days


def test_known_days_carry_on_and_restart_after_a_gap_never_fetched(make_sim):
    sim = make_sim()
    first = THROUGH - timedelta(days=182)
    refresh(sim.iccid)
    # The next fetch starts at the day before the last synced one: the known days carry on.
    refresh(sim.iccid, through=THROUGH + timedelta(days=1))
    assert figures(sim.iccid).usage_synced_from == first
    # Not synced for 200 days: the fetch reaches back 183 days, the days between were never
    # fetched, so the known days start again where this fetch started.
    later = THROUGH + timedelta(days=201)
    refresh(sim.iccid, through=later)
    assert figures(sim.iccid).usage_synced_from == later - timedelta(days=182)
    assert figures(sim.iccid).usage_synced_through == later


def test_periods_before_that_were_not_kept_have_no_change(make_sim):
    sim = make_sim(usage_synced_from=THROUGH - timedelta(days=99), usage_synced_through=THROUGH)
    history(sim.iccid, {age: "1" for age in range(100)})
    ingest.refresh_usage_periods(db.session.connection(), through=THROUGH, iccids=[sim.iccid])
    db.session.commit()
    periods = {
        days: (data, previous)
        for days, data, previous in db.session.execute(
            sa.text("SELECT period_days, data_mb, previous_data_mb FROM sim_usage_periods")
        )
    }
    # 100 known days: the 7 and 30 days before are kept, the 90 and 180 before are not.
    assert periods == {
        7: (Decimal(7), Decimal(7)),
        30: (Decimal(30), Decimal(30)),
        90: (Decimal(90), None),
        180: (Decimal(100), None),
    }


def test_a_forecast_beyond_ten_years_is_none(make_sim):
    sim = make_sim(data_remaining_mb=Decimal(100_000), data_expires_at=None)
    history(sim.iccid, {0: "0.007"})  # 0.001 MB a day: 274 years
    refresh(sim.iccid, fetched_from=THROUGH - timedelta(days=30))
    assert figures(sim.iccid).data_exhausted_on is None
