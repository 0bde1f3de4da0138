"""The v2 client against a local server that answers as the v2 reference describes."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from tests.one_nce.v2_server import (
    CONFLICT_ICCID,
    EMPTY_ICCID,
    EVENTS,
    ICCID,
    ODD_ICCID,
    ONLINE_ICCID,
    SMS,
    UNKNOWN_ICCID,
)
from webapp.one_nce import (
    OneNceClient,
    OneNceMalformedResponse,
    OneNceNotFound,
    OneNceRejected,
    OneNceUnexpectedShape,
    OneNceUnsupported,
    SimUpdate,
)


def records(pages) -> list:
    """Every record of a paged listing."""
    return [record for page in pages for record in page.records]


def test_v2_is_the_default_and_v1_stays_selectable(redis, v2_server):
    def build(**version) -> OneNceClient:
        return OneNceClient(
            base_url=v2_server.url, client_id="c", client_secret="s", redis=redis, **version
        )

    assert (build().api_version, build().has_bulk_calls) == ("v2", False)
    assert build(api_version="v1").has_bulk_calls
    with pytest.raises(ValueError, match="api_version"):
        build(api_version="v3")


def test_sims_page_with_page_size_and_the_paging_headers(v2_api, v2_server):
    pages = list(v2_api.list_sims(page_size=2))
    assert [len(page.records) for page in pages] == [2, 2, 1]
    assert (pages[0].total_pages, pages[0].total_count) == (3, 5)
    hits = v2_server.requests("GET", "/v2/sims")
    assert [hit.args for hit in hits] == [{"page": str(n), "pageSize": "2"} for n in (1, 2, 3)]
    sim = pages[0].records[0]
    assert sim.activation_date == datetime(2018, 3, 9, 7, 59, 9, tzinfo=UTC)
    assert (sim.iccid_with_luhn, sim.quota_status_sms.id) == (ICCID + "4", 1)


def test_an_unknown_iccid_is_not_found_with_the_v2_message(v2_api):
    with pytest.raises(OneNceNotFound, match="NotFound: Element not found") as caught:
        v2_api.get_sim(UNKNOWN_ICCID)
    assert caught.value.endpoint == "GET /v2/sims/{iccid}"
    assert (caught.value.status, caught.value.error_token) == (404, "NotFound")
    with pytest.raises(OneNceNotFound):
        v2_api.get_connectivity(UNKNOWN_ICCID)
    with pytest.raises(OneNceNotFound):
        records(v2_api.list_sms(UNKNOWN_ICCID))


def test_an_empty_200_is_malformed_on_v2_not_an_unknown_sim(v2_api):
    with pytest.raises(OneNceMalformedResponse, match="empty body") as caught:
        v2_api.get_sim(EMPTY_ICCID)
    assert not isinstance(caught.value, OneNceNotFound)


def test_update_sim_sends_only_the_changes(v2_api, v2_server):
    v2_api.update_sim(ICCID, label="north <pump>")
    (hit,) = v2_server.requests("PUT", f"/v2/sims/{ICCID}")
    assert hit.json == {"iccid": ICCID, "label": "north <pump>"}
    assert v2_server.sims[ICCID]["status"] == "Enabled"
    assert v2_api.get_sim(ICCID).label == "north <pump>"


def test_a_conflict_is_rejected_with_its_token_and_message(v2_api):
    with pytest.raises(OneNceRejected, match="referenced by other resources") as caught:
        v2_api.update_sim(CONFLICT_ICCID, status="Disabled")
    assert (caught.value.status, caught.value.error_token) == (409, "Conflict")


def test_update_sims_puts_each_sim_in_order_through_the_pacer(make_client, v2_server):
    api = make_client(v2_server, api_version="v2", max_rps=10.0)
    iccids = [ICCID, ONLINE_ICCID, ODD_ICCID, EMPTY_ICCID, ICCID]
    api.update_sims(SimUpdate(iccid, label=f"bulk {n}") for n, iccid in enumerate(iccids))
    puts = [hit for hit in v2_server.api_hits() if hit.method == "PUT"]
    assert [hit.path.rsplit("/", 1)[-1] for hit in puts] == iccids
    assert not v2_server.requests("POST", "/v2/sims")
    assert v2_server.sims[ICCID]["label"] == "bulk 4"
    stamps = [hit.at for hit in puts]
    # Five calls at 10 per second take four slots of at least 0.1 s (a lower bound only).
    assert stamps[-1] - stamps[0] >= 0.3


def test_update_sims_stops_at_the_first_failure_and_says_how_far_it_got(v2_api, v2_server):
    updates = [SimUpdate(ICCID, label="a"), SimUpdate(CONFLICT_ICCID, label="b")]
    with pytest.raises(OneNceRejected) as caught:
        v2_api.update_sims([*updates, SimUpdate(ONLINE_ICCID, label="c")])
    assert "1 of 3 SIMs were done" in caught.value.__notes__[0]
    assert len([hit for hit in v2_server.api_hits() if hit.method == "PUT"]) == 2


def test_status_of_a_blocked_sim_that_reached_its_limit(v2_api):
    status = v2_api.get_connectivity(ICCID)
    assert (status.status, status.blocked, status.online) == ("BLOCKED", True, False)
    assert status.data_traffic_limit_reached is True and status.session is None
    assert status.last_updated == datetime(2023, 8, 6, 9, 59, 5, tzinfo=UTC)
    assert (status.operator_id, status.operator_name, status.mnc) == (90, "Plus", "01")
    assert (status.country_name, status.country_iso, status.mcc) == ("Poland", "pl", "260")
    assert status.last_updated_gprs is None and status.services == ("GPRS",)


def test_status_of_an_online_sim_takes_its_first_pdp_context(v2_api):
    status = v2_api.get_connectivity(ONLINE_ICCID)
    assert status.online and not status.blocked
    assert status.data_traffic_limit_reached is False
    session = status.session
    assert (session.ue_ip_address, session.rat_type) == ("10.210.176.1", "NB-IoT")
    assert session.created == datetime(2019, 12, 4, 8, 12, 2, tzinfo=UTC)
    assert session.duration is None


def test_an_unknown_status_is_kept(v2_api):
    status = v2_api.get_connectivity(ODD_ICCID)
    assert status.status == "ROAMING_LIMITED" and status.data_traffic_limit_reached is None


def test_quota_state_follows_the_description_not_the_id(v2_api):
    data = v2_api.get_data_quota(ICCID)
    assert (data.id, data.state, data.service) == (17, "ACTIVE", "data")
    assert data.accumulated_total_volume == Decimal("1000") and data.total_volume == Decimal("500")
    assert data.created_at == datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)
    assert data.expiry_date == datetime(2029, 1, 1, tzinfo=UTC)
    assert (data.peak_throughput, data.last_status_change_date) == (None, None)
    sms = v2_api.get_sms_quota(ICCID)
    assert (sms.state, sms.volume) == ("EXHAUSTED", Decimal("-3"))


def test_events_without_paging_headers_end_on_a_short_page(v2_api, v2_server):
    events = records(v2_api.list_events(ICCID, page_size=5))
    assert [event.id for event in events] == [str(item["id"]) for item in EVENTS]
    hits = v2_server.requests("GET", f"/v2/sims/{ICCID}/events")
    assert [hit.args for hit in hits] == [{"page": str(n), "pageSize": "5"} for n in (1, 2, 3)]


def test_events_end_on_an_empty_page_and_send_no_sort(v2_api, v2_server):
    assert len(records(v2_api.list_events(ICCID, page_size=6))) == len(EVENTS)
    hits = v2_server.requests("GET", f"/v2/sims/{ICCID}/events")
    assert [hit.args["page"] for hit in hits] == ["1", "2", "3"]
    assert not any("sort" in hit.args for hit in hits)


def test_events_are_read_in_one_large_page_by_default(v2_api, v2_server):
    assert len(records(v2_api.list_events(ICCID))) == len(EVENTS)
    (hit,) = v2_server.requests("GET", f"/v2/sims/{ICCID}/events")
    assert hit.args == {"page": "1", "pageSize": "1000"}


def test_events_since_are_found_whatever_their_order(v2_api):
    # The server lists oldest first; a v1-style stop at the first older event would miss all.
    since = datetime(2023, 3, 1, 12, 8, 9, tzinfo=UTC)
    events = records(v2_api.list_events(ICCID, since=since, page_size=5))
    assert [event.timestamp.minute for event in events] == [8, 9, 10, 11]
    without = records(v2_api.list_events(ICCID, after_id="9011"))
    assert "9011" not in [event.id for event in without] and len(without) == len(EVENTS) - 1


def test_nested_events_and_their_detail_variants(v2_api):
    events = records(v2_api.list_events(ICCID))
    location, pdp, quota, vpn = events[:4]
    assert (location.id, location.event_type) == ("9000", "Update location")
    assert location.timestamp == datetime(2023, 3, 1, 12, 0, 9, tzinfo=UTC)
    assert (location.iccid, location.imsi) == (ICCID, "901405102306770")
    assert location.imei == "8682390510114404"
    assert (location.country, location.operator) == ("Poland", "Plus")
    assert (location.mcc, location.mnc) == ("260", "01")
    assert location.failure_cause == "RAT_NOT_ALLOWED"
    assert (pdp.failure_cause, pdp.operator) == ("MONTHLY_USAGE_LIMIT_EXCEEDED", "Plus")
    for other in (quota, vpn):
        assert (other.failure_cause, other.country, other.operator) == (None, None, None)
    # v1 sends "Info", v2 "INFO": one spelling for both.
    assert (events[0].severity, events[5].severity) == ("Info", "Warn")


def test_sms_page_with_per_page_and_end_on_a_short_page(v2_api, v2_server):
    messages = records(v2_api.list_sms(ICCID, page_size=10))
    assert len(messages) == len(SMS) == 25
    hits = v2_server.requests("GET", f"/v2/sims/{ICCID}/sms")
    assert [hit.args for hit in hits] == [{"page": str(n), "per_page": "10"} for n in (1, 2, 3)]


def test_sms_fields_and_ids_as_strings(v2_api, v2_server):
    messages = records(v2_api.list_sms(ICCID))
    assert [hit.args for hit in v2_server.requests("GET", f"/v2/sims/{ICCID}/sms")] == [
        {"page": "1", "per_page": "1000"}
    ]
    first = messages[0]
    assert (first.id, first.retry_count, first.msc) == ("7363280", 1, "491770000000")
    assert (first.status, first.status_id, first.sms_type) == ("DELIVERED", 4, "MT")
    assert first.submit_date == datetime(2019, 9, 29, 7, 33, 15, tzinfo=UTC)
    assert messages[3].id == "7363283"
    assert messages[3].expiry_date == datetime(2019, 9, 30, 7, 33, 15, tzinfo=UTC)


def test_send_sms_returns_the_id_of_the_201_body(v2_api, v2_server):
    expiry = datetime(2028, 3, 14, 16, 10, 29, tzinfo=UTC)
    sms_id = v2_api.send_sms(ICCID, payload="ping", source_address_type=161, expiry_date=expiry)
    assert sms_id == "7363305"
    (hit,) = v2_server.requests("POST", f"/v2/sims/{ICCID}/sms")
    assert hit.json == {
        "payload": "ping",
        "source_address_type": {"id": 161},
        "expiry_date": "2028-03-14T16:10:29+00:00",
    }


def test_cancel_sms_returns_the_confirmed_id(v2_api, v2_server):
    assert v2_api.cancel_sms(ICCID, "7363280") == "7363280"
    assert len(v2_server.requests("DELETE", f"/v2/sims/{ICCID}/sms/7363280")) == 1


def test_reset_is_accepted(v2_api, v2_server):
    v2_api.reset_connectivity(ICCID)
    assert len(v2_server.requests("POST", f"/v2/sims/{ICCID}/reset")) == 1


def test_top_up_returns_the_order_number_of_the_location(v2_api):
    assert v2_api.top_up(ICCID, payment_method="monthlyinvoice") == "2000000001"
    with pytest.raises(OneNceNotFound):
        v2_api.top_up(UNKNOWN_ICCID)


def test_top_up_sims_orders_once_per_sim(v2_api, v2_server):
    assert v2_api.top_up_sims([ICCID, ONLINE_ICCID]) == "2000000001, 2000000002"
    posts = [hit for hit in v2_server.api_hits() if hit.method == "POST"]
    assert [hit.path for hit in posts] == [
        f"/management-api/v2/sims/{iccid}/topup" for iccid in (ICCID, ONLINE_ICCID)
    ]
    assert all(hit.args == {"payment_method": "banktransfer"} for hit in posts)


def test_a_failed_top_up_names_the_orders_already_placed(v2_api, v2_server):
    with pytest.raises(OneNceNotFound) as caught:
        v2_api.top_up_sims([ICCID, UNKNOWN_ICCID, ONLINE_ICCID])
    assert "1 of 3 SIMs were done" in caught.value.__notes__[0]
    assert "2000000001" in caught.value.__notes__[0]
    assert len(v2_server.requests("POST", f"/v2/sims/{UNKNOWN_ICCID}/topup")) == 1
    assert not v2_server.requests("POST", f"/v2/sims/{ONLINE_ICCID}/topup")


def test_limits_are_unsupported_without_a_call(v2_api, v2_server):
    with pytest.raises(OneNceUnsupported, match="v2 has no limits"):
        v2_api.get_limits()
    with pytest.raises(OneNceUnsupported):
        v2_api.set_limits(data_limit_id=1, sms_mt_limit_id=1, sms_mo_limit_id=1)
    with pytest.raises(OneNceUnsupported):
        v2_api.list_limit_options("data")
    assert v2_server.hits == []


@pytest.mark.parametrize("shape", ["stats", "array"])
def test_usage_as_the_stats_envelope_or_a_plain_array(v2_api, v2_server, shape):
    v2_server.usage_shape = shape
    days = v2_api.get_usage(ICCID, start=date(2026, 12, 2), end=date(2026, 12, 3))
    assert [day.day for day in days] == [date(2026, 12, 3), date(2026, 12, 2)]
    assert (days[0].data_mb, days[0].sms_mt) == (Decimal("0.014599"), 1)
    (hit,) = v2_server.requests("GET", f"/v2/sims/{ICCID}/usage")
    assert hit.args == {"start_dt": "2026-12-02", "end_dt": "2026-12-03"}


def test_usage_in_another_shape_names_its_keys_and_is_counted(v2_api, v2_server):
    v2_server.usage_shape = "other"
    labels = {"endpoint": "GET /v2/sims/{iccid}/usage"}
    before = REGISTRY.get_sample_value("simfleet_once_unexpected_shapes_total", labels) or 0
    with pytest.raises(OneNceUnexpectedShape) as caught:
        v2_api.get_usage(ICCID)
    assert caught.value.keys == ("sim", "usage")
    assert "GET /v2/sims/{iccid}/usage" in str(caught.value) and "sim, usage" in str(caught.value)
    after = REGISTRY.get_sample_value("simfleet_once_unexpected_shapes_total", labels)
    assert after == before + 1


def test_products_stay_on_v1(v2_api, v2_server):
    assert v2_api.list_products().records[0].id == 1001
    assert len(v2_server.requests("GET", "/v1/products")) == 1
