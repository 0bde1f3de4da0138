"""Fault injection and request statistics over the /_sim control endpoints."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests


def test_error_rate_answers_a_spring_500(api):
    api.simulator.set_faults(error_rate=1)

    response = api.get("/v1/sims")

    assert response.status_code == 500
    assert response.json()["error"] == "Internal Server Error"


def test_html_503_page(api):
    api.simulator.set_faults(html_503_rate=1)

    response = api.get("/v1/sims")

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "503 ERROR" in response.text


def test_empty_500(api):
    api.simulator.set_faults(empty_500_rate=1)

    response = api.get("/v1/sims")

    assert response.status_code == 500
    assert response.content == b""


def test_status_429_rate_answers_too_many_requests_below_the_limit(api):
    api.simulator.set_faults(status_429_rate=1)

    response = api.get("/v1/sims")

    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}


def test_truncated_rate_cuts_a_200_json_body_in_half(api):
    whole = api.get("/v1/sims").content
    api.simulator.set_faults(truncated_rate=1)

    response = api.get("/v1/sims")

    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    assert int(response.headers["Content-Length"]) == len(whole) // 2
    with pytest.raises(ValueError):
        response.json()


def test_partial_error_rate_fails_some_requests_and_clearing_stops_it(api):
    api.simulator.set_faults(error_rate=0.5)

    statuses = {api.get("/v1/products").status_code for _ in range(30)}
    api.simulator.clear_faults()

    assert statuses == {200, 500}
    assert api.get("/v1/products").status_code == 200


def test_slow_ms_delays_answers(api):
    api.simulator.set_faults(slow_ms=300)

    started = time.monotonic()
    api.get("/v1/products")

    assert time.monotonic() - started >= 0.3


def test_invalidate_tokens_forces_a_new_token(api):
    assert api.get("/v1/products").status_code == 200

    api.simulator.set_faults(invalidate_tokens=True)

    assert api.get("/v1/products").status_code == 401
    api.renew_token()
    assert api.get("/v1/products").status_code == 200


@pytest.mark.parametrize(
    "settings", [{"error_rate": 2}, {"truncated_rate": -0.1}, {"slow_ms": -1}, {"bogus": 1}]
)
def test_bad_fault_settings_are_refused(frozen_simulator, settings):
    response = requests.post(f"{frozen_simulator.root_url}/_sim/faults", json=settings, timeout=10)

    assert response.status_code == 400


def test_stats_count_requests_and_reset(api):
    api.simulator.reset_stats()
    iccid = api.simulator.fleet.iccids()[0]
    api.get("/v1/sims")
    api.get(f"/v1/sims/{iccid}/usage")
    api.get(f"/v1/sims/{iccid}/usage")
    api.simulator.token()

    stats = api.simulator.stats()
    assert stats["requests"] == 4
    assert stats["token_requests"] == 1
    assert stats["by_endpoint"] == {
        "GET /v1/sims": 1,
        "GET /v1/sims/<iccid>/usage": 2,
        "POST /oauth/token": 1,
    }
    assert stats["peak_rps"] >= 1
    api.simulator.reset_stats()
    assert api.simulator.stats()["requests"] == 0


def test_truth_tells_each_sims_state_usage_events_and_top_ups(api):
    fleet = api.simulator.fleet
    iccid = fleet.iccids()[0]
    day = fleet.now().date() - timedelta(days=3)
    api.post(f"/v1/sims/{iccid}/topup", params={"payment_method": "creditcard"})
    api.post("/v1/sims/topup", json=[iccid, fleet.iccids()[1]])
    url = f"{api.simulator.root_url}/_sim/truth"

    truth = requests.get(url, params={"usage_from": day, "usage_through": day}, timeout=30).json()

    sim, record, usage = truth["sims"][iccid], fleet.sim(iccid), fleet.usage(iccid, day, day)[0]
    assert len(truth["sims"]) == fleet.count()
    assert (sim["status"], sim["label"]) == (record.status, record.label)
    assert Decimal(sim["data_mb"]) == usage.data_volume
    assert (sim["sms_mo"], sim["sms_mt"]) == (usage.sms_mo, usage.sms_mt)
    assert [event_id for event_id, _ in sim["events"]] == [e.id for e in fleet.events(iccid)]
    assert Decimal(truth["fleet_data_mb"][day.isoformat()]) == sum(
        fleet.usage(i, day, day)[0].data_volume for i in fleet.iccids()
    )
    assert truth["topups"] == {iccid: 2, fleet.iccids()[1]: 1}
    assert requests.get(url, params={"usage_from": "yesterday"}, timeout=10).status_code == 400
