"""The inventory as a CSV download: the current view, every row, streamed."""

from datetime import UTC, datetime
from typing import Any

from flask import Response

from webapp.csvexport import stream_csv
from webapp.inventory.services import SimOrder, data_left_percent, iter_inventory
from webapp.models import Sim
from webapp.models.sim import QUOTA_STATES_BY_ID
from webapp.sim_queries import Forecast, SimFilters, forecast_of

COLUMNS = (
    Sim.iccid, Sim.imsi, Sim.msisdn, Sim.imei, Sim.ip_address, Sim.label, Sim.status,
    Sim.online, Sim.operator, Sim.country, Sim.data_quota_state, Sim.data_remaining_mb,
    Sim.data_total_mb, Sim.avg_daily_mb_7d, Sim.avg_daily_mb_30d, Sim.data_exhausted_on,
    Sim.data_unused_at_expiry_mb, Sim.data_expires_at, Sim.last_traffic_on, Sim.last_seen_at,
    Sim.usage_synced_at, Sim.quotas_synced_at,
)  # fmt: skip
HEADER = (
    "iccid", "imsi", "msisdn", "imei", "ip_address", "label", "status", "online", "operator",
    "country", "data_quota_state", "data_left_mb", "data_total_mb", "data_left_percent",
    "avg_daily_mb_7d", "avg_daily_mb_30d", "forecast_ends_on", "forecast_reason",
    "forecast_unused_at_expiry_mb", "data_runs_out_on", "data_expires_at", "last_traffic_on",
    "last_seen_at", "usage_synced_at", "quotas_synced_at",
)  # fmt: skip


def export_inventory(*, filters: SimFilters, order: SimOrder) -> Response:
    """A streamed CSV of every SIM in the view, in the view's order."""
    rows = iter_inventory(filters=filters, order=order, columns=COLUMNS)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return stream_csv(f"simfleet-sims-{stamp}.csv", HEADER, (_cells(row) for row in rows))


def _cells(row: Any) -> tuple:
    return (
        row.iccid, row.imsi, row.msisdn, row.imei, row.ip_address, row.label, row.status,
        _yes_no(row.online), row.operator, row.country,
        _quota_state(row.data_quota_state), row.data_remaining_mb, row.data_total_mb,
        _percent(row), row.avg_daily_mb_7d, row.avg_daily_mb_30d,
        *_forecast(forecast_of(row)), row.data_exhausted_on, _iso(row.data_expires_at),
        row.last_traffic_on, _iso(row.last_seen_at), _iso(row.usage_synced_at),
        _iso(row.quotas_synced_at),
    )  # fmt: skip


def _forecast(forecast: Forecast | None) -> tuple:
    if forecast is None:
        return None, None, None
    return forecast.ends_on, forecast.reason, forecast.unused_mb


def _percent(row: Any) -> int | None:
    return data_left_percent(row.data_remaining_mb, row.data_total_mb)


def _quota_state(state_id: int | None) -> str | None:
    state = None if state_id is None else QUOTA_STATES_BY_ID.get(state_id)
    return state.name if state else None


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None
