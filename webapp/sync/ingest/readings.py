"""Readings of a SIM's state as 1NCE reports it now: quotas (with a sample when they change),
events and connectivity."""

import json
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models.base import utcnow
from webapp.one_nce import Connectivity, Event, Quota
from webapp.sync.ingest.copying import copy_rows, temp_table
from webapp.sync.ingest.usage import refresh_forecast

# An event's identity: 1NCE's id on v2; on v1, whose events have none, the whole record, so
# two events that differ in any field (two location updates in one second) are two rows.
# Migration f1a2b3c4d5e6 keyed the events stored before it with the same expression.
EVENT_KEY = """
    COALESCE('id:' || (details->>'id'),
             'md5:' || md5(jsonb_build_array(event_type, severity, alert, country, operator,
                                             details)::text))
"""


def record_quotas(*, quotas: Sequence[tuple[str, Quota | None, Quota | None]]) -> int:
    """Store the latest data and SMS quotas of SIMs, and a sample of each one that changed."""
    if not quotas:
        return 0
    now = utcnow()
    temp_table(
        "incoming_quotas",
        "iccid text, data_remaining numeric, data_total numeric, data_expires timestamptz,"
        " data_lifetime numeric, sms_remaining numeric, sms_total numeric,"
        " sms_expires timestamptz",
    )
    copy_rows(
        "incoming_quotas",
        ("iccid", "data_remaining", "data_total", "data_expires", "data_lifetime",
         "sms_remaining", "sms_total", "sms_expires"),
        (
            (iccid, *_quota_values(data), data and data.accumulated_total_volume,
             *_quota_values(sms))
            for iccid, data, sms in quotas
        ),
    )  # fmt: skip
    samples = db.session.execute(
        sa.text(
            """
            INSERT INTO quota_samples (iccid, kind, sampled_at, remaining, total, expires_at)
            SELECT i.iccid, q.kind, :now, q.remaining, q.total, q.expires
            FROM incoming_quotas i JOIN sims s USING (iccid)
            CROSS JOIN LATERAL (VALUES
                ('data', i.data_remaining, i.data_total, i.data_expires,
                 s.data_remaining_mb, s.data_total_mb, s.data_expires_at),
                ('sms', i.sms_remaining, i.sms_total, i.sms_expires,
                 s.sms_remaining::numeric, s.sms_total::numeric, s.sms_expires_at)
            ) AS q(kind, remaining, total, expires, old_remaining, old_total, old_expires)
            WHERE q.remaining IS NOT NULL
              AND (q.remaining, q.total, q.expires) IS DISTINCT FROM
                  (q.old_remaining, q.old_total, q.old_expires)
            ON CONFLICT DO NOTHING
            """
        ),
        {"now": now},
    ).rowcount
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET
                data_remaining_mb = COALESCE(i.data_remaining, s.data_remaining_mb),
                data_total_mb = COALESCE(i.data_total, s.data_total_mb),
                data_expires_at = COALESCE(i.data_expires, s.data_expires_at),
                data_lifetime_mb = COALESCE(i.data_lifetime, s.data_lifetime_mb),
                sms_remaining = COALESCE(i.sms_remaining::int, s.sms_remaining),
                sms_total = COALESCE(i.sms_total::int, s.sms_total),
                sms_expires_at = COALESCE(i.sms_expires, s.sms_expires_at),
                quotas_synced_at = :now
            FROM incoming_quotas i WHERE s.iccid = i.iccid
            """
        ),
        {"now": now},
    )
    refresh_forecast(iccids=[iccid for iccid, _, _ in quotas])
    return samples


def _quota_values(quota: Quota | None) -> tuple:
    if quota is None:
        return (None, None, None)
    return (quota.volume, quota.total_volume, quota.expiry_date)


def insert_events(*, events: Sequence[tuple[str, Event]]) -> int:
    """Insert new events; events already stored (the same EVENT_KEY) are skipped."""
    temp_table(
        "incoming_events",
        "iccid text, occurred_at timestamptz, event_type text, severity text, alert bool,"
        " country text, operator text, details jsonb",
    )
    copy_rows(
        "incoming_events",
        ("iccid", "occurred_at", "event_type", "severity", "alert", "country", "operator",
         "details"),
        ((iccid, e.timestamp, e.event_type[:200], e.severity, e.alert, e.country, e.operator,
          _event_details(e)) for iccid, e in events),
    )  # fmt: skip
    inserted = db.session.execute(
        sa.text(
            f"""
            INSERT INTO sim_events (iccid, occurred_at, event_key, event_type, severity, alert,
                                    country, operator, details)
            SELECT DISTINCT ON (iccid, occurred_at, event_key) *
            FROM (SELECT iccid, occurred_at, {EVENT_KEY} AS event_key, event_type, severity,
                         alert, country, operator, details
                  FROM incoming_events) keyed
            ON CONFLICT DO NOTHING
            """
        )
    ).rowcount
    return inserted


def _event_details(event: Event) -> str:
    fields = {
        "id": event.id, "description": event.description, "imsi": event.imsi,
        "imei": event.imei, "mcc": event.mcc, "mnc": event.mnc,
        "failure_cause": event.failure_cause,
    }  # fmt: skip
    return json.dumps({k: v for k, v in fields.items() if v is not None})


def mark_events_synced(*, iccids: Sequence[str]) -> None:
    """Note that the SIMs' events are synced, and the time of each one's newest event."""
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET events_synced_at = :now,
                latest_event_at = GREATEST(s.latest_event_at, (
                    SELECT MAX(occurred_at) FROM sim_events e
                    WHERE e.iccid = s.iccid
                      AND e.occurred_at >= COALESCE(s.latest_event_at, '-infinity')))
            WHERE s.iccid = ANY(:iccids)
            """
        ),
        {"now": utcnow(), "iccids": list(iccids)},
    )


def record_connectivity(*, states: Sequence[tuple[str, Connectivity]]) -> None:
    """Store the latest connectivity of SIMs."""
    now = utcnow()
    temp_table(
        "incoming_connectivity",
        "iccid text, status text, online bool, last_seen_at timestamptz, operator text,"
        " country text, rat text, limit_reached bool",
    )
    copy_rows(
        "incoming_connectivity",
        ("iccid", "status", "online", "last_seen_at", "operator", "country", "rat",
         "limit_reached"),
        (
            (iccid, c.status, c.online, _last_seen(c), c.operator_name, c.country_name,
             c.session.rat_type if c.session else None, c.data_traffic_limit_reached)
            for iccid, c in states
        ),
    )  # fmt: skip
    db.session.execute(
        sa.text(
            """
            UPDATE sims s SET
                connectivity_status = i.status, online = i.online,
                last_seen_at = GREATEST(s.last_seen_at, i.last_seen_at),
                operator = COALESCE(i.operator, s.operator),
                country = COALESCE(i.country, s.country),
                rat = i.rat, data_limit_reached = i.limit_reached,
                connectivity_synced_at = :now
            FROM incoming_connectivity i WHERE s.iccid = i.iccid
            """
        ),
        {"now": now},
    )


def _last_seen(connectivity: Connectivity) -> datetime | None:
    seen = [t for t in (connectivity.last_updated, connectivity.last_updated_gprs) if t]
    return max(seen) if seen else None
