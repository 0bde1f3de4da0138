"""Fleet KPIs for the dashboard and the API: one aggregate query over `sims`, and the rollup."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import FleetUsageDay, Sim

LOW_STATE, EXHAUSTED_STATE = 1, 2
ENDING_WITHIN_DAYS = 30
SILENT_AFTER_DAYS = 3


@dataclass(frozen=True)
class FleetSummary:
    """The fleet at a glance."""

    total: int
    by_status: dict[str, int]
    online: int
    data_used_today_mb: Decimal
    data_used_this_month_mb: Decimal
    quota_low: int
    quota_exhausted: int
    quota_ending_soon: int
    silent: int
    generated_at: datetime


def get_fleet_summary(*, now: datetime | None = None) -> FleetSummary:
    """Counts by status and quota, online now, data used today and this month, silent SIMs."""
    now = now or datetime.now(UTC)
    today = now.date()
    live = Sim.removed_at.is_(None)
    status = sa.func.coalesce(Sim.status, "Unknown").label("status")
    by_status = dict(
        db.session.execute(
            sa.select(status, sa.func.count()).where(live).group_by(sa.text("status"))
        ).all()
    )
    ending = sa.or_(
        Sim.data_exhausted_on <= today + timedelta(days=ENDING_WITHIN_DAYS),
        Sim.data_expires_at <= now + timedelta(days=ENDING_WITHIN_DAYS),
    )
    counts = db.session.execute(
        sa.select(
            sa.func.count().filter(Sim.online.is_(True)),
            sa.func.count().filter(Sim.data_quota_state == LOW_STATE),
            sa.func.count().filter(Sim.data_quota_state == EXHAUSTED_STATE),
            sa.func.count().filter(ending),
            sa.func.count().filter(
                Sim.status == "Enabled",
                Sim.last_traffic_on <= today - timedelta(days=SILENT_AFTER_DAYS),
            ),
        ).where(live)
    ).one()
    used = sa.func.sum(FleetUsageDay.data_rx_mb + FleetUsageDay.data_tx_mb)
    month_start = today.replace(day=1)
    today_mb, month_mb = db.session.execute(
        sa.select(
            sa.func.coalesce(used.filter(FleetUsageDay.day == today), 0),
            sa.func.coalesce(used, 0),
        ).where(FleetUsageDay.day.between(month_start, today))
    ).one()
    return FleetSummary(
        total=sum(by_status.values()),
        by_status=by_status,
        online=counts[0],
        data_used_today_mb=today_mb,
        data_used_this_month_mb=month_mb,
        quota_low=counts[1],
        quota_exhausted=counts[2],
        quota_ending_soon=counts[3],
        silent=counts[4],
        generated_at=now,
    )


def list_fleet_usage(*, start: date, end: date) -> list[sa.Row]:
    """Fleet totals per day from `start` to `end`, oldest first; days without usage are zeros."""
    days = sa.select(
        sa.func.generate_series(start, end, sa.text("interval '1 day'")).cast(sa.Date).label("day")
    ).subquery()
    totals = (
        sa.select(
            FleetUsageDay.day,
            sa.func.sum(FleetUsageDay.data_rx_mb).label("data_rx_mb"),
            sa.func.sum(FleetUsageDay.data_tx_mb).label("data_tx_mb"),
            sa.func.sum(FleetUsageDay.sms_mo).label("sms_mo"),
            sa.func.sum(FleetUsageDay.sms_mt).label("sms_mt"),
        )
        .where(FleetUsageDay.day.between(start, end))
        .group_by(FleetUsageDay.day)
        .subquery()
    )
    query = (
        sa.select(
            days.c.day,
            sa.func.coalesce(totals.c.data_rx_mb, 0).label("data_rx_mb"),
            sa.func.coalesce(totals.c.data_tx_mb, 0).label("data_tx_mb"),
            sa.func.coalesce(totals.c.sms_mo, 0).label("sms_mo"),
            sa.func.coalesce(totals.c.sms_mt, 0).label("sms_mt"),
        )
        .select_from(days)
        .outerjoin(totals, totals.c.day == days.c.day)
        .order_by(days.c.day)
    )
    return list(db.session.execute(query))
