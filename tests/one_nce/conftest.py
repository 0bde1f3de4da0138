"""Fixtures of the 1NCE client tests: clients bound to a simulator, and a separate worker."""

import json
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.one_nce.v2_server import V2Server
from webapp.one_nce import OneNceClient, RetryPolicy

# Quick retries keep failure tests short; the policy's shape is the production one.
FAST_RETRY = RetryPolicy(retries=4, backoff=0.02, backoff_max=0.2)
# A high rate on both sides keeps the suite quick; the pacing is the same at any rate.
RATE = 50.0


@pytest.fixture
def api_version() -> str:
    """v1: the simulator serves v1 too: these tests check v1's wire quirks."""
    return "v1"


@pytest.fixture
def make_client(redis) -> Callable[..., OneNceClient]:
    """Factory: a v1 client for a simulator (fast retries, generous rate unless told otherwise).

    v1 unless told otherwise: these tests check v1's wire quirks against the simulator; v2's
    contract is checked against the v2 reference server (`v2_api`).
    """

    def make(simulator, **options) -> OneNceClient:
        settings = {
            "api_version": "v1",
            "base_url": simulator.url,
            "client_id": simulator.client_id,
            "client_secret": simulator.client_secret,
            "redis": redis,
            "max_rps": RATE,
            "token_rps": 20.0,
            "catalog_rps": 20.0,
            "retry": FAST_RETRY,
        } | options
        return OneNceClient(**settings)

    return make


@pytest.fixture
def simulator(make_simulator):
    """A small simulated fleet (200 SIMs) limited to RATE calls per second, quick writes."""
    return make_simulator(sims=200, seed=7, write_delay=0.2, rps=RATE)


@pytest.fixture
def api(make_client, simulator) -> OneNceClient:
    """A client of the small simulator."""
    return make_client(simulator)


@pytest.fixture
def v2_server() -> Iterator[V2Server]:
    """A local server answering as the v2 reference describes; it records every request."""
    server = V2Server()
    yield server
    server.stop()


@pytest.fixture
def v2_api(make_client, v2_server) -> OneNceClient:
    """A v2 client of the v2 reference server."""
    return make_client(v2_server, api_version="v2")


class Worker:
    """A started `tests.one_nce.worker` process, waiting for `go()`."""

    def __init__(self, *args: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.one_nce.worker", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout.readline().strip() == "ready"

    def go(self) -> None:
        """Let the worker start its calls."""
        self._process.stdin.write("go\n")
        self._process.stdin.flush()

    def result(self, timeout: float = 60) -> list:
        """Wait for the worker and return what it printed."""
        out, _ = self._process.communicate(timeout=timeout)
        assert self._process.returncode == 0
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        """Stop the worker if it still runs."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


@pytest.fixture
def start_worker() -> Iterator[Callable[..., Worker]]:
    """Factory: start worker processes; any still running are killed at teardown."""
    workers: list[Worker] = []

    def start(*args) -> Worker:
        worker = Worker(*(str(arg) for arg in args))
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()
