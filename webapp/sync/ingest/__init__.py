"""Set-based writes of what the sync fetched: COPY into a temporary table, then one
statement per batch (`INSERT ... ON CONFLICT`, or for usage insert, update and rollup in one;
a batch of new usage rows is copied straight in). Never a loop of ORM objects.

Only the sync (and the benchmarks and dev tools that stand in for it) writes through here;
features read what it wrote, and ask `webapp.sync.services` when they need a fresh reading.
"""

from webapp.sync.ingest.copying import copy_rows
from webapp.sync.ingest.inventory import mark_removed, upsert_sims
from webapp.sync.ingest.readings import (
    insert_events,
    mark_events_synced,
    record_connectivity,
    record_quotas,
)
from webapp.sync.ingest.usage import (
    refresh_forecast,
    refresh_usage_figures,
    refresh_usage_periods,
    upsert_usage,
)

__all__ = [
    "copy_rows",
    "insert_events",
    "mark_events_synced",
    "mark_removed",
    "record_connectivity",
    "record_quotas",
    "refresh_forecast",
    "refresh_usage_figures",
    "refresh_usage_periods",
    "upsert_sims",
    "upsert_usage",
]
