"""Fleet KPIs for the dashboard and the API: one aggregate query over `sims`, and the rollup."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from webapp.chart_ranges import CHART_RANGES, DEFAULT_CHART_RANGE
from webapp.extensions import db
from webapp.models import FleetUsageDay, Sim, SimEvent, SimUsagePeriod
from webapp.models.sim import QUOTA_STATES

ENDING_WITHIN_DAYS = 30
SILENT_AFTER_DAYS = 3
SUMMARY_MAX_AGE = timedelta(seconds=60)


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
            sa.func.count().filter(Sim.data_quota_state == QUOTA_STATES["low"].id),
            sa.func.count().filter(Sim.data_quota_state == QUOTA_STATES["exhausted"].id),
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


def get_recent_fleet_summary() -> FleetSummary:
    """The fleet summary, computed at most once a minute per process (it reads every SIM).

    The synced copy changes only when a sync commits, every few minutes at best, so a page
    shows figures at most SUMMARY_MAX_AGE older than the database, and says how old.
    """
    cache = current_app.extensions.setdefault("fleet_summary", {})
    now = datetime.now(UTC)
    summary = cache.get("summary")
    if summary is None or now - summary.generated_at > SUMMARY_MAX_AGE:
        summary = cache["summary"] = get_fleet_summary(now=now)
    return summary


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


RANKED = 10
DAILY_TABLE_DAYS = 31  # longer ranges are tabled per week
RECENT_EVENTS = 20
RECENT_ALERTS = 10


def parse_range(value: str | None) -> str:
    """The dashboard range named in the URL, or the default one."""
    return value if value in CHART_RANGES else DEFAULT_CHART_RANGE


def get_usage_chart(*, range_key: str, today: date | None = None) -> dict:
    """The fleet's daily data (rx, tx) and SMS over the range, as uPlot-ready columns."""
    today = today or datetime.now(UTC).date()
    chart_range = CHART_RANGES[range_key]
    rows = list_fleet_usage(start=today - timedelta(days=chart_range.days - 1), end=today)
    return {
        "range": range_key,
        "label": chart_range.label,
        "days": [row.day.isoformat() for row in rows],
        "data_rx_mb": [float(row.data_rx_mb) for row in rows],
        "data_tx_mb": [float(row.data_tx_mb) for row in rows],
        "sms": [int(row.sms_mo + row.sms_mt) for row in rows],
    }


@dataclass(frozen=True)
class UsageRow:
    """One row of the chart's table: a day, or a week (from its Monday) for long ranges."""

    start: date
    data_rx_mb: float
    data_tx_mb: float
    sms: int


def list_usage_rows(*, chart: dict) -> list[UsageRow]:
    """The chart's figures as table rows, newest first: per day up to 30 days, else per week."""
    weekly = len(chart["days"]) > DAILY_TABLE_DAYS
    rows: dict[date, list] = {}
    for day, rx, tx, sms in zip(
        chart["days"], chart["data_rx_mb"], chart["data_tx_mb"], chart["sms"], strict=True
    ):
        start = date.fromisoformat(day)
        if weekly:
            start -= timedelta(days=start.weekday())
        totals = rows.setdefault(start, [0.0, 0.0, 0])
        totals[0] += rx
        totals[1] += tx
        totals[2] += sms
    return [UsageRow(start, *totals) for start, totals in sorted(rows.items(), reverse=True)]


@dataclass(frozen=True)
class RankedSim:
    """A SIM in a top list: its data in the period and in the period before."""

    iccid: str
    label: str | None
    data_mb: Decimal
    previous_data_mb: Decimal
    through: date

    @property
    def change_mb(self) -> Decimal:
        """Data in the period minus the period before."""
        return self.data_mb - self.previous_data_mb


@dataclass(frozen=True)
class Rankings:
    """Top consumers and biggest movers of one period, and the day the figures run to."""

    through: date | None
    top_consumers: list[RankedSim]
    biggest_movers: list[RankedSim]


def _ranked(order: sa.ColumnElement, days: int) -> list[RankedSim]:
    query = (
        sa.select(SimUsagePeriod, Sim.label)
        .join(Sim, Sim.iccid == SimUsagePeriod.iccid)
        .where(SimUsagePeriod.period_days == days)
        .order_by(order, SimUsagePeriod.iccid)
        .limit(RANKED)
    )
    return [
        RankedSim(period.iccid, label, period.data_mb, period.previous_data_mb, period.through)
        for period, label in db.session.execute(query)
    ]


def get_rankings(*, range_key: str) -> Rankings:
    """The SIMs with the most data in the range, and those whose data changed the most."""
    days = CHART_RANGES[range_key].days
    change = sa.func.abs(SimUsagePeriod.data_mb - SimUsagePeriod.previous_data_mb)
    top_consumers = _ranked(SimUsagePeriod.data_mb.desc(), days)
    return Rankings(
        through=max((sim.through for sim in top_consumers), default=None),
        top_consumers=top_consumers,
        biggest_movers=_ranked(change.desc(), days),
    )


def list_recent_events(*, limit: int = RECENT_EVENTS) -> list[SimEvent]:
    """The newest SIM events of the fleet."""
    query = sa.select(SimEvent).order_by(SimEvent.occurred_at.desc()).limit(limit)
    return list(db.session.scalars(query))


def list_recent_alerts(*, limit: int = RECENT_ALERTS) -> list[SimEvent]:
    """The newest events that 1NCE flagged as alerts (a partial index holds just those)."""
    query = (
        sa.select(SimEvent).where(SimEvent.alert).order_by(SimEvent.occurred_at.desc()).limit(limit)
    )
    return list(db.session.scalars(query))
