"""v2 writes: accepted at once, applied after the write delay, visible on both versions."""

import time
from datetime import timedelta

import pytest

from tests.simulator.v2 import UNKNOWN_ICCID, assert_v2_error, pick

WRITE_DELAY = 2.0


def settle(api) -> None:
    """Let the frozen simulator's clock pass the write delay."""
    api.simulator.fleet.controls.advance_clock(WRITE_DELAY)


@pytest.fixture
def iccid(api) -> str:
    """An enabled SIM with a label."""
    fleet = api.simulator.fleet
    return pick(fleet, lambda i: fleet.sim(i).label and fleet.sim(i).status == "Enabled")


def test_put_applies_later_and_shows_on_both_versions(api, iccid):
    response = api.put(f"/v2/sims/{iccid}", json={"iccid": iccid, "label": "Pump 7"})

    assert (response.status_code, response.content) == (200, b"")
    assert api.get(f"/v2/sims/{iccid}").json()["label"] != "Pump 7"
    settle(api)
    assert api.get(f"/v2/sims/{iccid}").json()["label"] == "Pump 7"
    assert api.get(f"/v1/sims/{iccid}").json()["label"] == "Pump 7"


def test_put_needs_no_field_nor_body(api, iccid):
    assert api.put(f"/v2/sims/{iccid}").status_code == 200
    assert api.put(f"/v2/sims/{iccid}", json={}).status_code == 200
    assert api.put(f"/v2/sims/{iccid}", json={"imei_lock": True}).status_code == 200
    settle(api)
    assert api.simulator.fleet.sim(iccid).imei_lock is True


@pytest.mark.parametrize("body", [{"status": "Paused"}, {"imei_lock": "yes"}, [1], "x"])
def test_put_refuses_bad_bodies_with_a_bad_request(api, iccid, body):
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}

    assert_v2_error(api.put(f"/v2/sims/{iccid}", **kwargs), 400, "BadRequest")


def test_disabling_through_v2_takes_the_sim_offline(api, iccid):
    api.put(f"/v2/sims/{iccid}", json={"status": "Disabled"})
    settle(api)

    assert api.get(f"/v1/sims/{iccid}").json()["status"] == "Disabled"
    assert api.get(f"/v2/sims/{iccid}/status").json()["status"] == {"description": "OFFLINE"}
    newest = api.get(f"/v2/sims/{iccid}/events").json()[0]
    assert newest["event_type"]["description"] == "SIM status changed"
    assert newest["description"] == "Status of SIM changed from 'Activated' to 'Suspended'"


def test_writes_to_unknown_or_expired_sims(api):
    fleet = api.simulator.fleet
    horizon = fleet.now() + timedelta(days=61)
    expiring = pick(fleet, lambda i: fleet.data_quota(i).expiry_date < horizon)

    assert_v2_error(api.put(f"/v2/sims/{UNKNOWN_ICCID}", json={}), 404, "NotFound")
    assert_v2_error(api.post(f"/v2/sims/{UNKNOWN_ICCID}/reset"), 404, "NotFound")
    fleet.controls.advance_clock(61 * 86400)
    api.renew_token()
    assert_v2_error(api.put(f"/v2/sims/{expiring}", json={"label": "x"}), 409, "Conflict")
    assert_v2_error(api.post(f"/v2/sims/{expiring}/reset"), 409, "Conflict")


def test_reset_answers_201_empty_and_purges_the_location(api, iccid):
    response = api.post(f"/v2/sims/{iccid}/reset")

    assert (response.status_code, response.content) == (201, b"")
    settle(api)
    api.simulator.fleet.controls.advance_clock(60)
    events = api.get(f"/v2/sims/{iccid}/events").json()
    assert [e["event_type"]["description"] for e in events[:2]] == [
        "Update location",
        "Purge location",
    ]


def test_sms_ids_are_strings_in_post_and_delete_answers(api):
    fleet = api.simulator.fleet
    offline = pick(
        fleet,
        lambda i: fleet.connectivity(i).status == "OFFLINE" and fleet.sim(i).status == "Enabled",
    )

    sent = api.post(f"/v2/sims/{offline}/sms", json={"payload": "wake up"})

    assert sent.status_code == 201
    sms_id = sent.json()["id"]
    assert isinstance(sms_id, str) and sms_id.isdigit()
    settle(api)
    message = api.get(f"/v2/sims/{offline}/sms/{sms_id}").json()
    assert (message["id"], message["status"]["description"]) == (int(sms_id), "PENDING")
    assert api.get(f"/v1/sims/{offline}/sms/{sms_id}").json()["payload"] == "wake up"
    cancelled = api.delete(f"/v2/sims/{offline}/sms/{sms_id}")
    assert (cancelled.status_code, cancelled.json()) == (200, {"id": sms_id})
    assert_v2_error(api.get(f"/v2/sims/{offline}/sms/{sms_id}"), 404, "NotFound")
    assert_v2_error(api.delete(f"/v2/sims/{offline}/sms/{sms_id}"), 404, "NotFound")


def test_sms_needs_a_payload(api, iccid):
    assert_v2_error(api.post(f"/v2/sims/{iccid}/sms", json={"dcs": 0}), 400, "BadRequest")


def test_topup_places_an_order_and_grows_the_accumulated_total(api, iccid):
    before = api.get(f"/v2/sims/{iccid}/quota/data").json()

    response = api.post(f"/v2/sims/{iccid}/topup", params={"payment_method": "creditcard"})

    assert (response.status_code, response.content) == (201, b"")
    order_path = response.headers["Location"].split("/management-api", 1)[1]
    assert order_path.startswith("/v2/orders/")
    order_number = order_path.rsplit("/", 1)[1]
    assert api.get(f"/v1/orders/{order_number}").json()["order_type"] == "TOPUP"
    settle(api)
    after = api.get(f"/v2/sims/{iccid}/quota/data").json()
    assert after["accumulated_total_volume"] == before["accumulated_total_volume"] + 500
    assert after["total_volume"] == pytest.approx(before["volume"] + 500)
    assert after["total_volume"] != after["accumulated_total_volume"]
    # The new package began when the top-up took effect, after the write delay.
    assert after["created_at"] == f"{api.simulator.fleet.now():%Y-%m-%dT%H:%M:%SZ}"


def test_topup_errors_keep_the_v1_style(api, iccid):
    bad_method = api.post(f"/v2/sims/{iccid}/topup", params={"payment_method": "cash"})
    unknown = api.post(f"/v2/sims/{UNKNOWN_ICCID}/topup")

    assert (bad_method.status_code, bad_method.json()) == (
        400,
        {"message": "Payment method used is not valid."},
    )
    assert (unknown.status_code, unknown.content) == (404, b"")


def test_writes_apply_after_the_delay_in_real_time(live_simulator, connect):
    api = connect(live_simulator)
    iccid = live_simulator.fleet.iccids()[0]

    api.put(f"/v2/sims/{iccid}", json={"label": "async"})

    assert api.get(f"/v1/sims/{iccid}").json().get("label") != "async"
    deadline = time.monotonic() + 5
    while live_simulator.fleet.sim(iccid).label != "async" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.get(f"/v1/sims/{iccid}").json()["label"] == "async"
    assert api.get(f"/v2/sims/{iccid}").json()["label"] == "async"
