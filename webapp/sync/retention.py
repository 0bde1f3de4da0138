"""Retention: drop usage, events and settled records older than configured (0 keeps all).

TimescaleDB drops whole chunks (`drop_chunks`); plain PostgreSQL deletes in batches so no
single transaction grows large. The fleet rollup is cut with the per-SIM rows, so fleet and
SIM figures cover the same days, and each SIM's first known day moves up to the cutoff, so
pruned days read as "no data", not as days without traffic.

Records (sync runs, SIM changes and actions, bulk jobs, the audit log) are kept a number of
days after they settle: a run, action or job still going has no settled time and stays.
"""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.extensions import db
from webapp.timeseries import is_hypertable

DELETE_BATCH = 10_000
# table -> (time column, setting with the days to keep)
RETAINED = {
    "usage_daily": ("day", "USAGE_RETENTION_DAYS"),
    "sim_events": ("occurred_at", "EVENT_RETENTION_DAYS"),
    "quota_samples": ("sampled_at", "USAGE_RETENTION_DAYS"),
}
# table -> (the time the record settled, setting with the days to keep it after)
RECORDS = {
    "sync_runs": ("finished_at", "SYNC_RUN_RETENTION_DAYS"),
    "sim_changes": ("changed_at", "SIM_CHANGE_RETENTION_DAYS"),
    "sim_actions": ("settled_at", "SIM_ACTION_RETENTION_DAYS"),
    "audit_events": ("at", "AUDIT_RETENTION_DAYS"),
    # Alert history goes with the events (its notifications with it); open alerts stay.
    "alerts": ("resolved_at", "EVENT_RETENTION_DAYS"),
}


def enforce_retention() -> dict[str, int]:
    """Remove expired rows from every retained table; returns chunks and rows removed."""
    removed = {}
    for table, (column, setting) in RETAINED.items():
        days = current_app.config[setting]
        if not days:
            continue
        now = datetime.now(UTC)
        # Keeping 90 days of daily rows means today and the 89 days before it.
        cutoff = (
            (now - timedelta(days=days - 1)).date()
            if column == "day"
            else now - timedelta(days=days)
        )
        removed[table] = _drop_before(table, column, cutoff)
        if table == "usage_daily":
            removed["fleet_usage_daily"] = _forget_usage_before(cutoff)
    return removed | _enforce_record_retention()


def _enforce_record_retention() -> dict[str, int]:
    removed = {}
    now = datetime.now(UTC)
    for table, (column, setting) in RECORDS.items():
        if days := current_app.config[setting]:
            cutoff = now - timedelta(days=days)
            removed[table] = _delete_in_batches(table, f"{column} < :cutoff", cutoff)
    if days := current_app.config["BULK_JOB_RETENTION_DAYS"]:
        cutoff = now - timedelta(days=days)
        # A job's items first, a batch at a time: deleting a job of 100,000 SIMs would
        # otherwise cascade to all of its items in one transaction.
        of_old_jobs = "job_id IN (SELECT id FROM bulk_jobs WHERE finished_at < :cutoff)"
        removed["bulk_job_items"] = _delete_in_batches("bulk_job_items", of_old_jobs, cutoff)
        removed["bulk_jobs"] = _delete_in_batches("bulk_jobs", "finished_at < :cutoff", cutoff)
    return removed


def _forget_usage_before(cutoff: date) -> int:
    """Cut the fleet rollup where the per-SIM rows end and mark earlier days unknown."""
    deleted = db.session.execute(  # type: ignore[attr-defined]
        sa.text("DELETE FROM fleet_usage_daily WHERE day < :cutoff"), {"cutoff": cutoff}
    ).rowcount
    db.session.execute(
        sa.text("UPDATE sims SET usage_synced_from = :cutoff WHERE usage_synced_from < :cutoff"),
        {"cutoff": cutoff},
    )
    db.session.commit()
    return deleted


def _drop_before(table: str, column: str, cutoff: date) -> int:
    conn = db.session.connection()
    if is_hypertable(conn, table):
        # drop_chunks removes only chunks entirely older than the cutoff; the few rows of the
        # chunk that straddles it go with one DELETE (ctid batching would mix up chunks).
        dropped = len(
            conn.execute(
                sa.text("SELECT drop_chunks(:table, older_than => :cutoff)"),
                {"table": table, "cutoff": cutoff},
            ).all()
        )
        deleted = conn.execute(
            sa.text(f"DELETE FROM {table} WHERE {column} < :cutoff"), {"cutoff": cutoff}
        ).rowcount
        db.session.commit()
        return dropped + deleted
    return _delete_in_batches(table, f"{column} < :cutoff", cutoff)


def _delete_in_batches(table: str, expired: str, cutoff: date | datetime) -> int:
    """Delete the rows of a plain table that match `expired` (SQL using :cutoff), a batch
    (and a transaction) at a time."""
    total = 0
    while True:
        # A DML statement's result is a CursorResult; Session.execute is typed as Result.
        deleted = db.session.execute(  # type: ignore[attr-defined]
            sa.text(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f"SELECT ctid FROM {table} WHERE {expired} LIMIT :batch))"
            ),
            {"cutoff": cutoff, "batch": DELETE_BATCH},
        ).rowcount
        db.session.commit()
        total += deleted
        if deleted < DELETE_BATCH:
            return total
