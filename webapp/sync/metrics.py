"""Sync metrics, read from the database and Redis at scrape time, so every web worker reports
the same values (no per-process gauges)."""

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from webapp.extensions import db
from webapp.models.sync import SYNC_KINDS
from webapp.sync.planner import SYNCED_AT, interval_minutes
from webapp.tasks import QUEUES, get_queue


class SyncCollector(Collector):
    """Freshness per kind, rows written, stale SIMs and queue depths (needs an app context)."""

    def collect(self):
        """Read the gauges now, from the database and the queues."""
        last_success = GaugeMetricFamily(
            "simfleet_sync_last_success_timestamp_seconds",
            "When the last successful run of a sync kind finished.",
            labels=["kind"],
        )
        duration = GaugeMetricFamily(
            "simfleet_sync_last_duration_seconds",
            "How long the last finished run of a sync kind took.",
            labels=["kind"],
        )
        rows = GaugeMetricFamily(
            "simfleet_sync_last_rows", "Rows the last finished run wrote.", labels=["kind"]
        )
        for kind, finished, seconds, written in db.session.execute(_LAST_RUNS).all():
            last_success.add_metric([kind], finished.timestamp())
            duration.add_metric([kind], seconds)
            rows.add_metric([kind], written)
        yield from (last_success, duration, rows)
        yield self._stale_sims()
        yield self._queue_depths()

    def _stale_sims(self) -> GaugeMetricFamily:
        stale = GaugeMetricFamily(
            "simfleet_sync_stale_sims",
            "SIMs whose data of a kind is older than twice the kind's interval.",
            labels=["kind"],
        )
        intervals = {kind: interval_minutes(kind) for kind in SYNC_KINDS if interval_minutes(kind)}
        counts = [
            f"count(*) FILTER (WHERE {SYNCED_AT.get(kind, 'inventory_synced_at')} IS NULL"
            f" OR {SYNCED_AT.get(kind, 'inventory_synced_at')}"
            f" < now() - interval '{2 * minutes} minutes')"
            for kind, minutes in intervals.items()
        ]
        if counts:
            query = f"SELECT {', '.join(counts)} FROM sims WHERE removed_at IS NULL"
            for kind, count in zip(
                intervals, db.session.execute(sa.text(query)).one(), strict=True
            ):
                stale.add_metric([kind], count)
        return stale

    def _queue_depths(self) -> GaugeMetricFamily:
        depth = GaugeMetricFamily(
            "simfleet_queue_jobs", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        try:
            counts = [(name, get_queue(name).count) for name in QUEUES]
        except RedisError:
            return depth  # Redis down: no depths rather than no metrics (simfleet_redis_up)
        for name, count in counts:
            depth.add_metric([name], count)
        return depth


_LAST_RUNS = sa.text(
    """
    SELECT DISTINCT ON (kind) kind, finished_at,
           EXTRACT(EPOCH FROM finished_at - started_at), rows
    FROM sync_runs WHERE outcome IN ('success', 'partial')
    ORDER BY kind, finished_at DESC
    """
)
