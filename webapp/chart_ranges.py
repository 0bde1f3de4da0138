"""The usage charts' range buttons, one set for the dashboard and the SIM page."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartRange:
    """A range button: the last `days` days up to today."""

    days: int
    label: str


# By URL value. The sync keeps a per-SIM rollup of each (webapp/sync/ingest/usage.py) for the
# dashboard's rankings, so "6 months" is the 180 days those rollups sum.
CHART_RANGES = {
    "7d": ChartRange(7, "7 days"),
    "30d": ChartRange(30, "30 days"),
    "90d": ChartRange(90, "90 days"),
    "6m": ChartRange(180, "6 months"),
}
DEFAULT_CHART_RANGE = "30d"
