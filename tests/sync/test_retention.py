"""Retention keeps the configured days of usage, events and records, on TimescaleDB and plain
PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkJobItem, SimAction, SimChange, SyncRun
from webapp.sync.retention import RECORDS, RETAINED, enforce_retention
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
    app.config.update({setting: 0 for _, setting in (*RETAINED.values(), *RECORDS.values())})
    app.config.update(BULK_JOB_RETENTION_DAYS=0)
    seed_history(200)
    assert enforce_retention() == {}
    assert db.session.scalar(sa.text("SELECT count(*) FROM usage_daily")) == 200


def test_the_fleet_rollup_and_the_known_days_follow_the_usage_cut(app, make_sim):
    app.config.update(USAGE_RETENTION_DAYS=90, EVENT_RETENTION_DAYS=30)
    today = datetime.now(UTC).date()
    sim = make_sim(
        iccid="8988", usage_synced_from=today - timedelta(days=199), usage_synced_through=today
    )
    recent = make_sim(usage_synced_from=today - timedelta(days=9), usage_synced_through=today)
    seed_history(200)
    db.session.execute(
        sa.text(
            "INSERT INTO fleet_usage_daily"
            " (account_id, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)"
            " SELECT :account, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt FROM usage_daily"
        ),
        {"account": sim.account_id},
    )
    db.session.commit()
    removed = enforce_retention()
    cutoff = today - timedelta(days=89)
    assert removed["fleet_usage_daily"] == 110
    assert oldest("fleet_usage_daily", "day") == oldest("usage_daily", "day") == cutoff
    # Pruned days are no longer known: they read as "no data", not as days without traffic.
    db.session.expire_all()
    assert sim.usage_synced_from == cutoff
    assert recent.usage_synced_from == today - timedelta(days=9)


def seed_records(settled_at: datetime) -> None:
    """One settled record of each kind (at `settled_at`), and one still going, made long ago."""
    long_ago = datetime.now(UTC) - timedelta(days=1000)
    db.session.add_all(
        [
            SyncRun(kind="usage", started_at=settled_at, finished_at=settled_at, outcome="success"),
            SyncRun(kind="usage", started_at=long_ago, outcome="running"),
            SimChange(iccid="8988", changed_at=settled_at, field="label", new_value="x"),
            SimAction(iccid="8988", action="label", actor="a", requested_at=settled_at,
                      state="applied", settled_at=settled_at),
            SimAction(iccid="8988", action="label", actor="a", requested_at=long_ago),
            AuditEvent(at=settled_at, actor="a", action="sim.label"),
        ]
    )  # fmt: skip
    for finished_at, state in ((settled_at, "done"), (None, "running")):
        job = BulkJob(actor="a", action="label", scope="1 SIM", selection={}, state=state,
                      created_at=long_ago, finished_at=finished_at)  # fmt: skip
        db.session.add(job)
        db.session.flush()
        db.session.add(BulkJobItem(job_id=job.id, iccid="8988"))
    db.session.commit()


def count(table: str) -> int:
    return db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def test_settled_records_go_after_their_retention_and_unsettled_ones_stay(app):
    now = datetime.now(UTC)
    seed_records(now - timedelta(days=800))  # past every default, audit's 730 days included
    seed_records(now - timedelta(days=10))
    removed = enforce_retention()
    for table in ("sync_runs", "sim_changes", "sim_actions", "audit_events", "bulk_jobs"):
        assert removed[table] == 1, table
    assert removed["bulk_job_items"] == 1
    # Left: the recent settled record and the one still going (twice, for runs, actions, jobs).
    assert [count(t) for t in ("sync_runs", "sim_actions", "bulk_jobs", "bulk_job_items")] == [
        3,
        3,
        3,
        3,
    ]
    assert count("sim_changes") == count("audit_events") == 1
    assert enforce_retention()["audit_events"] == 0  # idempotent


def test_each_record_keeps_its_own_setting(app):
    app.config.update(SYNC_RUN_RETENTION_DAYS=5, AUDIT_RETENTION_DAYS=0)
    seed_records(datetime.now(UTC) - timedelta(days=10))
    removed = enforce_retention()
    assert removed["sync_runs"] == 1 and "audit_events" not in removed
    assert count("audit_events") == 1 and count("sim_changes") == 1
