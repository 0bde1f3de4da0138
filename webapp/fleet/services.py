"""Fleet KPIs for the dashboard and the API: one aggregate query over `sims`, and the rollup."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from flask import current_app

from webapp.chart_ranges import CHART_RANGES, DEFAULT_CHART_RANGE
from webapp.extensions import db
from webapp.models import FleetUsageDay, Sim, SimEvent, SimUsagePeriod
from webapp.sim_queries import DailyUsage, SimFilters, day_series, known_usage

ENDING_WITHIN_DAYS = 30
SILENT_AFTER_DAYS = 3
SUMMARY_MAX_AGE = timedelta(seconds=60)
# Each SIM count of the dashboard is exactly the SIMs of one inventory view: the count and the
# view's list share the filter's definition (webapp/sim_queries.py).
FIGURE_VIEWS = {
    "online": SimFilters(online=True),
    "quota_low": SimFilters(quota_state="low"),
    "quota_exhausted": SimFilters(quota_state="exhausted"),
    "quota_ending_soon": SimFilters(quota_ends=f"{ENDING_WITHIN_DAYS}d"),
    "silent": SimFilters(silent=f"{SILENT_AFTER_DAYS}d"),
}


@dataclass(frozen=True)
class FleetSummary:
    """The fleet at a glance; a figure is None while the kind it comes from never synced."""

    total: int
    by_status: dict[str, int]
    online: int | None
    data_used_today_mb: Decimal | None
    data_used_this_month_mb: Decimal | None
    quota_low: int
    quota_exhausted: int
    quota_ending_soon: int | None
    silent: int | None
    generated_at: datetime
    views: ClassVar[dict[str, SimFilters]] = FIGURE_VIEWS


def _count(view: SimFilters) -> sa.ColumnElement[int]:
    return sa.func.count().filter(sa.and_(*view.conditions()))


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
    counts = db.session.execute(
        sa.select(
            *(_count(view).label(name) for name, view in FIGURE_VIEWS.items()),
            # count(column) counts the SIMs that kind of sync has reached.
            sa.func.count(Sim.connectivity_synced_at).label("connectivity_synced"),
            sa.func.count(Sim.usage_synced_at).label("usage_synced"),
            sa.func.count(Sim.quotas_synced_at).label("quotas_synced"),
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
    usage_synced = bool(counts.usage_synced)
    return FleetSummary(
        total=sum(by_status.values()),
        by_status=by_status,
        online=counts.online if counts.connectivity_synced else None,
        data_used_today_mb=today_mb if usage_synced else None,
        data_used_this_month_mb=month_mb if usage_synced else None,
        quota_low=counts.quota_low,
        quota_exhausted=counts.quota_exhausted,
        quota_ending_soon=counts.quota_ending_soon if counts.quotas_synced else None,
        silent=counts.silent if usage_synced else None,
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


def count_figure_view(filters: SimFilters) -> int | None:
    """The count of the dashboard figure whose view `filters` are (the whole fleet, a status,
    or one of FIGURE_VIEWS), from the summary the dashboard shows; None for any other view.

    The view then says the figure's number, exactly and without a scan of its own (the
    summary is counted at most once a minute per process).
    """
    summary = get_recent_fleet_summary()
    if filters == SimFilters():
        return summary.total
    # "Unknown" is the summary's name for SIMs without a status, not a status to filter on.
    if filters.status not in (None, "Unknown") and filters == SimFilters(status=filters.status):
        return summary.by_status.get(filters.status, 0)
    for name, view in FIGURE_VIEWS.items():
        if filters == view:
            return getattr(summary, name)
    return None


@dataclass(frozen=True)
class UsageCoverage:
    """The days whose fleet usage is known: from the first day any SIM's usage is kept to the
    last day synced. Each day adds up the SIMs whose usage is kept for it."""

    known_from: date | None
    known_through: date | None


def get_fleet_usage_coverage() -> UsageCoverage:
    """The fleet's known usage days, from two index probes of `sims`."""
    known_from = db.session.scalar(sa.select(sa.func.min(Sim.usage_synced_from)))
    # The SIM synced last has synced furthest (both are set together, from the same clock):
    # the usage_synced_at index finds it without reading every SIM.
    known_through = db.session.scalar(
        sa.select(Sim.usage_synced_through)
        .where(Sim.usage_synced_at.is_not(None))
        .order_by(Sim.usage_synced_at.desc())
        .limit(1)
    )
    return UsageCoverage(known_from, known_through)


def list_fleet_usage(
    *, start: date, end: date, coverage: UsageCoverage | None = None
) -> list[DailyUsage]:
    """Fleet totals per day from `start` to `end`, oldest first: zeros for known days without
    usage, None for days no SIM's usage is kept for (never fetched, or pruned)."""
    days = day_series(start, end)
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
            days.c.day, totals.c.data_rx_mb, totals.c.data_tx_mb, totals.c.sms_mo, totals.c.sms_mt
        )
        .select_from(days)
        .outerjoin(totals, totals.c.day == days.c.day)
        .order_by(days.c.day)
    )
    coverage = coverage or get_fleet_usage_coverage()
    return known_usage(
        db.session.execute(query),
        known_from=coverage.known_from,
        known_through=coverage.known_through,
    )


RANKED = 10
DAILY_TABLE_DAYS = 31  # longer ranges are tabled per week
RECENT_EVENTS = 20
RECENT_ALERTS = 10


def parse_range(value: str | None) -> str:
    """The dashboard range named in the URL, or the default one."""
    return value if value in CHART_RANGES else DEFAULT_CHART_RANGE


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def get_usage_chart(*, range_key: str, today: date | None = None) -> dict:
    """The fleet's daily data (rx, tx) and SMS over the range, as uPlot-ready columns; a day
    with no data is None (a gap), and `known_from`/`known_through` say which days are known."""
    today = today or datetime.now(UTC).date()
    chart_range = CHART_RANGES[range_key]
    coverage = get_fleet_usage_coverage()
    start = today - timedelta(days=chart_range.days - 1)
    rows = list_fleet_usage(start=start, end=today, coverage=coverage)
    return {
        "range": range_key,
        "label": chart_range.label,
        "days": [row.day.isoformat() for row in rows],
        "data_rx_mb": [_float(row.data_rx_mb) for row in rows],
        "data_tx_mb": [_float(row.data_tx_mb) for row in rows],
        "sms": [None if row.sms_mo is None else row.sms_mo + (row.sms_mt or 0) for row in rows],
        "known_from": coverage.known_from.isoformat() if coverage.known_from else None,
        "known_through": coverage.known_through.isoformat() if coverage.known_through else None,
    }


@dataclass(frozen=True)
class UsageRow:
    """One row of the chart's table: a day, or a week (from its Monday) for long ranges.

    The figures add up the row's known days; all None when none of its days is known.
    """

    start: date
    data_rx_mb: float | None
    data_tx_mb: float | None
    sms: int | None
    days: int
    known_days: int


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
        totals = rows.setdefault(start, [0.0, 0.0, 0, 0, 0])
        totals[3] += 1
        if rx is not None:
            totals[0] += rx
            totals[1] += tx
            totals[2] += sms
            totals[4] += 1
    return [
        UsageRow(start, rx, tx, sms, days, known)
        if known
        else UsageRow(start, None, None, None, days, known)
        for start, (rx, tx, sms, days, known) in sorted(rows.items(), reverse=True)
    ]


@dataclass(frozen=True)
class RankedSim:
    """A SIM in a top list: its data in the period and in the period before."""

    iccid: str
    label: str | None
    data_mb: Decimal
    previous_data_mb: Decimal | None  # None: the period before was not kept
    through: date

    @property
    def change_mb(self) -> Decimal | None:
        """Data in the period minus the period before (None when that was not kept)."""
        return None if self.previous_data_mb is None else self.data_mb - self.previous_data_mb


@dataclass(frozen=True)
class Rankings:
    """Top consumers and biggest movers of one period, and the day the figures run to."""

    through: date | None
    top_consumers: list[RankedSim]
    biggest_movers: list[RankedSim]
    # The first day the period before needs: movers compare only SIMs kept since then.
    previous_from: date | None = None


def _ranked(order: sa.ColumnElement, days: int, *where: sa.ColumnElement) -> list[RankedSim]:
    query = (
        sa.select(SimUsagePeriod, Sim.label)
        .join(Sim, Sim.iccid == SimUsagePeriod.iccid)
        .where(SimUsagePeriod.period_days == days, *where)
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
    through = max((sim.through for sim in top_consumers), default=None)
    # SIMs whose period before was not wholly kept have no change (the partial index skips them).
    kept_before = SimUsagePeriod.previous_data_mb.is_not(None)
    return Rankings(
        through=through,
        top_consumers=top_consumers,
        biggest_movers=_ranked(change.desc(), days, kept_before),
        previous_from=through - timedelta(days=2 * days - 1) if through else None,
    )


def list_recent_events(*, limit: int = RECENT_EVENTS) -> list[SimEvent]:
    """The newest SIM events of the fleet."""
    query = sa.select(SimEvent).order_by(SimEvent.occurred_at.desc()).limit(limit)
    return list(db.session.scalars(query))


def list_recent_alerts(*, limit: int = RECENT_ALERTS) -> list[SimEvent]:
    """The newest events that 1NCE flagged as alerts (a partial index holds just those)."""
    query = (
        sa.select(SimEvent)
        # A nullable column types as `bool | None`; WHERE alert is what the partial index has.
        .where(SimEvent.alert)  # type: ignore[arg-type]
        .order_by(SimEvent.occurred_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
