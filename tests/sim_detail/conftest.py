"""Fixtures of the SIM detail tests: a live simulator the app's 1NCE client points at."""

import pytest

from tests.fixtures_simulator import store_first_sim

RATE = 100.0


@pytest.fixture
def simulator(make_simulator):
    """A small simulated fleet whose writes apply 0.2 s after they are accepted."""
    return make_simulator(sims=5, seed=3, write_delay=0.2, rps=RATE)


@pytest.fixture
def settings(settings, simulator):
    """Point the app's 1NCE client at the simulator."""
    return settings | simulator.app_settings(max_rps=RATE)


@pytest.fixture
def iccid(app, simulator):
    """A SIM the simulator knows, copied into the database as the inventory sync would."""
    return store_first_sim(simulator, label="pump")
