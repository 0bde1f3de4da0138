"""Fixtures of the sync tests: an app pointed at a live simulator, and its client."""

from datetime import UTC, datetime

import pytest

from webapp.sync.runs import RunKeeper, run_lock, start_run
from webapp.sync.services import get_account

RATE = 100.0


class FrozenClock:
    """A clock that stands still until moved, so ground truth does not drift mid-test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    """The simulator's clock: noon today, UTC."""
    return FrozenClock()


@pytest.fixture
def fleet_simulator(make_simulator, clock):
    """A 60-SIM simulated fleet on a frozen clock, generous rate, quick writes."""
    return make_simulator(sims=60, seed=11, write_delay=0.1, rps=RATE, now=clock)


@pytest.fixture
def settings(settings, fleet_simulator):
    """Point the app at the simulator; small chunks so a run has several."""
    return settings | fleet_simulator.app_settings(max_rps=RATE) | {"SYNC_CHUNK_SIMS": 25}


@pytest.fixture
def once(app, fleet_simulator, redis):
    """A client of the simulator like the app's, with quick retries to keep tests short."""
    return fleet_simulator.quick_client(redis=redis, max_rps=RATE, retries=4)


@pytest.fixture
def held_run(app, once):
    """A usage run this process works on: it holds the kind's lock and renews it."""
    lock = run_lock("usage")
    assert lock.acquire()
    run = start_run(kind="usage", account_id=get_account().id, lock_token=lock.local.token.decode())
    with RunKeeper(run_id=run.id, kind="usage") as keeper:
        yield run, keeper
