"""Retention: drop usage and events older than configured (0 keeps everything).

TimescaleDB drops whole chunks (`drop_chunks`); plain PostgreSQL deletes in batches so no
single transaction grows large.
"""

from datetime import UTC, datetime, timedelta

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
    return removed


def _drop_before(table: str, column: str, cutoff) -> int:
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
    return _delete_in_batches(table, column, cutoff)


def _delete_in_batches(table: str, column: str, cutoff) -> int:
    """Delete expired rows of a plain table a batch (and a transaction) at a time."""
    total = 0
    while True:
        deleted = db.session.execute(
            sa.text(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f"SELECT ctid FROM {table} WHERE {column} < :cutoff LIMIT :batch))"
            ),
            {"cutoff": cutoff, "batch": DELETE_BATCH},
        ).rowcount
        db.session.commit()
        total += deleted
        if deleted < DELETE_BATCH:
            return total
