"""Queries and 1NCE calls of the SIM detail page: usage ranges, events, live connectivity."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from webapp.chart_ranges import CHART_RANGES, DEFAULT_CHART_RANGE
from webapp.extensions import db
from webapp.models import Sim
from webapp.one_nce import OneNceClient
from webapp.sim_queries import list_sim_usage, parse_date_range
from webapp.sync import services as sync

EVENTS_PAGE = 25


@dataclass(frozen=True)
class UsageRange:
    """The days the chart shows: a named range (7d, 30d, ...) or a custom one (name None)."""

    name: str | None
    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the range spans."""
        return (self.end - self.start).days + 1

    def query(self) -> dict[str, str]:
        """The URL arguments that select this range again."""
        if self.name:
            return {"range": self.name}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_usage_range(args: Mapping[str, str], *, today: date) -> UsageRange:
    """`range=7d|30d|90d|6m`, or `start`/`end` (QueryError when invalid); 30 days by default."""
    name = args.get("range")
    if name in CHART_RANGES:
        return _named_range(name, today)
    if "start" in args or "end" in args:
        start, end = parse_date_range(args, today=today)
        return UsageRange(None, start, end)
    return _named_range(DEFAULT_CHART_RANGE, today)


def _named_range(name: str, today: date) -> UsageRange:
    return UsageRange(name, today - timedelta(days=CHART_RANGES[name].days - 1), today)


def _rounded(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 3)


def get_usage_series(*, iccid: str, usage_range: UsageRange) -> dict:
    """The chart's columns (one value per day, MB as floats for plotting; None for a day with
    no data: never fetched, or pruned) and the totals of the known days."""
    rows = list_sim_usage(iccid=iccid, start=usage_range.start, end=usage_range.end)
    columns: dict[str, list[Any]] = {
        "days": [row.day.isoformat() for row in rows],
        "data_rx_mb": [_rounded(row.data_rx_mb) for row in rows],
        "data_tx_mb": [_rounded(row.data_tx_mb) for row in rows],
        "sms_mo": [row.sms_mo for row in rows],
        "sms_mt": [row.sms_mt for row in rows],
    }
    totals = {
        name: sum(value for value in values if value is not None)
        for name, values in columns.items()
        if name != "days"
    }
    totals["data_rx_mb"] = round(totals["data_rx_mb"], 3)
    totals["data_tx_mb"] = round(totals["data_tx_mb"], 3)
    return {
        "iccid": iccid,
        "start": usage_range.start.isoformat(),
        "end": usage_range.end.isoformat(),
        **columns,
        "totals": totals,
        "known_days": sum(row.sms_mo is not None for row in rows),
    }


@dataclass(frozen=True)
class MonthUsage:
    """A SIM's use in the calendar month (UTC) so far, over the days Simfleet knows.

    `data_mb` and `sms` (MO plus MT) are None when no day of the month is known: a day never
    fetched counts as unknown, never as 0.
    """

    start: date
    end: date
    known_days: int
    data_mb: Decimal | None
    sms: int | None

    @property
    def days(self) -> int:
        """The days of the month so far, today included."""
        return (self.end - self.start).days + 1

    @property
    def unknown_days(self) -> int:
        """The days of the month so far whose usage Simfleet does not have."""
        return self.days - self.known_days


def get_month_usage(*, iccid: str, today: date) -> MonthUsage:
    """Data and SMS used from the first of `today`'s month to `today`, from the stored days."""
    start = today.replace(day=1)
    known = [
        row for row in list_sim_usage(iccid=iccid, start=start, end=today) if row.sms_mo is not None
    ]
    if not known:
        return MonthUsage(start, today, 0, None, None)
    data = sum(
        ((row.data_rx_mb or Decimal(0)) + (row.data_tx_mb or Decimal(0)) for row in known),
        Decimal(0),
    )
    sms = sum((row.sms_mo or 0) + (row.sms_mt or 0) for row in known)
    return MonthUsage(start, today, len(known), data, sms)


def refresh_connectivity(*, sim: Sim, client: OneNceClient) -> Sim:
    """Read the SIM's live connectivity from 1NCE and store it as the sync would.

    The caller commits (with its audit entry).
    """
    sync.refresh_connectivity(client=client, iccid=sim.iccid)
    db.session.refresh(sim)
    return sim
