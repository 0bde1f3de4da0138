"""Evaluation: each enabled rule's condition in one statement over its targeted SIMs, then the
alerts' lifecycle in a few set-based statements.

Per rule, under a transaction-level advisory lock on the rule (two evaluations that overlap
take turns per rule, so neither duplicates an alert or a notification; the partial unique
index on open alerts and the outbox's unique key stand behind that):

- resolve: open alerts whose condition no longer holds (a "resolved" notification if a
  "fired" one went out and no "resolved" one yet, the alert is not snoozed and the channel
  wants resolutions);
- stay: open alerts whose condition still holds get the new value; one that fired while
  snoozed gets its "fired" notification once the snooze is over;
- reopen: a condition back within the rule's cooldown re-opens the alert it resolved, without
  notifying again;
- fire: a new alert, and a "fired" notification per enabled channel of the rule unless an
  earlier alert of the same rule and SIM is snoozed past now.

`evaluate` commits after each rule (so a lock is held for one rule only), like the sync's runners.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl

import sqlalchemy as sa

from webapp.alerts import conditions
from webapp.alerts.metrics import record_evaluation
from webapp.alerts.rules import CONDITIONS
from webapp.extensions import db
from webapp.inventory.services import view_args
from webapp.models import AlertRule, SavedView, Sim
from webapp.models.base import utcnow
from webapp.sim_queries import SimFilters

log = logging.getLogger("simfleet.alerts")
# pg_advisory_xact_lock(ALERT_RULE_LOCK, rule id): one evaluation of a rule at a time.
ALERT_RULE_LOCK = 0x414C_5254  # "ALRT"
MATCHES_TABLE = """
    CREATE TEMP TABLE IF NOT EXISTS alert_matches (
        key text PRIMARY KEY, iccid text, value text, message text
    ) ON COMMIT DELETE ROWS
"""
QUEUE_NOTIFICATIONS = """
    , queued AS (
        INSERT INTO alert_notifications (alert_id, channel_id, kind, status, attempts, created_at)
        SELECT n.id, c.id, '{kind}', 'pending', 0, :now
        FROM {source} n
        JOIN alert_rule_channels rc ON rc.rule_id = :rule_id
        JOIN alert_channels c ON c.id = rc.channel_id AND c.enabled {channel_filter}
        WHERE n.notify
        ON CONFLICT (alert_id, channel_id, kind) DO NOTHING
    )
"""
RESOLVE_SQL = """
    WITH cleared AS (
        SELECT a.id, a.notified_at IS NOT NULL AND a.resolution_notified_at IS NULL
                     AND NOT COALESCE(a.snoozed_until > :now, false) AS notify
        FROM alerts a
        WHERE a.rule_id = :rule_id AND a.state <> 'resolved' {scope}
          AND NOT EXISTS (SELECT 1 FROM alert_matches m WHERE m.key = COALESCE(a.iccid, ''))
    ), gone AS (
        UPDATE alerts a SET state = 'resolved', resolved_at = :now,
            resolution_notified_at = CASE WHEN c.notify THEN :now
                                          ELSE a.resolution_notified_at END
        FROM cleared c WHERE a.id = c.id
        RETURNING a.id, c.notify
    ) {queue}
    SELECT count(*), count(*) FILTER (WHERE notify) FROM gone
"""
STAY_SQL = """
    WITH held AS (
        SELECT a.id, m.value, m.message,
               a.state = 'firing' AND a.notified_at IS NULL
               AND NOT COALESCE(a.snoozed_until > :now, false) AS notify
        FROM alerts a JOIN alert_matches m ON m.key = COALESCE(a.iccid, '')
        WHERE a.rule_id = :rule_id AND a.state <> 'resolved'
    ), changed AS (
        UPDATE alerts a SET last_value = h.value, message = h.message,
            notified_at = CASE WHEN h.notify THEN :now ELSE a.notified_at END
        FROM held h
        WHERE a.id = h.id
          AND (h.notify OR (a.last_value, a.message) IS DISTINCT FROM (h.value, h.message))
        RETURNING a.id, h.notify
    ) {queue}
    SELECT (SELECT count(*) FROM held), (SELECT count(*) FROM changed WHERE notify)
"""
REOPEN_SQL = """
    WITH open AS (
        SELECT COALESCE(iccid, '') AS key FROM alerts
        WHERE rule_id = :rule_id AND state <> 'resolved'
    ), recent AS (
        SELECT DISTINCT ON (m.key) a.id, m.value, m.message
        FROM alert_matches m
        JOIN alerts a ON a.rule_id = :rule_id AND COALESCE(a.iccid, '') = m.key
        WHERE a.state = 'resolved'
          AND a.resolved_at >= CAST(:now AS timestamptz) - make_interval(mins => :cooldown)
          AND NOT EXISTS (SELECT 1 FROM open o WHERE o.key = m.key)
        ORDER BY m.key, a.resolved_at DESC
    )
    UPDATE alerts a SET state = 'firing', resolved_at = NULL, acknowledged_by = NULL,
        acknowledged_at = NULL, last_value = r.value, message = r.message
    FROM recent r WHERE a.id = r.id
"""
FIRE_SQL = """
    WITH open AS (
        SELECT COALESCE(iccid, '') AS key FROM alerts
        WHERE rule_id = :rule_id AND state <> 'resolved'
    ), snoozed AS (
        SELECT COALESCE(iccid, '') AS key, max(snoozed_until) AS until FROM alerts
        WHERE rule_id = :rule_id AND snoozed_until > :now GROUP BY 1
    ), fired AS (
        INSERT INTO alerts (rule_id, iccid, state, severity, since, last_value, message,
                            snoozed_until, notified_at)
        SELECT :rule_id, m.iccid, 'firing', :severity, :now, m.value, m.message, z.until,
               CASE WHEN z.until IS NULL THEN CAST(:now AS timestamptz) END
        FROM alert_matches m LEFT JOIN snoozed z ON z.key = m.key
        WHERE NOT EXISTS (SELECT 1 FROM open o WHERE o.key = m.key)
        ON CONFLICT (rule_id, iccid) WHERE state <> 'resolved' DO NOTHING
        RETURNING id, iccid, notified_at IS NOT NULL AS notify
    ) {queue}
    SELECT count(*), count(*) FILTER (WHERE notify),
           CASE WHEN :want_iccids THEN array_agg(iccid) END
    FROM fired
"""


@dataclass
class Counts:
    """What an evaluation did: alerts that fired (new or re-opened), stayed and resolved."""

    fired: int = 0
    stayed: int = 0
    resolved: int = 0

    def add(self, other: "Counts") -> None:
        """Add another evaluation's counts to these."""
        self.fired += other.fired
        self.stayed += other.stayed
        self.resolved += other.resolved


@dataclass
class RuleOutcome(Counts):
    """One rule's evaluation, with what "try this rule" needs: the SIMs of new alerts and how
    many transitions notified (per channel)."""

    new_iccids: list[str | None] = field(default_factory=list)
    notified: int = 0


def evaluate(*, iccids: Sequence[str] | None = None, now: datetime | None = None) -> Counts:
    """Evaluate every enabled rule (for `iccids` only, when given: system rules wait for the
    full pass); commits after each rule. Returns the counts over all rules."""
    started = time.perf_counter()
    now = now or utcnow()
    rules = db.session.scalars(
        sa.select(AlertRule).where(AlertRule.enabled).order_by(AlertRule.id)
    ).all()
    total = Counts()
    for rule in rules:
        if iccids is not None and CONDITIONS[rule.condition_type].system:
            continue
        total.add(evaluate_rule(rule, iccids=iccids, now=now))
        db.session.commit()
    record_evaluation(full=iccids is None, seconds=time.perf_counter() - started)
    return total


def evaluate_rule(
    rule: AlertRule,
    *,
    now: datetime,
    iccids: Sequence[str] | None = None,
    history: bool = False,
    want_iccids: bool = False,
) -> RuleOutcome:
    """Run one rule's condition and lifecycle as of `now` (on history: as rebuilt for then).

    Takes the rule's advisory lock until the transaction ends; the caller commits.
    """
    db.session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:lock, :rule_id)"),
        {"lock": ALERT_RULE_LOCK, "rule_id": rule.id},
    )
    # JIT compiles these statements for longer than they run (a second and more each).
    db.session.execute(sa.text("SET LOCAL jit = off"))
    _store_matches(rule, now=now, iccids=iccids, history=history)
    params = {"rule_id": rule.id, "now": now, "scope": list(iccids or [])}
    scope = "AND a.iccid = ANY(:scope)" if iccids is not None else ""
    resolved, notified_resolved = _run(RESOLVE_SQL, "gone", "resolved", params, scope=scope)
    stayed, notified_late = _run(STAY_SQL, "changed", "fired", params)
    reopened = db.session.execute(
        sa.text(REOPEN_SQL), params | {"cooldown": rule.cooldown_minutes}
    ).rowcount  # type: ignore[attr-defined]
    fired, notified_new, new_iccids = db.session.execute(
        sa.text(FIRE_SQL.format(queue=_queue("fired", "fired"))),
        params | {"severity": rule.severity, "want_iccids": want_iccids},
    ).one()
    return RuleOutcome(
        fired=fired + reopened,
        stayed=stayed,
        resolved=resolved,
        new_iccids=list(new_iccids or []),
        notified=notified_resolved + notified_late + notified_new,
    )


def _run(sql: str, source: str, kind: str, params: dict, *, scope: str = "") -> tuple[int, int]:
    row = db.session.execute(
        sa.text(sql.format(scope=scope, queue=_queue(source, kind))), params
    ).one()
    return row[0], row[1]


def _queue(source: str, kind: str) -> str:
    channel_filter = "AND c.send_resolved" if kind == "resolved" else ""
    return QUEUE_NOTIFICATIONS.format(source=source, kind=kind, channel_filter=channel_filter)


def _store_matches(
    rule: AlertRule, *, now: datetime, iccids: Sequence[str] | None, history: bool
) -> None:
    """Fill the session's alert_matches with the rule's condition's rows."""
    condition = CONDITIONS[rule.condition_type]
    target, target_params = _target(rule)
    population = "true" if rule.condition_type == "sim_removed" else "s.removed_at IS NULL"
    if condition.quota_or_usage and not rule.include_inactive:
        population += " AND s.status = 'Enabled'"
    query = conditions.rule_sql(
        condition_type=rule.condition_type,
        params=dict(rule.condition_params),
        target=target,
        target_params=target_params,
        population=population,
        scoped=iccids is not None,
        history=history,
        as_of=now,
    )
    db.session.execute(sa.text(MATCHES_TABLE))
    db.session.execute(sa.text("DELETE FROM alert_matches"))
    db.session.execute(
        sa.text(
            "INSERT INTO alert_matches (key, iccid, value, message)"
            f" SELECT COALESCE(iccid, ''), iccid, value, message FROM ({query.sql}) found"
        ),
        query.params | {"scope": list(iccids or [])},
    )
    # Fresh statistics, so the lifecycle's joins with the matches are planned on their size.
    db.session.execute(sa.text("ANALYZE alert_matches"))


def _target(rule: AlertRule) -> tuple[str, dict]:
    """The rule's targeted SIMs as SQL over `state s`, and its parameters."""
    if rule.target_type == "label":
        return "s.label ILIKE :label_pattern ESCAPE '!'", {
            "label_pattern": label_pattern(rule.target_value or "")
        }
    if rule.target_type == "view":
        return "s.iccid = ANY(:view_iccids)", {"view_iccids": view_iccids(rule.target_value)}
    return "true", {}


def label_pattern(pattern: str) -> str:
    """A label pattern (`*` matches any text, case ignored) as an ILIKE pattern escaped by !."""
    escaped = pattern.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped.replace("*", "%")


def view_iccids(view_id: str | None) -> list[str]:
    """The SIMs a saved view shows now (none if the view was deleted)."""
    view = db.session.get(SavedView, int(view_id)) if view_id else None
    if view is None:
        return []
    filters = SimFilters.from_args(view_args(dict(parse_qsl(view.query))))
    return list(db.session.scalars(sa.select(Sim.iccid).where(*filters.conditions())))
