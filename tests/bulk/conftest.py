"""Fixtures of the bulk tests: an app pointed at a live simulator whose inventory is synced."""

import pytest

from webapp.sync.services import run_now

RATE = 50.0


@pytest.fixture
def bulk_simulator(make_simulator):
    """A 300-SIM simulated fleet (seed 5, about 5 % disabled), quick writes."""
    return make_simulator(sims=300, seed=5, write_delay=0.1, rps=RATE)


@pytest.fixture
def settings(settings, bulk_simulator):
    """Point the app at the simulator."""
    return settings | bulk_simulator.app_settings(max_rps=RATE)


@pytest.fixture
def once(app, bulk_simulator, redis):
    """A client of the simulator like the app's, with quick retries to keep tests short."""
    return bulk_simulator.quick_client(redis=redis, max_rps=RATE)


@pytest.fixture
def synced(app, once, bulk_simulator):
    """The simulator's inventory, synced into the database; returns the ICCIDs in order."""
    run_now(kind="inventory", client=once)
    return bulk_simulator.fleet.iccids()
