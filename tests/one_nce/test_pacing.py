"""Pacing over real HTTP: threads and another process share one rate, and 1NCE sees no 429."""

import threading

from prometheus_client import REGISTRY

RATE = 40.0


def test_threads_and_a_process_stay_under_the_limit(
    make_client, make_simulator, redis_url, start_worker
):
    simulator = make_simulator(sims=50, rps=RATE)
    api = make_client(simulator, max_rps=RATE)
    iccid = simulator.fleet.iccids()[0]
    api.get_sim(iccid)  # the token is now shared through Redis
    simulator.reset_stats()
    wait_before = REGISTRY.get_sample_value(
        "simfleet_once_pacing_wait_seconds_sum", {"group": "sims"}
    )
    worker = start_worker(
        "client", redis_url, simulator.url, simulator.client_id, simulator.client_secret, RATE, 40
    )
    threads = [
        threading.Thread(target=lambda: [api.get_data_quota(iccid) for _ in range(20)])
        for _ in range(4)
    ]
    worker.go()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(worker.result()) == 39

    stats = simulator.stats()
    assert stats["requests"] == 4 * 20 + 40
    assert stats["status_429"] == 0
    assert stats["peak_rps"] <= RATE
    assert stats["token_requests"] == 0
    wait_after = REGISTRY.get_sample_value(
        "simfleet_once_pacing_wait_seconds_sum", {"group": "sims"}
    )
    assert wait_after > wait_before
