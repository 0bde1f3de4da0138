"""Fault injection on v2 paths, and the v2-only faults (usage shape, diverged labels)."""

import time

import pytest
import requests

from tests.simulator.v2 import assert_v2_error


@pytest.fixture
def iccid(api) -> str:
    """A labelled SIM."""
    fleet = api.simulator.fleet
    return next(i for i in fleet.iccids() if fleet.sim(i).label)


def test_error_rate_answers_the_v2_error_body_on_v2(api):
    api.simulator.set_faults(error_rate=1)

    body = assert_v2_error(api.get("/v2/sims"), 500, "InternalServerError")

    assert body["message"] == "Internal Server Error"
    assert api.get("/v1/sims").json()["error"] == "Internal Server Error"


def test_html_503_and_empty_500_on_v2(api):
    api.simulator.set_faults(html_503_rate=1)
    page = api.get("/v2/sims")
    api.simulator.set_faults(html_503_rate=0, empty_500_rate=1)
    empty = api.get("/v2/sims")

    assert page.status_code == 503 and "503 ERROR" in page.text
    assert (empty.status_code, empty.content) == (500, b"")


def test_slow_ms_delays_v2_answers(api):
    api.simulator.set_faults(slow_ms=300)

    started = time.monotonic()
    api.get("/v2/sims")

    assert time.monotonic() - started >= 0.3


def test_invalidated_tokens_get_the_gateways_401_on_v2(api):
    api.simulator.set_faults(invalidate_tokens=True)

    refused = api.get("/v2/sims")

    assert refused.status_code == 401
    assert refused.json()["error"] == "Unauthorized"
    api.renew_token()
    assert api.get("/v2/sims").status_code == 200


def test_garbled_iccids_garble_the_v2_list_and_usage(api, iccid):
    api.simulator.set_faults(garbled_iccids=[iccid])

    listed = api.get("/v2/sims", params={"pageSize": 100}).json()

    assert "garbled" in [sim["iccid"] for sim in listed]
    assert api.get(f"/v2/sims/{iccid}/usage").json() == {"stats": "garbled"}


def test_usage_shape_can_change(api, iccid):
    stats = api.get(f"/v2/sims/{iccid}/usage").json()["stats"]

    api.simulator.set_faults(v2_usage_shape="array")
    array = api.get(f"/v2/sims/{iccid}/usage").json()
    api.simulator.set_faults(v2_usage_shape="unexpected")
    unexpected = api.get(f"/v2/sims/{iccid}/usage").json()
    api.simulator.clear_faults()

    assert array == stats[:-1]
    assert unexpected == {"usage_days": stats[:-1], "total": stats[-1]}
    assert api.get(f"/v2/sims/{iccid}/usage").json() == {"stats": stats}
    assert "stats" in api.get(f"/v1/sims/{iccid}/usage").json()


def test_diverged_iccids_report_another_label_on_v2_only(api, iccid):
    label = api.simulator.fleet.sim(iccid).label
    api.simulator.set_faults(diverged_iccids=[iccid])

    listed = {sim["iccid"]: sim for sim in api.get("/v2/sims", params={"pageSize": 100}).json()}

    assert api.get(f"/v1/sims/{iccid}").json()["label"] == label
    assert api.get(f"/v2/sims/{iccid}").json()["label"] != label
    assert listed[iccid]["label"] == api.get(f"/v2/sims/{iccid}").json()["label"]


@pytest.mark.parametrize("settings", [{"v2_usage_shape": "xml"}, {"diverged": []}])
def test_bad_v2_fault_settings_are_refused(frozen_simulator, settings):
    response = requests.post(f"{frozen_simulator.root_url}/_sim/faults", json=settings, timeout=10)

    assert response.status_code == 400


def test_stats_count_v2_endpoints(api, iccid):
    api.simulator.reset_stats()
    api.get("/v2/sims")
    api.get(f"/v2/sims/{iccid}/events")

    stats = api.simulator.stats()
    assert stats["by_endpoint"] == {"GET /v2/sims": 1, "GET /v2/sims/<iccid>/events": 1}
    assert (stats["v1_requests"], stats["v2_requests"]) == (0, 2)
