"""The account as it is, for benchmarks that compare a copy of it with the original.

`GET /_sim/truth` answers it: each SIM's status and label, its usage over a range of days,
its recent events' ids and times, the fleet's data per day, and the top-ups ordered through
the API per SIM. Computed from the fleet model, so it costs no API call and no rate limit.
"""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from simulator.fleet import Fleet
from simulator.wire import decimal_text

TOPUP_ORDERS = ("TOPUP", "BULK_TOPUP")


def account_truth(fleet: Fleet, *, usage_from: date, usage_through: date) -> dict:
    """Every SIM of the account with its usage from `usage_from` to `usage_through`."""
    sims = {}
    per_day: dict[date, Decimal] = {}
    for iccid in fleet.iccids():
        record = fleet.sim(iccid)
        days = fleet.usage(iccid, usage_from, usage_through) or []
        events = fleet.events(iccid) or []
        if record is None:
            continue  # removed meanwhile
        for day in days:
            per_day[day.day] = per_day.get(day.day, Decimal(0)) + day.data_volume
        sims[iccid] = {
            "status": record.status,
            "label": record.label,
            "data_mb": decimal_text(sum((day.data_volume for day in days), Decimal(0))),
            "sms_mo": sum(day.sms_mo for day in days),
            "sms_mt": sum(day.sms_mt for day in days),
            "events": [[event.id, event.timestamp.isoformat()] for event in events],
        }
    return {
        "sims": sims,
        "fleet_data_mb": {day.isoformat(): decimal_text(mb) for day, mb in sorted(per_day.items())},
        "topups": topups_per_sim(fleet),
    }


def topups_per_sim(fleet: Fleet) -> dict[str, int]:
    """How many top-ups were ordered through the API for each SIM (single and bulk orders)."""
    ordered = Counter(
        iccid
        for order in fleet.orders(include_sims=False)
        if order.order_type in TOPUP_ORDERS
        for iccid in order.iccids
    )
    return dict(ordered)


def default_range(fleet: Fleet) -> tuple[date, date]:
    """The last 183 days up to yesterday: what 1NCE keeps, less today, which still grows."""
    today = fleet.now().date()
    return today - timedelta(days=182), today - timedelta(days=1)
