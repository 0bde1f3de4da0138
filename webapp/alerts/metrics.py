"""Alert metrics, read at scrape time so every web worker reports the same: open alerts by
rule, severity and state from the database; evaluations (count, total and last duration) from
Redis, where each evaluation, in whichever worker, adds itself."""

import logging
import time

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from webapp.extensions import db, get_redis

log = logging.getLogger("simfleet.alerts")
EVALUATIONS_KEY = "simfleet:alerts:evaluations"
SCOPES = ("full", "sims")


def record_evaluation(*, full: bool, seconds: float) -> None:
    """Count one evaluation and its duration (a full pass, or the SIMs of a sync chunk)."""
    scope = "full" if full else "sims"
    try:
        pipe = get_redis().pipeline()
        pipe.hincrby(EVALUATIONS_KEY, f"{scope}:count", 1)
        pipe.hincrbyfloat(EVALUATIONS_KEY, f"{scope}:seconds", seconds)
        pipe.hset(EVALUATIONS_KEY, mapping={f"{scope}:last": seconds, f"{scope}:at": time.time()})
        pipe.execute()
    except RedisError as exc:
        log.warning("could not record an alert evaluation: %s", exc)


class AlertCollector(Collector):
    """Open alerts per rule, severity and state; evaluations and their duration."""

    def collect(self):
        """Read the figures now."""
        open_alerts = GaugeMetricFamily(
            "simfleet_alerts_open",
            "Open alerts (firing or acknowledged) by rule, severity and state.",
            labels=["rule", "severity", "state"],
        )
        for rule, severity, state, count in db.session.execute(_OPEN_ALERTS).all():
            open_alerts.add_metric([rule, severity, state], count)
        yield open_alerts
        yield from self._evaluations()

    def _evaluations(self):
        try:
            stored = get_redis().hgetall(EVALUATIONS_KEY)
        except RedisError:
            return  # Redis down: simfleet_redis_up says so
        figures = {_text(key): float(value) for key, value in stored.items()}
        count = CounterMetricFamily(
            "simfleet_alert_evaluations", "Alert evaluations run.", labels=["scope"]
        )
        seconds = CounterMetricFamily(
            "simfleet_alert_evaluation_seconds",
            "Time spent evaluating alert rules.",
            labels=["scope"],
        )
        last = GaugeMetricFamily(
            "simfleet_alert_last_evaluation_duration_seconds",
            "How long the last alert evaluation took.",
            labels=["scope"],
        )
        for scope in SCOPES:
            if f"{scope}:count" in figures:
                count.add_metric([scope], figures[f"{scope}:count"])
                seconds.add_metric([scope], figures[f"{scope}:seconds"])
                last.add_metric([scope], figures[f"{scope}:last"])
        yield from (count, seconds, last)


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


_OPEN_ALERTS = sa.text(
    """
    SELECT r.name, a.severity, a.state, count(*)
    FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
    WHERE a.state <> 'resolved'
    GROUP BY r.name, a.severity, a.state
    """
)
