"""Fixtures for the simulator tests: a frozen-clock simulator and an authenticated client."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests

from tests.fixtures_simulator import LiveSimulator

FROZEN_NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@dataclass
class Api:
    """HTTP calls against a simulator's Management API with a bearer token."""

    simulator: LiveSimulator
    session: requests.Session

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        """One request to `<url><path>`."""
        return self.session.request(method, self.simulator.url + path, timeout=10, **kwargs)

    def renew_token(self) -> None:
        """Fetch a new token (after moving the clock past the old one's expiry)."""
        self.session.headers["Authorization"] = f"Bearer {self.simulator.token()}"

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET `<url><path>`."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        """POST `<url><path>`."""
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        """PUT `<url><path>`."""
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """DELETE `<url><path>`."""
        return self.call("DELETE", path, **kwargs)


def request_token(simulator: LiveSimulator, **kwargs) -> requests.Response:
    """POST the token endpoint; by default with the right credentials and a JSON body."""
    kwargs.setdefault("auth", (simulator.client_id, simulator.client_secret))
    if "data" not in kwargs:
        kwargs.setdefault("json", {"grant_type": "client_credentials"})
    return requests.post(f"{simulator.url}/oauth/token", timeout=10, **kwargs)


def authenticated(simulator: LiveSimulator) -> Api:
    """A client holding a fresh token for the simulator."""
    client = Api(simulator, requests.Session())
    client.renew_token()
    return client


@pytest.fixture
def api_version() -> str:
    """v1: these tests call v1 and v2 alike."""
    return "v1"


@pytest.fixture
def connect():
    """Factory: an authenticated client for a simulator; sessions close at teardown."""
    clients: list[Api] = []

    def make(simulator: LiveSimulator) -> Api:
        client = authenticated(simulator)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.session.close()


@pytest.fixture
def frozen_simulator(make_simulator) -> LiveSimulator:
    """300 SIMs (seed 11) on a clock that stands still until the test advances it; no rate limit."""
    return make_simulator(sims=300, seed=11, rps=0, write_delay=2.0, now=lambda: FROZEN_NOW)


@pytest.fixture
def api(frozen_simulator, connect) -> Api:
    """An authenticated client of the frozen simulator."""
    return connect(frozen_simulator)
