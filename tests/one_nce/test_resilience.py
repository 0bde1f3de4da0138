"""Retries after outages, timeouts and 429s, against the simulator's fault injection."""

import threading
import time

import pytest
from prometheus_client import REGISTRY

from webapp.one_nce import OneNceRateLimited, OneNceTimeout, OneNceUnavailable, RetryPolicy

PATIENT = RetryPolicy(retries=8, backoff=0.05, backoff_max=0.2)


def metric(name: str, **labels: str) -> float:
    """The current value of a metric sample (0 when it has not been touched yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def clear_faults_after(simulator, seconds: float) -> threading.Thread:
    """End the outage from a background thread while the client is retrying."""
    thread = threading.Timer(seconds, simulator.clear_faults)
    thread.start()
    return thread


@pytest.mark.parametrize(("fault", "status"), [("html_503_rate", "503"), ("empty_500_rate", "500")])
def test_a_read_survives_a_short_outage(make_client, simulator, fault, status):
    api = make_client(simulator, retry=PATIENT)
    iccid = simulator.fleet.iccids()[0]
    api.get_sim(iccid)
    labels = {"endpoint": "GET /v1/sims/{iccid}", "reason": status}
    retries_before = metric("simfleet_once_retries_total", **labels)
    simulator.set_faults(**{fault: 1.0})
    timer = clear_faults_after(simulator, 0.3)
    assert api.get_sim(iccid).iccid == iccid
    timer.join()
    assert metric("simfleet_once_retries_total", **labels) > retries_before


def test_a_lasting_outage_raises_a_typed_error(api, simulator):
    iccid = simulator.fleet.iccids()[0]
    api.get_sim(iccid)
    simulator.set_faults(html_503_rate=1.0)
    with pytest.raises(OneNceUnavailable) as caught:
        api.get_data_quota(iccid)
    assert caught.value.status == 503
    assert caught.value.endpoint == "GET /v1/sims/{iccid}/quota/data"
    assert "non-JSON" in str(caught.value)


def test_a_top_up_is_not_repeated_after_a_server_error(api, simulator):
    iccid = simulator.fleet.iccids()[0]
    api.get_sim(iccid)
    simulator.reset_stats()
    simulator.set_faults(empty_500_rate=1.0)
    with pytest.raises(OneNceUnavailable):
        api.top_up(iccid)
    assert simulator.stats()["requests"] == 1


def test_a_bulk_top_up_is_not_repeated_after_a_server_error(api, simulator):
    iccids = simulator.fleet.iccids()[:3]
    api.get_sim(iccids[0])
    simulator.reset_stats()
    simulator.set_faults(empty_500_rate=1.0)
    with pytest.raises(OneNceUnavailable):
        api.top_up_sims(iccids)
    assert simulator.stats()["requests"] == 1


def test_a_slow_answer_times_out(make_client, simulator):
    api = make_client(simulator, read_timeout=0.2, retry=RetryPolicy(retries=1, backoff=0.01))
    iccid = simulator.fleet.iccids()[0]
    api.get_sim(iccid)
    simulator.set_faults(slow_ms=1000)
    started = time.monotonic()
    with pytest.raises(OneNceTimeout) as caught:
        api.get_sim(iccid)
    assert time.monotonic() - started < 1.5
    assert caught.value.status is None and caught.value.endpoint == "GET /v1/sims/{iccid}"


def test_429s_slow_every_caller_down_until_calls_succeed(make_client, make_simulator):
    # The client believes in twice the rate 1NCE allows; the first 429s halve it.
    simulator = make_simulator(sims=20, rps=5)
    api = make_client(simulator, max_rps=10.0, retry=PATIENT)
    iccid = simulator.fleet.iccids()[0]
    before = metric("simfleet_once_rate_limited_total", endpoint="GET /v1/sims/{iccid}/quota/sms")
    results = [api.get_sms_quota(iccid) for _ in range(20)]
    assert len(results) == 20
    rejected = simulator.stats()["status_429"]
    assert 1 <= rejected <= 5
    after = metric("simfleet_once_rate_limited_total", endpoint="GET /v1/sims/{iccid}/quota/sms")
    assert after - before == rejected


def test_429s_that_never_end_raise_rate_limited(make_client, make_simulator):
    simulator = make_simulator(sims=20, rps=1)
    api = make_client(simulator, max_rps=50.0, retry=RetryPolicy(retries=0))
    iccid = simulator.fleet.iccids()[0]
    with pytest.raises(OneNceRateLimited) as caught:
        for _ in range(5):
            api.get_sms_quota(iccid)
    assert caught.value.status == 429
