"""The OAuth token: fetched once, shared through Redis, refreshed on expiry and on 401."""

import logging
import threading
import time

import pytest

from webapp.one_nce import OneNceAuthError
from webapp.one_nce.tokens import LOCK_SECONDS, Grant, SharedToken


def first_iccid(simulator) -> str:
    return simulator.fleet.iccids()[0]


def test_clients_and_threads_share_one_token(make_client, simulator):
    iccid = first_iccid(simulator)
    clients = [make_client(simulator) for _ in range(3)]
    threads = [
        threading.Thread(target=client.get_sim, args=(iccid,))
        for client in clients
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert simulator.stats()["token_requests"] == 1


def test_token_is_refreshed_before_it_expires(make_client, make_simulator):
    simulator = make_simulator(sims=20, token_ttl=2)
    api = make_client(simulator)
    iccid = first_iccid(simulator)
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        api.get_sim(iccid)
        time.sleep(0.1)
    stats = simulator.stats()
    assert stats["token_requests"] >= 2
    assert stats["by_status"].get("401", 0) == 0


def test_a_rejected_token_is_renewed_once(api, simulator):
    iccid = first_iccid(simulator)
    api.get_sim(iccid)
    simulator.set_faults(invalidate_tokens=True)
    assert api.get_sim(iccid).iccid == iccid
    assert simulator.stats()["token_requests"] == 2


def test_concurrent_renewals_collapse_into_one(make_client, simulator):
    iccid = first_iccid(simulator)
    clients = [make_client(simulator) for _ in range(6)]
    clients[0].get_sim(iccid)
    simulator.set_faults(invalidate_tokens=True)
    barrier = threading.Barrier(len(clients))

    def call(client) -> None:
        barrier.wait()
        client.get_sim(iccid)

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert simulator.stats()["token_requests"] == 2


def test_bad_credentials_fail_clearly_without_leaking_them(make_client, simulator, caplog):
    secret = "not-the-right-secret-4711"
    api = make_client(simulator, client_secret=secret)
    with caplog.at_level(logging.DEBUG), pytest.raises(OneNceAuthError) as caught:
        api.get_sim(first_iccid(simulator))
    assert caught.value.status == 400 and caught.value.endpoint == "POST /oauth/token"
    assert secret not in str(caught.value) and secret not in repr(api)
    assert secret not in caplog.text
    assert simulator.stats()["token_requests"] == 1


def test_the_refresh_lock_outlives_a_killed_holder_by_seconds_only(redis):
    """The lock's expiry is LOCK_SECONDS, not the refresh's whole retry budget."""
    key = "test:token"
    seen = []

    def fetch() -> Grant:
        seen.append(redis.pttl(f"{key}:lock"))
        return Grant("t" * 64, 3600)

    SharedToken(redis, key=key, fetch=fetch, lock_timeout=300).get()
    assert 0 < seen[0] <= LOCK_SECONDS * 1000


def test_a_refresh_slower_than_its_lock_keeps_it_renewed(redis):
    """Others keep waiting while the holder lives, then reuse its token: one fetch."""
    key = "test:slow-token"
    fetched = []

    def slow_fetch() -> Grant:
        fetched.append(threading.current_thread().name)
        time.sleep(1.0)  # more than three lock lifetimes
        return Grant("t" * 64, 3600)

    tokens = [
        SharedToken(redis, key=key, fetch=slow_fetch, lock_timeout=10, lock_seconds=0.3)
        for _ in range(2)
    ]
    first = threading.Thread(target=tokens[0].get, name="first")
    first.start()
    time.sleep(0.2)  # the first holds the lock
    assert tokens[1].get() == "t" * 64
    first.join()
    assert fetched == ["first"]
