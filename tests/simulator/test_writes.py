"""Writes are accepted at once and take effect after the write delay, as at 1NCE."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest

WRITE_DELAY = 2.0


def settle(api) -> None:
    """Let the frozen simulator's clock pass the write delay."""
    api.simulator.fleet.controls.advance_clock(WRITE_DELAY)


@pytest.fixture
def iccid(api) -> str:
    """An enabled SIM with a label."""
    fleet = api.simulator.fleet
    return next(
        iccid
        for iccid in fleet.iccids()
        if fleet.sim(iccid).label and fleet.sim(iccid).status == "Enabled"
    )


def test_put_answers_200_empty_and_applies_later(api, iccid):
    response = api.put(f"/v1/sims/{iccid}", json={"label": "Pump 7", "imei_lock": True})

    assert response.status_code == 200
    assert response.content == b""
    assert api.get(f"/v1/sims/{iccid}").json()["label"] != "Pump 7"
    assert api.simulator.fleet.writes.pending() == 1
    settle(api)
    sim = api.get(f"/v1/sims/{iccid}").json()
    assert (sim["label"], sim["imei_lock"]) == ("Pump 7", True)


def test_a_null_label_removes_the_key(api, iccid):
    api.put(f"/v1/sims/{iccid}", json={"label": None})
    settle(api)

    assert "label" not in api.get(f"/v1/sims/{iccid}").json()


def test_disabling_takes_the_sim_offline_with_an_event(api, iccid):
    assert api.put(f"/v1/sims/{iccid}", json={"status": "Disabled"}).status_code == 200
    settle(api)

    assert api.get(f"/v1/sims/{iccid}").json()["status"] == "Disabled"
    assert api.get(f"/v1/sims/{iccid}/status").json()["status"] == "OFFLINE"
    newest = api.get(f"/v1/sims/{iccid}/events").json()["events"][0]
    assert newest["event_type"] == "Status of SIM changed from 'Activated' to 'Suspended'"


def test_partial_and_empty_bodies_are_accepted_bad_ones_refused(api, iccid):
    assert api.put(f"/v1/sims/{iccid}", json={}).status_code == 200
    assert api.put(f"/v1/sims/{iccid}", json={"status": "Paused"}).status_code == 400
    assert api.put(f"/v1/sims/{iccid}", data="x").status_code == 400
    assert api.put("/v1/sims/8988228066600000000", json={}).status_code == 404


def test_bulk_update_answers_201_and_applies_later(api):
    first, second = api.simulator.fleet.iccids()[:2]

    response = api.post(
        "/v1/sims", json=[{"iccid": first, "label": "A"}, {"iccid": second, "label": "B"}]
    )

    assert (response.status_code, response.content) == (201, b"")
    settle(api)
    assert api.get(f"/v1/sims/{first}").json()["label"] == "A"
    assert api.get(f"/v1/sims/{second}").json()["label"] == "B"
    assert api.post("/v1/sims", json=[]).status_code == 201
    assert api.post("/v1/sims", json={"iccid": first}).status_code == 400


def test_reset_purges_the_location(api, iccid):
    response = api.post(f"/v1/sims/{iccid}/reset")

    assert (response.status_code, response.content) == (201, b"")
    settle(api)
    api.simulator.fleet.controls.advance_clock(60)
    types = [event["event_type"] for event in api.get(f"/v1/sims/{iccid}/events").json()["events"]]
    assert types[:2] == ["Update location", "Purge location"]


def test_sms_is_queued_then_listed_and_counted(api):
    fleet = api.simulator.fleet
    iccid = next(i for i in fleet.iccids() if fleet.connectivity(i).status == "ATTACHED")

    response = api.post(f"/v1/sims/{iccid}/sms", json={"payload": "reboot"})

    assert (response.status_code, response.content) == (201, b"")
    location = response.headers["Location"]
    assert f"/internal-global-api/v1/sims/{iccid}/sms/" in location
    sms_id = int(location.rsplit("/", 1)[1])
    settle(api)
    fleet.controls.advance_clock(20 * 60)  # MT SMS show in usage once rated
    message = api.get(f"/v1/sims/{iccid}/sms/{sms_id}").json()
    assert (message["payload"], message["status"]["description"]) == ("reboot", "DELIVERED")
    today = api.get(f"/v1/sims/{iccid}/usage").json()["stats"][0]
    assert today["sms"]["volume_tx"] == "1"


def test_sms_to_an_offline_sim_stays_pending_and_can_be_cancelled(api):
    fleet = api.simulator.fleet
    iccid = next(
        i
        for i in fleet.iccids()
        if fleet.connectivity(i).status == "OFFLINE" and fleet.sim(i).status == "Enabled"
    )
    location = api.post(f"/v1/sims/{iccid}/sms", json={"payload": "wake up"}).headers["Location"]
    sms_id = location.rsplit("/", 1)[1]
    settle(api)

    assert api.get(f"/v1/sims/{iccid}/sms/{sms_id}").json()["status"]["id"] == 2
    assert api.delete(f"/v1/sims/{iccid}/sms/{sms_id}").status_code == 200
    assert api.get(f"/v1/sims/{iccid}/sms/{sms_id}").status_code == 404


def test_sms_needs_a_payload(api, iccid):
    assert api.post(f"/v1/sims/{iccid}/sms", json={"dcs": 0}).status_code == 400


def test_topup_places_an_order_and_refills_the_quota(api, iccid):
    before = api.simulator.fleet.data_quota(iccid)

    response = api.post(f"/v1/sims/{iccid}/topup", params={"payment_method": "creditcard"})

    assert response.status_code == 201
    order_path = response.headers["Location"].split("/management-api", 1)[1]
    assert api.get(order_path).json()["order_type"] == "TOPUP"
    settle(api)
    after = api.get(f"/v1/sims/{iccid}/quota/data").json()
    assert Decimal(str(after["volume"])) == before.volume + 500
    assert after["last_volume_added"] == 500


def test_topup_errors(api, iccid):
    bad_method = api.post(f"/v1/sims/{iccid}/topup", params={"payment_method": "cash"})
    unknown = api.post("/v1/sims/8988228066600000000/topup")

    assert (bad_method.status_code, bad_method.json()) == (
        400,
        {"message": "Payment method used is not valid."},
    )
    assert (unknown.status_code, unknown.json()) == (404, {"message": "SIM not found."})


def test_bulk_topup(api):
    iccids = api.simulator.fleet.iccids()[:3]

    response = api.post("/v1/sims/topup", json=iccids)

    assert response.status_code == 201
    order = api.get(response.headers["Location"].split("/management-api", 1)[1]).json()
    assert (order["order_type"], [sim["iccid"] for sim in order["sims"]]) == ("BULK_TOPUP", iccids)


def test_expired_sims_cannot_be_modified(api):
    fleet = api.simulator.fleet
    horizon = fleet.now() + timedelta(days=61)
    iccid = next(i for i in fleet.iccids() if fleet.data_quota(i).expiry_date < horizon)
    fleet.controls.advance_clock(61 * 86400)
    api.renew_token()

    response = api.put(f"/v1/sims/{iccid}", json={"label": "x"})

    assert (response.status_code, response.content) == (422, b"")
    assert api.post(f"/v1/sims/{iccid}/reset").status_code == 422


def test_limits_change_later(api):
    assert api.post("/v1/sims/limits", json={"dataLimitId": 2}).status_code == 201
    assert api.post("/v1/sims/limits", json={"dataLimitId": 99}).status_code == 400
    settle(api)

    assert api.get("/v1/sims/limits").json()["data"] == {"id": 2, "limit": "50", "unit": "MB"}


def test_writes_apply_after_the_delay_in_real_time(live_simulator, connect):
    api = connect(live_simulator)
    iccid = live_simulator.fleet.iccids()[0]

    api.put(f"/v1/sims/{iccid}", json={"label": "async"})

    assert live_simulator.fleet.sim(iccid).label != "async"
    deadline = time.monotonic() + 5
    while live_simulator.fleet.sim(iccid).label != "async" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.get(f"/v1/sims/{iccid}").json()["label"] == "async"
