"""The inventory's filters, sorts and keyset pages at the service level."""

from datetime import date

import pytest
import sqlalchemy as sa

from webapp.errors import QueryError
from webapp.extensions import db
from webapp.inventory.services import (
    SORT_KEYS,
    SimCount,
    SimOrder,
    count_sims,
    iter_inventory,
    list_choices,
    list_inventory,
)
from webapp.models import Sim
from webapp.sim_queries import Forecast, SimFilters, forecast_of


def iccids(**args) -> list[str]:
    filters = SimFilters.from_args(args)
    return sorted(s.iccid for s in list_inventory(filters=filters, order=SimOrder()).items)


def all_pages(filters: SimFilters, order: SimOrder, *, limit: int, small: bool) -> list[str]:
    seen, cursor = [], None
    while True:
        page = list_inventory(filters=filters, order=order, limit=limit, cursor=cursor, small=small)
        seen += [sim.iccid for sim in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def expected_order(sims: list[Sim], sort: str, descending: bool) -> list[str]:
    key = SORT_KEYS[sort]
    present = [s for s in sims if key.value_of(s) is not None]
    missing = [s for s in sims if key.value_of(s) is None]
    present.sort(key=lambda s: (key.value_of(s), s.iccid), reverse=descending)
    missing.sort(key=lambda s: s.iccid, reverse=descending)
    return [s.iccid for s in present + missing]


@pytest.mark.parametrize("small", [False, True])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_every_sort_pages_through_every_sim_once_nulls_last(varied_fleet, sort, descending, small):
    order = SimOrder(sort=sort, descending=descending)
    got = all_pages(SimFilters(), order, limit=5, small=small)
    assert got == expected_order(varied_fleet, sort, descending)


def test_pages_stay_stable_while_rows_change(varied_fleet, make_sim):
    order = SimOrder(sort="label")
    first = list_inventory(filters=SimFilters(), order=order, limit=4)
    # A SIM sorting before the cursor appears, one ahead of it changes its label.
    make_sim(iccid="89882280660000000999", label="aaa first")
    ahead = db.session.get(Sim, varied_fleet[5].iccid)
    ahead.label = "pump 9"
    db.session.commit()
    rest = all_pages_from(first.next_cursor, order)
    seen = [s.iccid for s in first.items] + rest
    assert len(seen) == len(set(seen)) == len(varied_fleet)


def all_pages_from(cursor: str, order: SimOrder) -> list[str]:
    seen = []
    while cursor:
        page = list_inventory(filters=SimFilters(), order=order, limit=4, cursor=cursor)
        seen += [sim.iccid for sim in page.items]
        cursor = page.next_cursor
    return seen


@pytest.mark.parametrize(
    ("column", "fragment"),
    [
        ("iccid", "00000006"),
        ("imsi", "0510000000"),
        ("msisdn", "35100"),
        ("imei", "0000000000000"),
        ("ip_address", "10.0.6."),
        ("label", "PUMP 1"),
    ],
)
def test_search_matches_every_identifier_partially(varied_fleet, column, fragment):
    expected = sorted(
        s.iccid for s in varied_fleet if fragment.lower() in (getattr(s, column) or "").lower()
    )
    assert expected
    assert set(expected) <= set(iccids(q=fragment))


def test_search_takes_wildcards_literally(make_sim):
    make_sim(label="50% off")
    make_sim(label="500 off")
    assert len(iccids(q="0%")) == 1


def test_filters(varied_fleet):
    def expect(predicate):
        return sorted(s.iccid for s in varied_fleet if predicate(s))

    assert iccids(status="Disabled") == expect(lambda s: s.status == "Disabled")
    assert iccids(quota_state="low") == expect(lambda s: s.data_quota_state == 1)
    assert iccids(quota_state="exhausted") == expect(lambda s: s.data_quota_state == 2)
    assert iccids(online="false") == expect(lambda s: s.online is False)
    assert iccids(country="Spain") == expect(lambda s: s.country == "Spain")
    assert iccids(operator="Orange") == expect(lambda s: s.operator == "Orange")
    assert iccids(has_label="true") == expect(lambda s: s.label)
    assert iccids(has_label="false") == expect(lambda s: not s.label)
    # Not seen for a day: seen more than 24 hours ago, or never.
    assert iccids(unseen="24h") == expect(
        lambda s: s.last_seen_at is None or varied_fleet.index(s) * 7 > 24
    )
    assert iccids(unseen="2d", online="false", country="Germany") == expect(
        lambda s: (
            (s.last_seen_at is None or varied_fleet.index(s) * 7 > 48)
            and s.online is False
            and s.country == "Germany"
        )
    )


def test_blocked_sims_are_a_network_state(varied_fleet):
    states = ("ONLINE", "ATTACHED", "OFFLINE", "BLOCKED")
    for n, sim in enumerate(varied_fleet):
        sim.connectivity_status = states[n % 4]
    db.session.commit()
    blocked = sorted(s.iccid for s in varied_fleet if s.connectivity_status == "BLOCKED")
    assert blocked and iccids(connectivity="blocked") == blocked
    assert len(iccids(connectivity="attached")) == 3


def test_empty_values_are_no_filter(varied_fleet):
    assert len(iccids(status="", online="", quota_state="", has_label="", unseen="")) == 12


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"unseen": "7w"}, "unseen"),
        ({"has_label": "maybe"}, "has_label"),
        ({"connectivity": "BLOCKED!"}, "connectivity"),
        ({"sort": "password"}, "sort"),
        ({"dir": "up"}, "dir"),
    ],
)
def test_bad_arguments_name_the_parameter(args, field):
    with pytest.raises(QueryError) as raised:
        SimFilters.from_args(args)
        SimOrder.from_args(args)
    assert raised.value.field == field


def test_a_cursor_only_continues_its_own_order(varied_fleet):
    page = list_inventory(filters=SimFilters(), order=SimOrder(sort="label"), limit=3)
    with pytest.raises(QueryError) as raised:
        list_inventory(filters=SimFilters(), order=SimOrder(sort="status"), cursor=page.next_cursor)
    assert raised.value.field == "cursor"


def test_count_is_exact_up_to_the_cap_and_estimated_beyond(varied_fleet, monkeypatch):
    assert count_sims(filters=SimFilters()) == SimCount(12, exact=True)
    assert count_sims(filters=SimFilters(country="Spain")) == SimCount(3, exact=True)
    monkeypatch.setattr("webapp.inventory.services.COUNT_CAP", 5)
    estimated = count_sims(filters=SimFilters())
    assert not estimated.exact and estimated.value > 5


def test_removed_sims_are_not_listed(varied_fleet):
    db.session.execute(
        sa.update(Sim).where(Sim.iccid == varied_fleet[0].iccid).values(removed_at=sa.func.now())
    )
    db.session.commit()
    assert varied_fleet[0].iccid not in iccids()


def test_choices_are_the_distinct_values(varied_fleet):
    assert list_choices(Sim.country) == ["France", "Germany", "Spain"]
    assert list_choices(Sim.operator) == ["Orange", "Telekom"]


def test_forecast_is_the_sooner_of_running_out_and_expiry_and_says_which(varied_fleet):
    first = varied_fleet[0]  # runs out 2027-01-01, expires 2026-12-01
    assert forecast_of(first) == Forecast(date(2026, 12, 1), "expires")
    assert forecast_of(varied_fleet[1]) == Forecast(date(2027, 1, 2), "runs_out")
    assert forecast_of(varied_fleet[3]) is None


def test_iter_inventory_reads_every_row_in_batches(varied_fleet, monkeypatch):
    monkeypatch.setattr("webapp.inventory.services.EXPORT_BATCH", 5)
    rows = list(
        iter_inventory(
            filters=SimFilters(),
            order=SimOrder(sort="avg_7d", descending=True),
            columns=(Sim.iccid, Sim.avg_daily_mb_7d),
        )
    )
    assert [r.iccid for r in rows] == expected_order(varied_fleet, "avg_7d", True)
