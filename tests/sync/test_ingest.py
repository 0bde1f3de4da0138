"""The usage upsert: new, revised and unchanged rows, and a rollup that stays exact."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.helpers import eventually
from webapp.extensions import db
from webapp.models import ProviderAccount
from webapp.one_nce import UsageRecord
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
