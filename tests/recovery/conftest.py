"""Fixtures of the recovery tests: real worker and scheduler processes against a simulator.

They shorten retry delays and locks (see `support.py`), so each test takes seconds.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.helpers import process_env
from tests.recovery.support import LOCK_SECONDS, RATE, SCALE, kill
from webapp.sync.services import run_now

# The scheduler enqueues no sync on its own here: the tests start the runs they need.
NO_PERIODIC_SYNC = {
    f"SYNC_{kind}_MINUTES": "0"
    for kind in ("INVENTORY", "USAGE", "QUOTAS", "EVENTS", "CONNECTIVITY")
}


@pytest.fixture
def recovery_simulator(make_simulator):
    """A 60-SIM simulated fleet with a generous rate and quick writes."""
    return make_simulator(sims=60, seed=11, write_delay=0.1, rps=RATE)


@pytest.fixture
def settings(settings, recovery_simulator):
    """Point the app at the simulator; short retries and locks unless PRODUCTION."""
    return (
        settings
        | recovery_simulator.app_settings(max_rps=RATE)
        | {"SYNC_CHUNK_SIMS": 10, "JOB_RETRY_SCALE": SCALE, "RUN_LOCK_SECONDS": LOCK_SECONDS}
    )


@pytest.fixture
def once(app, recovery_simulator, redis):
    """A client of the simulator like the app's, with quick retries."""
    return recovery_simulator.quick_client(redis=redis, max_rps=RATE, retries=4)


@pytest.fixture
def synced(app, once):
    """The simulator's inventory, synced into the database."""
    run_now(kind="inventory", client=once)


@pytest.fixture
def start_process(app) -> Iterator[Callable[..., subprocess.Popen]]:
    """Factory: `python -m <module>` configured like `app`, in its own process group.

    Every process still alive is stopped (SIGTERM, then SIGKILL) at teardown.
    """
    started: list[subprocess.Popen] = []

    def start(module: str, **extra: str) -> subprocess.Popen:
        env = process_env(
            app,
            JOB_RETRY_SCALE=str(SCALE),
            RUN_LOCK_SECONDS=str(LOCK_SECONDS),
            **NO_PERIODIC_SYNC,
            **extra,
        )
        process = subprocess.Popen([sys.executable, "-m", module], env=env, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process)
