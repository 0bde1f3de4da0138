"""The SQL of each condition: one statement per rule that selects the targeted SIMs for
which the condition holds, with a value and a message (docs/alerts.md defines each one).

The statement reads the SIMs through a relation `state`: live, that is `sims` as the sync left
it; when a rule is tried on history, the same columns rebuilt as of the end of a past day from
the time series (quota samples, SIM changes, daily usage, events). The conditions are written
once over `state`, so a tried rule and a live one decide alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app

from webapp.sync.planner import interval_minutes
from webapp.sync.services import V1_RETIREMENT

LIVE_STATE = "SELECT * FROM sims"
# As of :as_of (the end of day :day). Scalar subqueries, so that PostgreSQL, which inlines the
# CTE, computes only the columns a condition reads. The forecast is the sync's RUNS_OUT_ON
# (webapp/sync/ingest/usage.py) on the 7-day average as the sync stores it (6 decimals).
HISTORY_STATE = """
    SELECT s.iccid, s.label, s.usage_synced_from,
        LEAST(s.usage_synced_through, CAST(:day AS date)) AS usage_synced_through,
        COALESCE((SELECT c.old_value FROM sim_changes c
                  WHERE c.iccid = s.iccid AND c.field = 'status' AND c.changed_at > :as_of
                  ORDER BY c.changed_at LIMIT 1), s.status) AS status,
        CASE WHEN s.removed_at <= :as_of THEN s.removed_at END AS removed_at,
        COALESCE((SELECT c.old_value::smallint FROM sim_changes c
                  WHERE c.iccid = s.iccid AND c.field = 'data_quota_state'
                    AND c.changed_at > :as_of
                  ORDER BY c.changed_at LIMIT 1), s.data_quota_state) AS data_quota_state,
        s.sms_quota_state,
        {data_quota} AS data_remaining_mb,
        {data_total} AS data_total_mb,
        {data_expires} AS data_expires_at,
        ({sms_quota})::int AS sms_remaining,
        ({sms_total})::int AS sms_total,
        {sms_expires} AS sms_expires_at,
        CASE WHEN avg_7d.mb > 0 AND {data_quota} / avg_7d.mb <= 3660
             THEN CAST(:day AS date) + CEIL({data_quota} / avg_7d.mb)::int END
            AS data_exhausted_on,
        (SELECT max(u.day) FROM usage_daily u
         WHERE u.iccid = s.iccid AND u.day <= :day
           AND (u.data_rx_mb + u.data_tx_mb > 0 OR u.sms_mo + u.sms_mt > 0)) AS last_traffic_on,
        CASE WHEN s.last_seen_at <= :as_of THEN s.last_seen_at END AS last_seen_at,
        (SELECT max(e.occurred_at) FROM sim_events e
         WHERE e.iccid = s.iccid AND e.occurred_at <= :as_of) AS latest_event_at,
        CAST(NULL AS text) AS connectivity_status
    FROM sims s
    CROSS JOIN LATERAL (
        SELECT round(COALESCE(sum(u.data_rx_mb + u.data_tx_mb), 0)
                     / GREATEST(1, LEAST(7, CAST(:day AS date) - s.usage_synced_from + 1)), 6)
            AS mb
        FROM usage_daily u
        WHERE u.iccid = s.iccid AND u.day > CAST(:day AS date) - 7 AND u.day <= :day
    ) avg_7d
"""


def _sample(kind: str, column: str) -> str:
    return (
        f"(SELECT q.{column} FROM quota_samples q WHERE q.iccid = s.iccid AND q.kind = '{kind}'"
        " AND q.sampled_at <= :as_of ORDER BY q.sampled_at DESC LIMIT 1)"
    )


HISTORY_STATE = HISTORY_STATE.format(
    data_quota=_sample("data", "remaining"),
    data_total=_sample("data", "total"),
    data_expires=_sample("data", "expires_at"),
    sms_quota=_sample("sms", "remaining"),
    sms_total=_sample("sms", "total"),
    sms_expires=_sample("sms", "expires_at"),
)

DATA_OUT = "(s.data_remaining_mb <= 0 OR s.data_quota_state = 2)"
SMS_OUT = "(s.sms_remaining <= 0 OR s.sms_quota_state = 2)"
DATA_PERCENT = "round(100 * s.data_remaining_mb / NULLIF(s.data_total_mb, 0), 1)"
SMS_PERCENT = "round(100.0 * s.sms_remaining / NULLIF(s.sms_total, 0), 1)"
EXPIRES = {
    "data": "timezone('UTC', s.data_expires_at)::date",
    "sms": "timezone('UTC', s.sms_expires_at)::date",
    "any": "LEAST(timezone('UTC', s.data_expires_at)::date,"
    " timezone('UTC', s.sms_expires_at)::date)",
}
# Multiples of the baseline's spread above its median that make a day anomalous.
ANOMALY_FACTORS = {"high": 3, "medium": 5, "low": 8}
ANOMALY_BASELINE_DAYS = 28
ANOMALY_MIN_BASELINE_DAYS = 14
SILENCE_HISTORY_DAYS = 90
SILENCE_MIN_TRAFFIC_DAYS = 8
# The error rate of too few calls says nothing.
ERROR_RATE_MIN_CALLS = 20


@dataclass(frozen=True)
class Match:
    """A condition's SQL over `state s`: the WHERE, the value and the message; `ctes` and
    `joins` when it needs more than one row of `state`."""

    condition: str
    value: str
    message: str
    ctes: str = ""
    joins: str = ""


@dataclass(frozen=True)
class RuleSql:
    """What a rule's evaluation reads: the SELECT of (iccid, value, message) and its params."""

    sql: str
    params: dict[str, Any]


def rule_sql(
    *,
    condition_type: str,
    params: dict[str, Any],
    target: str,
    target_params: dict[str, Any],
    population: str,
    scoped: bool,
    history: bool,
    as_of: datetime,
) -> RuleSql:
    """The SELECT of the SIMs (or the one system row) for which the condition holds."""
    values = {"as_of": as_of, "day": as_of.astimezone(UTC).date(), **target_params}
    if condition_type in SYSTEM_SQL:
        sql, extra = SYSTEM_SQL[condition_type](params, as_of)
        return RuleSql(sql, values | extra)
    match = SIM_MATCHES[condition_type](params)
    state = HISTORY_STATE if history else LIVE_STATE
    where = f"{population} AND {target}" + (" AND s.iccid = ANY(:scope)" if scoped else "")
    sql = f"""
        WITH state AS NOT MATERIALIZED ({state}){match.ctes.format(where=where)}
        SELECT s.iccid, ({match.value})::text AS value, left({match.message}, 500) AS message
        FROM state s {match.joins}
        WHERE {where} AND ({match.condition})
    """
    return RuleSql(sql, values | {f"p_{k}": v for k, v in params.items()})


def _data_quota_below_percent(params: dict) -> Match:
    return Match(
        condition=f"{DATA_OUT} OR {DATA_PERCENT} < :p_percent",
        value=f"CASE WHEN {DATA_OUT} THEN 0 ELSE {DATA_PERCENT} END",
        message=f"format('%s %% of the data quota left', CASE WHEN {DATA_OUT} THEN 0"
        f" ELSE {DATA_PERCENT} END)",
    )


def _data_quota_below_mb(params: dict) -> Match:
    left = f"CASE WHEN {DATA_OUT} THEN 0 ELSE round(s.data_remaining_mb, 1) END"
    return Match(
        condition=f"{DATA_OUT} OR s.data_remaining_mb < :p_mb",
        value=left,
        message=f"format('%s MB of data left', {left})",
    )


def _sms_quota_below_percent(params: dict) -> Match:
    return Match(
        condition=f"{SMS_OUT} OR {SMS_PERCENT} < :p_percent",
        value=f"CASE WHEN {SMS_OUT} THEN 0 ELSE {SMS_PERCENT} END",
        message=f"format('%s %% of the SMS quota left', CASE WHEN {SMS_OUT} THEN 0"
        f" ELSE {SMS_PERCENT} END)",
    )


def _sms_quota_below_count(params: dict) -> Match:
    left = f"CASE WHEN {SMS_OUT} THEN 0 ELSE s.sms_remaining END"
    return Match(
        condition=f"{SMS_OUT} OR s.sms_remaining < :p_count",
        value=left,
        message=f"format('%s SMS left', {left})",
    )


def _quota_exhausted(params: dict) -> Match:
    data = params["quota"] == "data"
    return Match(
        condition=DATA_OUT if data else SMS_OUT,
        value="0",
        message="'Data quota exhausted'" if data else "'SMS quota exhausted'",
    )


def _data_exhaustion_within_days(params: dict) -> Match:
    return Match(
        condition=f"{DATA_OUT} OR s.data_exhausted_on <= CAST(:day AS date) + :p_days",
        value=f"CASE WHEN {DATA_OUT} THEN 'exhausted' ELSE s.data_exhausted_on::text END",
        message=f"CASE WHEN {DATA_OUT} THEN 'Data quota exhausted'"
        " ELSE format('Data runs out on %s at the last 7 days'' rate', s.data_exhausted_on) END",
    )


def _expiry_within_days(params: dict) -> Match:
    expires = EXPIRES[params["quota"]]
    return Match(
        condition=f"{expires} <= CAST(:day AS date) + :p_days",
        value=expires,
        message=f"CASE WHEN {expires} < CAST(:day AS date) THEN format('Quota expired on %s',"
        f" {expires}) ELSE format('Quota expires on %s', {expires}) END",
    )


def _usage_anomaly(params: dict) -> Match:
    # Candidates first (at least min_mb today), so the baseline is read for few SIMs, with one
    # index range scan each. Days before the SIM's first known day are not in its baseline;
    # known days without a row are 0 (the array's zeros).
    ctes = f"""
        , today AS (
            SELECT s.iccid, u.data_rx_mb + u.data_tx_mb AS mb,
                   GREATEST(s.usage_synced_from,
                            CAST(:day AS date) - {ANOMALY_BASELINE_DAYS}) AS known_from
            FROM state s JOIN usage_daily u ON u.iccid = s.iccid AND u.day = :day
            WHERE {{where}} AND u.data_rx_mb + u.data_tx_mb >= :p_min_mb
        ), baseline AS (
            SELECT t.iccid, d.median, cardinality(d.mbs) AS days,
                   (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v - d.median))
                    FROM unnest(d.mbs) AS v) AS mad
            FROM today t
            CROSS JOIN LATERAL (
                SELECT r.mbs, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v)
                               FROM unnest(r.mbs) AS v) AS median
                FROM (SELECT COALESCE(array_agg((u.data_rx_mb + u.data_tx_mb)::float8),
                                      CAST(ARRAY[] AS float8[]))
                             || array_fill(0::float8, ARRAY[
                                 (CAST(:day AS date) - t.known_from) - count(*)::int]) AS mbs
                      FROM usage_daily u
                      WHERE u.iccid = t.iccid AND u.day >= t.known_from AND u.day < :day) r
            ) d
        )
    """
    factor = ANOMALY_FACTORS[params["sensitivity"]]
    return Match(
        ctes=ctes,
        joins="JOIN today t ON t.iccid = s.iccid JOIN baseline b ON b.iccid = s.iccid",
        condition=f"b.days >= {ANOMALY_MIN_BASELINE_DAYS} AND t.mb > b.median"
        f" + {factor} * GREATEST(1.4826 * b.mad, 0.1 * b.median)",
        value="round(t.mb, 1)",
        message="format('%s MB today, usually %s MB (median of the %s days before)',"
        " round(t.mb, 1), round(b.median::numeric, 1), b.days)",
    )


def _silent(params: dict) -> Match:
    if params.get("learned"):
        return _silent_learned()
    contact = "GREATEST(s.last_seen_at, s.latest_event_at)"
    hours = f"floor(extract(epoch FROM CAST(:as_of AS timestamptz) - {contact}) / 3600)::int"
    return Match(
        condition=f"{contact} < CAST(:as_of AS timestamptz) - make_interval(hours => :p_hours)",
        value=hours,
        message=f"format('No connectivity for %s hours', {hours})",
    )


def _silent_learned() -> Match:
    # Only SIMs quiet for more than 2 known days are candidates; their usual gap is learned
    # from the 90 days up to their last traffic.
    quiet_days = "LEAST(CAST(:day AS date), s.usage_synced_through) - s.last_traffic_on"
    ctes = f"""
        , quiet AS (
            SELECT s.iccid, s.last_traffic_on AS last_day, {quiet_days} AS days
            FROM state s WHERE {{where}} AND {quiet_days} > 2
        ), gaps AS (
            SELECT q.iccid, u.day - lag(u.day) OVER (PARTITION BY q.iccid ORDER BY u.day) AS gap
            FROM quiet q JOIN usage_daily u ON u.iccid = q.iccid
                AND u.day > q.last_day - {SILENCE_HISTORY_DAYS} AND u.day <= q.last_day
            WHERE u.data_rx_mb + u.data_tx_mb > 0 OR u.sms_mo + u.sms_mt > 0
        ), usual AS (
            SELECT iccid, percentile_cont(0.9) WITHIN GROUP (ORDER BY gap) AS gap,
                   count(*) AS traffic_days
            FROM gaps GROUP BY iccid
        )
    """
    return Match(
        ctes=ctes,
        joins="JOIN quiet q ON q.iccid = s.iccid JOIN usual g ON g.iccid = s.iccid",
        condition=f"g.traffic_days >= {SILENCE_MIN_TRAFFIC_DAYS}"
        " AND q.days > GREATEST(2, 2 * g.gap)",
        value="q.days",
        message="format('No traffic for %s days, usually at most %s days apart',"
        " q.days, ceil(g.gap))",
    )


def _changed(field: str, what: str, *, blocked: bool) -> Callable[[dict], Match]:
    def match(params: dict) -> Match:
        first_value = "" if field == "status" else " AND old_value IS NOT NULL"
        ctes = f"""
            , changed AS (
                SELECT DISTINCT ON (iccid) iccid, old_value, new_value FROM sim_changes
                WHERE field = '{field}' AND changed_at <= :as_of{first_value}
                  AND changed_at > CAST(:as_of AS timestamptz) - make_interval(hours => :p_hours)
                ORDER BY iccid, changed_at DESC
            )
        """
        changed = "c.iccid IS NOT NULL"
        message = f"format('{what} changed from %s to %s', coalesce(c.old_value, 'none'),"
        message += " coalesce(c.new_value, 'none'))"
        if blocked:  # 1NCE's v2 reports a blocked SIM in its connectivity, not its status
            changed = f"({changed} OR s.connectivity_status = 'BLOCKED')"
            message = f"CASE WHEN c.iccid IS NULL THEN '1NCE blocks this SIM' ELSE {message} END"
        return Match(
            ctes=ctes,
            joins="LEFT JOIN changed c ON c.iccid = s.iccid",
            condition=changed,
            value="COALESCE(c.new_value, s.connectivity_status)",
            message=message,
        )

    return match


def _sim_removed(params: dict) -> Match:
    return Match(
        condition="s.removed_at IS NOT NULL",
        value="timezone('UTC', s.removed_at)::date",
        message="format('Gone from the 1NCE inventory since %s',"
        " timezone('UTC', s.removed_at)::date)",
    )


SIM_MATCHES: dict[str, Callable[[dict], Match]] = {
    "data_quota_below_percent": _data_quota_below_percent,
    "data_quota_below_mb": _data_quota_below_mb,
    "sms_quota_below_percent": _sms_quota_below_percent,
    "sms_quota_below_count": _sms_quota_below_count,
    "quota_exhausted": _quota_exhausted,
    "data_exhaustion_within_days": _data_exhaustion_within_days,
    "expiry_within_days": _expiry_within_days,
    "usage_anomaly": _usage_anomaly,
    "silent": _silent,
    "status_changed": _changed("status", "Status", blocked=True),
    "imei_changed": _changed("imei", "IMEI", blocked=False),
    "sim_removed": _sim_removed,
}


def _sync_stale(params: dict, as_of: datetime) -> tuple[str, dict]:
    sql = """
        SELECT CAST(NULL AS text) AS iccid,
               COALESCE((floor(extract(epoch FROM CAST(:as_of AS timestamptz) - r.last) / 60)
                         )::int::text, 'never') AS value,
               CASE WHEN r.last IS NULL THEN format('No %s sync has succeeded yet', :p_kind)
                    ELSE format('The last successful %s sync ended %s minutes ago', :p_kind,
                                floor(extract(epoch FROM CAST(:as_of AS timestamptz) - r.last)
                                      / 60)) END AS message
        FROM (SELECT max(finished_at) AS last FROM sync_runs
              WHERE kind = :p_kind AND outcome IN ('success', 'partial')
                AND finished_at <= :as_of) r
        WHERE :interval > 0 AND (r.last IS NULL OR r.last < CAST(:as_of AS timestamptz)
                                 - make_interval(mins => :p_intervals * :interval))
    """
    minutes = interval_minutes(params["kind"])
    return sql, {"p_kind": params["kind"], "p_intervals": params["intervals"], "interval": minutes}


def _once_error_rate(params: dict, as_of: datetime) -> tuple[str, dict]:
    sql = f"""
        SELECT CAST(NULL AS text) AS iccid, round(100.0 * r.errors / r.calls, 1)::text AS value,
               format('%s %% of the sync''s calls to 1NCE failed in the last %s hours'
                      ' (%s of %s)', round(100.0 * r.errors / r.calls, 1), :p_hours,
                      r.errors, r.calls) AS message
        FROM (SELECT sum(errors) AS errors, sum(calls) AS calls FROM sync_runs
              WHERE started_at <= :as_of
                AND started_at > CAST(:as_of AS timestamptz) - make_interval(hours => :p_hours)
             ) r
        WHERE r.calls >= {ERROR_RATE_MIN_CALLS} AND 100.0 * r.errors / r.calls > :p_percent
    """
    return sql, {"p_hours": params["hours"], "p_percent": params["percent"]}


def _api_version_retired(params: dict, as_of: datetime) -> tuple[str, dict]:
    days_left = (V1_RETIREMENT - as_of.astimezone(UTC).date()).days
    fires = current_app.config["ONCE_API_VERSION"] == "v1" and days_left <= params["days"]
    message = (
        f"1NCE retired its API v1 on {V1_RETIREMENT}: set ONCE_API_VERSION=v2"
        if days_left < 0
        else f"1NCE retires its API v1 on {V1_RETIREMENT}: set ONCE_API_VERSION=v2"
    )
    sql = "SELECT CAST(NULL AS text) AS iccid, :value AS value, :message AS message WHERE :fires"
    return sql, {"value": str(days_left), "message": message, "fires": fires}


SYSTEM_SQL: dict[str, Callable[[dict, datetime], tuple[str, dict]]] = {
    "sync_stale": _sync_stale,
    "once_error_rate": _once_error_rate,
    "api_version_retired": _api_version_retired,
}


def end_of_day(day: date) -> datetime:
    """The last moment of a UTC day: a tried day is judged on all of it."""
    return datetime.combine(day, datetime.max.time(), UTC)
