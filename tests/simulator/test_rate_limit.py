"""The /sims limit: a 1-second sliding window per client, no burst, answered with 429."""

import time

from tests.simulator.conftest import request_token
from tests.simulator.shapes import assert_matches


def test_requests_beyond_the_limit_get_429(make_simulator, connect):
    api = connect(make_simulator(sims=20, rps=5))

    responses = [api.get("/v1/sims", params={"pageSize": 1}) for _ in range(12)]

    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses
    throttled = next(response for response in responses if response.status_code == 429)
    assert_matches(throttled.json(), "too_many_requests")
    stats = api.simulator.stats()
    assert stats["status_429"] == statuses.count(429)
    assert stats["peak_rps"] > 5


def test_the_window_slides_and_tokens_are_not_limited_by_it(make_simulator, connect):
    api = connect(make_simulator(sims=20, rps=3))
    statuses = [api.get("/v1/sims").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert request_token(api.simulator).status_code == 200
    time.sleep(1.05)
    assert api.get("/v1/sims").status_code == 200


def test_a_steady_pace_at_the_limit_is_never_throttled(make_simulator, connect):
    api = connect(make_simulator(sims=20, rps=5))

    statuses = []
    for _ in range(8):
        started = time.monotonic()
        statuses.append(api.get("/v1/sims", params={"pageSize": 1}).status_code)
        time.sleep(max(0.0, 0.22 - (time.monotonic() - started)))

    assert statuses == [200] * 8
    assert api.simulator.stats()["peak_rps"] <= 5


def test_orders_are_not_counted_against_the_sims_limit(make_simulator, connect):
    api = connect(make_simulator(sims=20, rps=2))

    statuses = [api.get("/v1/orders").status_code for _ in range(5)]

    assert statuses == [200] * 5
