"""The JSON shapes of the API. Field names are a contract: add fields, never rename them.

MB values are JSON numbers with at most 6 decimals (the database keeps exact NUMERIC(18, 6));
times are ISO 8601 in UTC (`+00:00`); dates are YYYY-MM-DD.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from webapp.fleet.services import FleetSummary
from webapp.models import SimEvent


def mb(value: Decimal | None) -> float | None:
    """MB as a JSON number, rounded to 6 decimals."""
    return None if value is None else float(round(value, 6))


def moment(value: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp, written as PostgreSQL writes it in JSON."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()


def day(value: date | None) -> str | None:
    """An ISO date."""
    return None if value is None else value.isoformat()


# A SIM's JSON is built by PostgreSQL when the SIM is written: see webapp/api/reads.py.


def usage_json(row: Any) -> dict:
    """One day of usage (a SIM's or the fleet's); every figure null on a day with no data."""
    known = row.sms_mo is not None
    return {
        "date": day(row.day),
        "data_rx_mb": mb(row.data_rx_mb),
        "data_tx_mb": mb(row.data_tx_mb),
        "data_total_mb": mb(row.data_rx_mb + row.data_tx_mb) if known else None,
        "sms_mo": int(row.sms_mo) if known else None,
        "sms_mt": int(row.sms_mt) if known else None,
    }


def event_json(event: SimEvent) -> dict:
    """A SIM event."""
    return {
        "timestamp": moment(event.occurred_at),
        "event_type": event.event_type,
        "severity": event.severity,
        "alert": event.alert,
        "country": event.country,
        "operator": event.operator,
        "details": event.details or {},
    }


def summary_json(summary: FleetSummary) -> dict:
    """The fleet KPIs."""
    return {
        "total_sims": summary.total,
        "sims_by_status": summary.by_status,
        "online_now": summary.online,
        "data_used_today_mb": mb(summary.data_used_today_mb),
        "data_used_this_month_mb": mb(summary.data_used_this_month_mb),
        "sims_quota_low": summary.quota_low,
        "sims_quota_exhausted": summary.quota_exhausted,
        "sims_quota_ending_30d": summary.quota_ending_soon,
        "sims_silent": summary.silent,
        "generated_at": moment(summary.generated_at),
    }
