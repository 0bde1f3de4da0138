"""Every typed endpoint against the simulator over real HTTP."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.helpers import eventually
from tests.one_nce.conftest import RATE
from tests.one_nce.v2_server import UNKNOWN_ICCID
from webapp.one_nce import OneNceNotFound, SimRecord, SimUpdate

FROZEN_NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
# 1NCE applies writes later: the tests poll for them, gently under the simulator's rate.
POLL = 0.1


def test_list_sims_follows_all_pages(api, simulator):
    pages = list(api.list_sims(page_size=7))
    iccids = [sim.iccid for page in pages for sim in page.records]
    assert iccids == simulator.fleet.iccids()
    assert [page.number for page in pages] == list(range(1, 30))
    assert pages[0].total_pages == 29 and pages[0].total_count == 200
    assert not any(page.rejects for page in pages)


def test_list_sims_streams_one_page_at_a_time(api, simulator):
    pages = api.list_sims(page_size=100)
    first = next(pages)
    assert len(first.records) == 100
    assert simulator.stats()["by_endpoint"]["GET /v1/sims"] == 1


def test_get_sim_matches_the_list_and_the_ground_truth(api, simulator):
    listed = next(api.list_sims(page_size=5)).records[3]
    sim = api.get_sim(listed.iccid)
    truth = simulator.fleet.sim(listed.iccid)
    assert isinstance(sim, SimRecord) and sim == listed
    assert (sim.status, sim.label, sim.imei) == (truth.status, truth.label, truth.imei)
    assert sim.activation_date == truth.activation_date


def test_unknown_iccid_is_not_found(api):
    with pytest.raises(OneNceNotFound) as caught:
        api.get_sim(UNKNOWN_ICCID)
    assert caught.value.endpoint == "GET /v1/sims/{iccid}"
    with pytest.raises(OneNceNotFound):
        api.get_data_quota(UNKNOWN_ICCID)


def test_update_sim_is_applied_later(api, simulator):
    iccid = simulator.fleet.iccids()[0]
    label = 'Pump <north> & "east" ü'
    api.update_sim(iccid, label=label, imei_lock=True)
    sim = eventually(
        lambda: api.get_sim(iccid) if api.get_sim(iccid).label == label else None, interval=POLL
    )
    assert sim.imei_lock is True


def test_bulk_update_changes_several_sims(api, simulator):
    first, second = simulator.fleet.iccids()[1:3]
    api.update_sims([SimUpdate(first, status="Disabled"), SimUpdate(second, label="bulk")])
    eventually(lambda: api.get_sim(first).status == "Disabled", interval=POLL)
    eventually(lambda: api.get_sim(second).label == "bulk", interval=POLL)


def test_update_refuses_unknown_status_before_calling(api):
    with pytest.raises(ValueError, match="status"):
        api.update_sim("8988228066602306770", status="Paused")


def test_usage_days_match_the_ground_truth(api, simulator):
    fleet = simulator.fleet
    iccid = fleet.iccids()[5]
    today = fleet.now().date()
    start = today - timedelta(days=9)
    days = api.get_usage(iccid, start=start, end=today)
    truth = {day.day: day for day in fleet.usage(iccid, start, today)}
    assert {day.day for day in days} == set(truth)
    for day in days:
        assert day.data_rx_mb == truth[day.day].data_rx
        assert day.data_tx_mb == truth[day.day].data_tx
        assert day.sms_mo == truth[day.day].sms_mo
        assert isinstance(day.data_mb, Decimal)


def test_usage_without_a_range_is_the_recent_days(api, simulator):
    days = api.get_usage(simulator.fleet.iccids()[0])
    assert 1 <= len(days) <= 14
    assert days == tuple(sorted(days, key=lambda day: day.day, reverse=True))


def test_quotas(api, simulator):
    iccid = simulator.fleet.iccids()[7]
    data = api.get_data_quota(iccid)
    assert data.volume == simulator.fleet.data_quota(iccid).volume
    assert data.expiry_date.tzinfo is not None and data.peak_throughput
    sms = api.get_sms_quota(iccid)
    assert sms.volume == simulator.fleet.sms_quota(iccid).volume
    assert sms.total_volume == Decimal(250)


def test_connectivity(api, simulator):
    iccid = simulator.fleet.iccids()[3]
    status = api.get_connectivity(iccid)
    truth = simulator.fleet.connectivity(iccid)
    assert status.status == truth.status
    assert status.online == (truth.session is not None)
    info = api.get_connectivity_info(iccid)
    assert info.requested_at is not None


def test_events_stop_at_what_the_caller_already_has(make_client, make_simulator):
    # A frozen clock: the event list must not move between the two listings.
    simulator = make_simulator(sims=50, seed=7, rps=RATE, now=lambda: FROZEN_NOW)
    api = make_client(simulator)
    fleet = simulator.fleet
    iccid = max(fleet.iccids(), key=lambda iccid: len(fleet.events(iccid)))
    everything = [event for page in api.list_events(iccid, page_size=3) for event in page.records]
    assert len(everything) == len(fleet.events(iccid)) >= 5
    assert everything == sorted(everything, key=lambda event: event.timestamp, reverse=True)
    known = everything[3].timestamp
    simulator.reset_stats()
    newer = [
        event for page in api.list_events(iccid, since=known, page_size=2) for event in page.records
    ]
    assert newer == [event for event in everything if event.timestamp >= known]
    # Pages [0, 1], [2, 3], then the first older event ends the listing.
    assert simulator.stats()["requests"] == 3


def test_send_and_list_sms(api, simulator):
    iccid = simulator.fleet.iccids()[4]
    sms_id = api.send_sms(iccid, payload="ping")
    assert sms_id and sms_id.isdigit()

    def sent() -> list:
        pages = api.list_sms(iccid)
        return [sms for page in pages for sms in page.records if sms.id == sms_id]

    (sms,) = eventually(sent, interval=POLL)
    assert (sms.payload, sms.sms_type) == ("ping", "MT")


def test_top_up_creates_an_order(api, simulator):
    iccid = simulator.fleet.iccids()[9]
    order_number = api.top_up(iccid)
    assert order_number
    order = eventually(lambda: _find_order(api, order_number), interval=POLL)
    assert order.order_type == "TOPUP" and iccid in order.iccids


def _find_order(api, order_number):
    try:
        return api.get_order(order_number)
    except OneNceNotFound:
        return None


def test_orders_and_products(api):
    orders = [order for page in api.list_orders() for order in page.records]
    assert orders and all(order.order_number for order in orders)
    products = api.list_products()
    assert products.records and not products.rejects


def test_limits_round_trip(api):
    limits = api.get_limits()
    assert limits.data is not None and limits.sms_mt is not None
    options = api.list_limit_options("data")
    assert limits.data in options
    api.set_limits(
        data_limit_id=limits.data.id,
        sms_mt_limit_id=limits.sms_mt.id,
        sms_mo_limit_id=limits.sms_mo.id,
    )


def test_reset_connectivity_is_accepted(api, simulator):
    api.reset_connectivity(simulator.fleet.iccids()[2])


def test_bulk_top_up_places_one_order_for_all_sims(api, simulator):
    iccids = simulator.fleet.iccids()[10:13]
    order_number = api.top_up_sims(iccids, payment_method="monthlyinvoice")
    order = eventually(lambda: _find_order(api, order_number), interval=POLL)
    assert (order.order_type, list(order.iccids)) == ("BULK_TOPUP", iccids)


def test_bulk_top_up_refuses_nothing_and_unknown_iccids(api):
    with pytest.raises(ValueError):
        api.top_up_sims([])
    with pytest.raises(OneNceNotFound):
        api.top_up_sims(["8988228066600000000"])
