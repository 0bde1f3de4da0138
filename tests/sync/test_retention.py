"""Retention keeps the configured days of usage and events, on TimescaleDB and plain PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.sync.retention import enforce_retention
from webapp.timeseries import is_hypertable


def seed_history(days: int) -> None:
    """One SIM's usage and events for each of the last `days` days."""
    today = datetime.now(UTC).date()
    db.session.execute(
        sa.text(
            "INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)"
            " SELECT '8988', d::date, 1, 1, 0, 0"
            " FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') d"
        ),
        {"start": today - timedelta(days=days - 1), "end": today},
    )
    db.session.execute(
        sa.text(
            "INSERT INTO sim_events (iccid, occurred_at, event_key, event_type, details)"
            " SELECT '8988', t, 'md5:' || md5(t::text), 'Update location', '{}'"
            " FROM generate_series(now() - make_interval(days => :days - 1), now(),"
            " interval '1 day') t"
        ),
        {"days": days},
    )
    db.session.commit()


def oldest(table: str, column: str):
    return db.session.scalar(sa.text(f"SELECT min({column}) FROM {table}"))


def test_tables_are_hypertables_when_timescaledb_is_there(app, timescaledb):
    conn = db.session.connection()
    for table in ("usage_daily", "sim_events", "quota_samples"):
        assert is_hypertable(conn, table) == timescaledb


@pytest.mark.parametrize("usage_days", [90, 30])
def test_retention_keeps_the_configured_days(settings, usage_days, app):
    app.config.update(USAGE_RETENTION_DAYS=usage_days, EVENT_RETENTION_DAYS=30)
    seed_history(200)
    removed = enforce_retention()
    today = datetime.now(UTC).date()
    assert oldest("usage_daily", "day") == today - timedelta(days=usage_days - 1)
    assert oldest("sim_events", "occurred_at") >= datetime.now(UTC) - timedelta(days=30)
    assert db.session.scalar(sa.text("SELECT count(*) FROM sim_events")) == 30
    assert db.session.scalar(sa.text("SELECT count(*) FROM usage_daily")) == usage_days
    assert removed["usage_daily"] > 0
    assert enforce_retention()["usage_daily"] == 0  # idempotent


def test_zero_keeps_everything(app):
    app.config.update(USAGE_RETENTION_DAYS=0, EVENT_RETENTION_DAYS=0)
    seed_history(200)
    assert enforce_retention() == {}
    assert db.session.scalar(sa.text("SELECT count(*) FROM usage_daily")) == 200
