"""Parsing of the real 1NCE wire format, on bodies shaped like the recorded traffic."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from webapp.one_nce import Connectivity, ConnectivityInfo, Event, Limits, Quota, SimRecord, Sms
from webapp.one_nce.parsing import RecordError, parse_timestamp, read_decimal
from webapp.one_nce.records import Order, Product, parse_items, parse_usage
from webapp.one_nce.tokens import Grant

LISTED_SIM = {
    "iccid": "8988228066602306770",
    "imsi": "901405102306770",
    "msisdn": "882285102306770",
    "imei": "8682390510114404",
    "imei_lock": False,
    "status": "Enabled",
    "activation_date": "2021-08-26T12:13:06.000+0000",
    "ip_address": "10.210.176.1",
    "current_quota": 500,
    "quota_status": {"id": 0, "description": "More than 20% available"},
    "current_quota_SMS": 250,
    "quota_status_SMS": {"id": 0, "description": "More than 20% available"},
    "label": "Test API",
}


def test_sim_from_the_list_recording():
    sim = SimRecord.from_wire(LISTED_SIM)
    assert sim.iccid == "8988228066602306770"
    assert sim.activation_date == datetime(2021, 8, 26, 12, 13, 6, tzinfo=UTC)
    assert sim.current_quota == Decimal("500")
    assert sim.quota_status.description == "More than 20% available"
    assert sim.current_quota_sms == Decimal("250")
    assert sim.enabled and sim.imei_lock is False and sim.label == "Test API"


def test_sim_without_label_and_imei_and_with_legacy_status():
    raw = {k: v for k, v in LISTED_SIM.items() if k not in ("label", "imei")}
    sim = SimRecord.from_wire(raw | {"status": "Activated"})
    assert sim.label is None and sim.imei is None
    assert sim.status == "Activated" and sim.enabled


def test_unknown_sim_status_is_kept():
    sim = SimRecord.from_wire(LISTED_SIM | {"status": "Suspended-by-carrier"})
    assert sim.status == "Suspended-by-carrier"
    assert not sim.enabled


def test_numbers_as_strings_become_decimals_and_ints():
    sim = SimRecord.from_wire(LISTED_SIM | {"current_quota": "479.949998", "imei_lock": "true"})
    assert sim.current_quota == Decimal("479.949998")
    assert sim.imei_lock is True


def test_sim_with_bad_iccid_is_an_error():
    with pytest.raises(RecordError, match="iccid"):
        SimRecord.from_wire(LISTED_SIM | {"iccid": None})


def test_data_quota_recording_with_space_separated_dates():
    quota = Quota.from_wire(
        {
            "volume": 479.949998,
            "total_volume": 500,
            "expiry_date": "2031-11-26 00:00:00",
            "peak_throughput": 128000,
            "last_volume_added": 500,
            "last_status_change_date": "2021-08-26 12:13:22",
            "threshold_percentage": 20,
        }
    )
    assert quota.volume == Decimal("479.949998")
    assert quota.expiry_date == datetime(2031, 11, 26, tzinfo=UTC)
    assert quota.last_status_change_date.tzinfo is UTC
    assert quota.peak_throughput == 128000


def test_sms_quota_has_no_peak_throughput():
    quota = Quota.from_wire({"volume": 240, "total_volume": 250})
    assert quota.volume == Decimal("240") and quota.peak_throughput is None


def test_quota_without_volume_is_an_error():
    with pytest.raises(RecordError, match="volume"):
        Quota.from_wire({"total_volume": 500})


def test_usage_drops_total_and_keeps_decimal_strings_exact():
    zero = {"volume": "0", "volume_tx": "0", "volume_rx": "0"}
    body = {
        "stats": [
            {
                "date": "2021-11-14",
                "data": {
                    "volume": "0.014598999999999997",
                    "volume_tx": "0.004879",
                    "volume_rx": "0.00972",
                },
                "sms": {"volume": "2", "volume_tx": "1", "volume_rx": "1"},
            },
            {"date": "2021-11-13", "data": zero, "sms": zero},
            {"date": "TOTAL", "data": zero, "sms": zero},
        ]
    }
    days = parse_usage(body["stats"])
    assert [day.day for day in days] == [date(2021, 11, 14), date(2021, 11, 13)]
    assert days[0].data_mb == Decimal("0.014598999999999997")
    assert days[0].data_tx_mb == Decimal("0.004879")
    assert (days[0].sms, days[0].sms_mo, days[0].sms_mt) == (2, 1, 1)


def test_usage_with_only_the_total_row_is_empty():
    zero = {"volume": "0", "volume_tx": "0", "volume_rx": "0"}
    assert parse_usage([{"date": "TOTAL", "data": zero, "sms": zero}]) == ()


def test_status_recording_of_an_attached_sim():
    body = {
        "status": "ATTACHED",
        "location": {
            "iccid": "8988228066602306770",
            "imsi": "901405102306770",
            "last_updated": "2021-10-28 00:41:39",
            "last_updated_gprs": "2021-09-23 12:00:47",
            "sgsn_number": "48601000738",
            "sgsn_number_np": "1",
            "operator_id": "90",
            "operator": {
                "id": 90,
                "name": "Plus",
                "country": {"id": 157, "name": "Poland", "iso_code": "pl"},
            },
            "country": {
                "country_id": "157",
                "name": "Poland",
                "country_code": "48",
                "mcc": "260",
                "iso_code": "pl",
                "latitude": "52.000000",
                "longitude": "20.000000",
            },
            "sgsn_ip_address": "92.60.128.122",
        },
        "services": ["GPRS"],
    }
    status = Connectivity.from_wire(body)
    assert status.status == "ATTACHED" and not status.online
    assert status.last_updated == datetime(2021, 10, 28, 0, 41, 39, tzinfo=UTC)
    assert (status.operator_id, status.operator_name, status.country_iso) == (90, "Plus", "pl")
    assert status.latitude == Decimal("52.000000")
    assert status.services == ("GPRS",) and status.session is None


def test_online_status_with_session_and_v2_status_object():
    body = {
        "status": {"description": "ONLINE"},
        "pdp_context": {"ue_ip_address": "10.0.0.7", "rat_type": {"description": "4G"}},
    }
    status = Connectivity.from_wire(body)
    assert status.online and status.session.ue_ip_address == "10.0.0.7"
    assert status.session.rat_type == "4G"


def test_connectivity_info_recording():
    body = {
        "subscriber_info": {
            "success": True,
            "state": "assumed_idle",
            "location": {
                "current_location_retrieved": False,
                "age_of_location": 1,
                "cell_global_id": {"mcc": "260", "mnc": "3", "lac": 53113, "cid": 46261},
            },
        },
        "request_timestamp": "2023-07-04T12:46:10.728+0000",
        "reply_timestamp": "2023-07-04T12:46:10.930+0000",
    }
    info = ConnectivityInfo.from_wire(body)
    assert info.state == "assumed_idle" and info.cell_id == 46261
    assert info.replied_at == datetime(2023, 7, 4, 12, 46, 10, 930000, tzinfo=UTC)
    assert info.ussd_success is None


def test_v1_and_v2_events():
    v1 = Event.from_wire(
        {
            "timestamp": "2018-05-07T14:08:05.000+0000",
            "event_type": "Status of SIM changed from 'Issued' to 'Activated'",
            "alert": False,
            "event_severity": "Info",
        }
    )
    assert v1.timestamp == datetime(2018, 5, 7, 14, 8, 5, tzinfo=UTC) and v1.id is None
    v2 = Event.from_wire(
        {
            "id": 42,
            "timestamp": "2024-08-24T13:13:21Z",
            "event_type": {"id": 1, "description": "Update location"},
            "event_severity": {"id": 0, "description": "INFO"},
            "sim": {"id": 1, "iccid": "8988228066602306770", "msisdn": "1"},
            "imsi": {"id": 2, "imsi": "901405102306770"},
        }
    )
    assert (v2.id, v2.event_type, v2.severity) == ("42", "Update location", "Info")
    assert v1.severity == v2.severity
    assert (v2.iccid, v2.imsi) == ("8988228066602306770", "901405102306770")


def test_sms_with_string_retry_count():
    sms = Sms.from_wire(
        {
            "id": 7363280,
            "submit_date": "2021-11-14T19:12:43.000Z",
            "retry_count": "0",
            "payload": "test SMS",
            "status": {"id": 4, "description": "DELIVERED"},
            "sms_type": {"id": 1, "description": "MT"},
            "source_address_type": {"id": 145, "description": "International"},
        }
    )
    assert (sms.id, sms.retry_count, sms.status, sms.sms_type) == ("7363280", 0, "DELIVERED", "MT")
    assert sms.source_address_type == 145


def test_limits_with_string_amounts():
    limits = Limits.from_wire({"data": {"id": 1, "limit": "16", "unit": "MB"}})
    assert limits.data.limit == Decimal("16") and limits.sms_mt is None


def test_order_and_product():
    order = Order.from_wire(
        {
            "order_number": 2000000001,
            "order_type": "TOPUP",
            "order_date": "2021-11-14T19:12:43.000+0000",
            "order_status": "COMPLETED",
            "invoice_amount": "19.99",
            "currency": "EUR",
            "sims": [{"iccid": "8988228066602306770", "_links": []}],
            "products": [{"product_id": 1001, "quantity": 1}],
        }
    )
    assert order.order_number == "2000000001" and order.invoice_amount == Decimal("19.99")
    assert order.iccids == ("8988228066602306770",)
    product = Product.from_wire(
        {
            "id": 1001,
            "product": "1NCE IoT FlexSIM - Standard",
            "one_time_charges": [{"amount_net": 10}],
        }
    )
    assert product.one_time_charges[0].amount_net == Decimal("10")


def test_token_response_and_its_legacy_lifetime():
    grant = Grant.from_wire(
        {
            "status_code": 200,
            "access_token": "eyJpZHRva2Vu",
            "token_type": "bearer",
            "expires_in": 3600,
        }
    )
    assert grant.expires_in == 3600 and "eyJ" not in repr(grant)
    with pytest.raises(RecordError):
        Grant.from_wire({"access_token": ""})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-08-26T12:13:06.000+0000", datetime(2021, 8, 26, 12, 13, 6, tzinfo=UTC)),
        ("2019-12-04T08:12:02.000Z", datetime(2019, 12, 4, 8, 12, 2, tzinfo=UTC)),
        ("2024-08-24T13:13:21Z", datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)),
        ("2031-11-26 00:00:00", datetime(2031, 11, 26, tzinfo=UTC)),
        ("2028-03-14T16:10:29.000+00:00", datetime(2028, 3, 14, 16, 10, 29, tzinfo=UTC)),
        ("2021-11-14T21:12:43+02:00", datetime(2021, 11, 14, 19, 12, 43, tzinfo=UTC)),
    ],
)
def test_every_date_format_becomes_aware_utc(raw, expected):
    moment = parse_timestamp(raw)
    assert moment == expected and moment.tzinfo is UTC


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", True, [1]])
def test_unusable_numbers_are_errors(raw):
    with pytest.raises(RecordError, match="volume"):
        read_decimal({"volume": raw}, "volume")


def test_a_bad_item_is_rejected_without_losing_the_page():
    items = [LISTED_SIM, {"iccid": "x1"}, "not an object", LISTED_SIM | {"activation_date": "soon"}]
    records, rejects, stopped = parse_items(items, SimRecord.from_wire)
    assert [sim.iccid for sim in records] == ["8988228066602306770"]
    assert len(rejects) == 3 and not stopped
    assert rejects[0].iccid == "x1" and "iccid" in rejects[0].error
    assert rejects[2].iccid == "8988228066602306770" and "activation_date" in rejects[2].error
