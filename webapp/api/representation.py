"""The JSON shapes of the API. Field names are a contract: add fields, never rename them.

MB values are JSON numbers with at most 6 decimals (the database keeps exact NUMERIC(18, 6));
times are ISO 8601 in UTC (`+00:00`); dates are YYYY-MM-DD.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from webapp.fleet.services import FleetSummary
from webapp.models import Sim, SimEvent
from webapp.sims.services import QUOTA_STATE_NAMES


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


def _object(**fields) -> sa.ColumnElement:
    """A JSON object built by PostgreSQL (keys inlined, so the statement has no parameters).

    PostgreSQL writes timestamps as ISO 8601 in the session's time zone, which Simfleet's
    connections set to UTC, exactly as `moment()` does, and dates as YYYY-MM-DD.
    """
    parts = []
    for key, value in fields.items():
        parts += [sa.literal_column(f"'{key}'"), value]
    return sa.func.json_build_object(*parts)


def _mb(column) -> sa.ColumnElement:
    """MB as a JSON number without trailing zeros (the column keeps 6 decimals)."""
    return sa.func.trim_scale(column)


def _quota_state(column) -> sa.ColumnElement:
    return sa.case(QUOTA_STATE_NAMES, value=column)


def _fixed_sql(expression: sa.ColumnElement) -> sa.ColumnElement:
    # Rendered once as SQL text: statements using it build their cache keys without walking
    # the expression's ~70 nodes on every request. It names `sims` columns, so it fits
    # statements over the `sims` table itself, not over an alias.
    compiled = expression.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return sa.literal_column(str(compiled), expression.type)


# A SIM as the API shows it, rendered by PostgreSQL: a page of 100 SIMs costs one query and
# no Python object per row, which keeps list pages nearly as cheap as a trivial request.
SIM_JSON = _fixed_sql(
    sa.cast(
        _object(
            iccid=Sim.iccid,
            imsi=Sim.imsi,
            msisdn=Sim.msisdn,
            imei=sa.func.nullif(Sim.imei, ""),
            imei_lock=Sim.imei_lock,
            status=Sim.status,
            label=sa.func.nullif(Sim.label, ""),
            ip_address=Sim.ip_address,
            activation_date=Sim.activation_date,
            data_quota=_object(
                remaining_mb=_mb(Sim.data_remaining_mb),
                total_mb=_mb(Sim.data_total_mb),
                expiry_date=Sim.data_expires_at,
                state=_quota_state(Sim.data_quota_state),
            ),
            sms_quota=_object(
                remaining=Sim.sms_remaining,
                total=Sim.sms_total,
                expiry_date=Sim.sms_expires_at,
                state=_quota_state(Sim.sms_quota_state),
            ),
            connectivity=_object(
                status=Sim.connectivity_status,
                online=Sim.online,
                last_seen_at=Sim.last_seen_at,
                operator=Sim.operator,
                country=Sim.country,
                rat=Sim.rat,
            ),
            forecast=_object(
                data_exhausted_on=Sim.data_exhausted_on,
                avg_daily_mb_7d=_mb(Sim.avg_daily_mb_7d),
                avg_daily_mb_30d=_mb(Sim.avg_daily_mb_30d),
                last_traffic_on=Sim.last_traffic_on,
            ),
            synced_at=_object(
                inventory=Sim.inventory_synced_at,
                usage=Sim.usage_synced_at,
                quotas=Sim.quotas_synced_at,
                events=Sim.events_synced_at,
                connectivity=Sim.connectivity_synced_at,
            ),
            removed_at=Sim.removed_at,
        ),
        sa.Text,
    )
)
# One SIM by ICCID: built once, so even its cache key is computed only once per process.
SIM_BY_ICCID = sa.select(SIM_JSON).select_from(Sim).where(Sim.iccid == sa.bindparam("iccid"))


def usage_json(row) -> dict:
    """One day of usage (a SIM's or the fleet's)."""
    return {
        "date": day(row.day),
        "data_rx_mb": mb(row.data_rx_mb),
        "data_tx_mb": mb(row.data_tx_mb),
        "data_total_mb": mb(row.data_rx_mb + row.data_tx_mb),
        "sms_mo": int(row.sms_mo),
        "sms_mt": int(row.sms_mt),
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
