"""What to fetch next within the call budget: per-SIM calls ordered by value.

Every sync kind gets a share of the rate limit over its interval. Inside that budget SIMs come
in this order: never synced for the kind, changed by the inventory since, near or past their
data quota, online or active recently, then the stalest; disabled SIMs last.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app

from webapp.extensions import db
from webapp.models.sim import QUOTA_STATES

# Share of the 1NCE rate limit each per-SIM kind may use (inventory takes what it needs first).
CALL_SHARES = {"usage": 0.35, "quotas": 0.3, "events": 0.15, "connectivity": 0.2}
# Calls one SIM costs: quotas are two endpoints, events may page.
CALLS_PER_SIM = {"usage": 1, "quotas": 2, "events": 1, "connectivity": 1}
SYNCED_AT = {
    "usage": "usage_synced_at",
    "quotas": "quotas_synced_at",
    "events": "events_synced_at",
    "connectivity": "connectivity_synced_at",
}


def interval_minutes(kind: str) -> int:
    """The configured interval of a sync kind (0: disabled)."""
    return current_app.config[f"SYNC_{kind.upper()}_MINUTES"]


def sim_budget(kind: str) -> int:
    """How many SIMs one run of `kind` may touch within its share of the rate limit."""
    seconds = max(interval_minutes(kind), 1) * 60
    calls = current_app.config["ONCE_MAX_RPS"] * seconds * CALL_SHARES[kind]
    return max(int(calls / CALLS_PER_SIM[kind]), 1)


def plan_sims(*, kind: str, account_id: int, limit: int) -> list[str]:
    """The ICCIDs to refresh for `kind`, most valuable first, at most `limit`."""
    synced_at = SYNCED_AT[kind]
    low = QUOTA_STATES["low"].id  # "exhausted" has the next id: ">= low" takes both
    query = sa.text(
        f"""
        SELECT iccid FROM sims
        WHERE account_id = :account_id AND removed_at IS NULL
        ORDER BY
            CASE
                WHEN {synced_at} IS NULL THEN 0
                WHEN changed_at > {synced_at} THEN 1
                WHEN status = 'Disabled' THEN 5
                WHEN data_quota_state >= {low} OR data_exhausted_on <= current_date + 30 THEN 2
                WHEN online OR last_traffic_on >= current_date - 1
                     OR latest_event_at > now() - interval '1 day' THEN 3
                ELSE 4
            END,
            {synced_at} NULLS FIRST,
            iccid
        LIMIT :limit
        """
    )
    return list(db.session.scalars(query, {"account_id": account_id, "limit": limit}))


def chunked(iccids: Sequence[str], size: int) -> list[list[str]]:
    """Split the plan into chunks, so workers share it and a failure costs one chunk."""
    return [list(iccids[i : i + size]) for i in range(0, len(iccids), size)]
