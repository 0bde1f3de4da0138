"""Fixtures of the bulk tests: an app pointed at a live simulator whose inventory is synced."""

import pytest

from webapp.extensions import get_redis
from webapp.onece import OnceClient, RetryPolicy
from webapp.sync.services import run_now
from webapp.tasks import QUEUES, get_queue
from worker import AppWorker

RATE = 50.0


@pytest.fixture
def bulk_simulator(make_simulator):
    """A 300-SIM simulated fleet (seed 5, about 5 % disabled), quick writes."""
    return make_simulator(sims=300, seed=5, write_delay=0.1, rps=RATE)


@pytest.fixture
def settings(settings, bulk_simulator):
    """Point the app at the simulator."""
    settings.update(
        ONCE_API_URL=bulk_simulator.url,
        ONCE_CLIENT_ID=bulk_simulator.client_id,
        ONCE_CLIENT_SECRET=bulk_simulator.client_secret,
        ONCE_MAX_RPS=RATE,
    )
    return settings


@pytest.fixture
def once(app, bulk_simulator, redis):
    """A client of the simulator like the app's, with quick retries to keep tests short."""
    return OnceClient(
        base_url=bulk_simulator.url,
        client_id=bulk_simulator.client_id,
        client_secret=bulk_simulator.client_secret,
        redis=redis,
        max_rps=RATE,
        token_rps=20.0,
        retry=RetryPolicy(retries=2, backoff=0.02, backoff_max=0.1),
    )


@pytest.fixture
def synced(app, once, bulk_simulator):
    """The simulator's inventory, synced into the database; returns the ICCIDs in order."""
    run_now(kind="inventory", client=once)
    return bulk_simulator.fleet.iccids()


def drain_queues() -> None:
    """A real RQ worker (forking a work horse per job) that stops when the queues are empty."""
    AppWorker([get_queue(name) for name in QUEUES], connection=get_redis()).work(burst=True)
