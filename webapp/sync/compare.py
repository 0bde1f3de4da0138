"""Reading the same SIMs through 1NCE's API v1 and v2 side by side, before v1 is switched off.

Each reading is normalised by the client's records (one parser for both versions), so what
remains is what the two versions really report differently. Differences that v2 makes by
design (BLOCKED, which v1 shows as OFFLINE; a negative remaining volume, which v1 shows as
0) are notes, not failures. Values that move while the two reads run (today's usage, the
newest events, the location's time) are left out.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from operator import attrgetter
from typing import Any

from webapp.one_nce import OneNceClient, OneNceNotFound

USAGE_DAYS = 7
# Events newer than this may still be on their way to one version; older than a day, paging.
EVENT_WINDOW = (timedelta(hours=25), timedelta(hours=1))


@dataclass(frozen=True)
class Difference:
    """One field of one SIM on which v1 and v2 disagree; `expected` when v2 does so by design."""

    iccid: str
    field: str
    v1: Any
    v2: Any
    expected: bool = False


# v2's event types that stand for several of v1's (the specific text is the description).
V2_GENERIC_EVENT_TYPES = frozenset({"Quota and limit notification", "SIM status changed"})


def compare_versions(*, v1: OneNceClient, v2: OneNceClient, sims: int) -> Iterator[Difference]:
    """Compare the first `sims` SIMs of v2's inventory as both versions report them."""
    for sim in islice((s for page in v2.list_sims() for s in page.records), sims):
        yield from _compare_sim(v1, v2, sim.iccid)


def _compare_sim(v1: OneNceClient, v2: OneNceClient, iccid: str) -> Iterator[Difference]:
    try:
        v1.get_sim(iccid)
    except OneNceNotFound:
        # SIMs shipped since 2026-10-01 may be on Platform 2.0 only, out of v1's sight.
        yield Difference(iccid, "sim", "not found", "present")
        return
    for name, read, fields in READINGS:
        old, new = read(v1, iccid), read(v2, iccid)
        for field, value in fields.items():
            yield from _differ(iccid, f"{name}.{field}", value(old), value(new))


def _differ(iccid: str, field: str, old: Any, new: Any) -> Iterator[Difference]:
    """The differences between two values; dicts (days, event times) key by key."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            yield from _differ(iccid, f"{field}[{key}]", old.get(key), new.get(key))
        return
    yield Difference(iccid, field, old, new, expected=_by_design(field, old, new))


def _by_design(field: str, old: Any, new: Any) -> bool:
    """v2 reports BLOCKED where v1 has no such state, lets a quota go below zero, and files
    quota notices and status changes under one generic event type each."""
    if field == "connectivity.status":
        return (old, new) == ("OFFLINE", "BLOCKED")
    if field.startswith("events.types[") and old and new:
        only_v1, only_v2 = Counter(old) - Counter(new), Counter(new) - Counter(old)
        return only_v1.total() == only_v2.total() and set(only_v2) <= V2_GENERIC_EVENT_TYPES
    if field.endswith(".volume") and isinstance(new, Decimal):
        return new < 0 and old == 0
    return False


def _usage(client: OneNceClient, iccid: str) -> dict:
    """The SIM's usage of the last days before today (today's still grows), by day."""
    today = datetime.now(UTC).date()
    days = client.get_usage(iccid, start=today - timedelta(days=USAGE_DAYS), end=today)
    return {day.day.isoformat(): day for day in days if day.day < today}


def _events(client: OneNceClient, iccid: str) -> dict[str, list[str]]:
    """The types of the SIM's settled events of the last day, by time."""
    now = datetime.now(UTC)
    oldest, newest = now - EVENT_WINDOW[0], now - EVENT_WINDOW[1]
    by_time: dict[str, list[str]] = {}
    for page in client.list_events(iccid, since=oldest):
        for event in page.records:
            if oldest <= event.timestamp < newest:
                by_time.setdefault(event.timestamp.isoformat(), []).append(event.event_type)
    return {moment: sorted(types) for moment, types in by_time.items()}


def _fields(*names: str) -> dict[str, Callable[[Any], Any]]:
    return {name: attrgetter(name) for name in names}


SIM_FIELDS = (
    "status", "label", "imsi", "msisdn", "imei", "imei_lock", "ip_address", "activation_date",
    "current_quota", "current_quota_sms",
)  # fmt: skip

# What is compared: a reading of each version, and the fields taken from it.
READINGS: tuple[tuple[str, Callable[[OneNceClient, str], Any], dict], ...] = (
    (
        "sim",
        OneNceClient.get_sim,
        _fields(*SIM_FIELDS)
        | {"quota_status": lambda sim: sim.quota_status and sim.quota_status.id},
    ),
    (
        "connectivity",
        OneNceClient.get_connectivity,
        _fields("status", "operator_name", "country_name"),
    ),
    ("data_quota", OneNceClient.get_data_quota, _fields("volume", "total_volume", "expiry_date")),
    ("sms_quota", OneNceClient.get_sms_quota, _fields("volume", "total_volume", "expiry_date")),
    (
        "usage",
        _usage,
        {
            "data_mb": lambda days: {d: u.data_mb for d, u in days.items()},
            "sms": lambda days: {d: u.sms for d, u in days.items()},
        },
    ),
    ("events", _events, {"types": lambda events: events}),
)
