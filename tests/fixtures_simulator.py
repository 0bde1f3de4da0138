"""Pytest plugin: the local 1NCE simulator served over real HTTP on a free port."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from simulator import create_simulator_app
from simulator.server import make_simulator_server
from webapp.extensions import db
from webapp.models import ProviderAccount, Sim
from webapp.one_nce import OneNceClient, RetryPolicy


@dataclass
class LiveSimulator:
    """A running simulator: its URLs, app, fleet (ground truth) and control helpers."""

    root_url: str
    app: Flask
    client_id: str
    client_secret: str
    api_version: str
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        """Base URL of the Management API, e.g. http://127.0.0.1:PORT/management-api."""
        return f"{self.root_url}/management-api"

    @property
    def fleet(self) -> Any:
        """The simulator's ground-truth fleet model."""
        return self.app.extensions["fleet"]

    def app_settings(self, *, max_rps: float) -> dict[str, Any]:
        """Settings that point the app's 1NCE client at this simulator."""
        return {
            "ONCE_API_URL": self.url,
            "ONCE_CLIENT_ID": self.client_id,
            "ONCE_CLIENT_SECRET": self.client_secret,
            "ONCE_API_VERSION": self.api_version,
            "ONCE_MAX_RPS": max_rps,
        }

    def quick_client(self, *, redis: Any, max_rps: float, retries: int = 2) -> OneNceClient:
        """A client like the app's, with short retries to keep tests quick."""
        return OneNceClient(
            base_url=self.url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            api_version=self.api_version,
            redis=redis,
            max_rps=max_rps,
            token_rps=20.0,
            retry=RetryPolicy(retries=retries, backoff=0.02, backoff_max=0.1 * retries / 2),
        )

    def token(self) -> str:
        """Fetch a fresh access token with the configured client credentials."""
        response = requests.post(
            f"{self.url}/oauth/token",
            json={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set_faults(self, **faults: Any) -> dict:
        """Enable fault injection (error_rate, slow_ms, v1_retired, v2_usage_shape, ...)."""
        response = requests.post(f"{self.root_url}/_sim/faults", json=faults, timeout=10)
        response.raise_for_status()
        return response.json()

    def clear_faults(self) -> None:
        """Switch all fault injection off."""
        requests.delete(f"{self.root_url}/_sim/faults", timeout=10).raise_for_status()

    def stats(self) -> dict:
        """Request counters of the simulator (requests, by_endpoint, status_429, peak_rps...)."""
        response = requests.get(f"{self.root_url}/_sim/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def reset_stats(self) -> None:
        """Zero the request counters."""
        requests.post(f"{self.root_url}/_sim/stats/reset", timeout=10).raise_for_status()

    def v1_requests(self) -> int:
        """How many /v1 requests reached the simulator since the last stats reset."""
        return self.stats()["v1_requests"]

    def retire_v1(self, retired: bool = True) -> None:
        """Make every /v1 request answer 410 (or serve v1 again with `retired=False`)."""
        self.set_faults(v1_retired=retired)

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def start_simulator(*, api_version: str = "v2", **options: Any) -> LiveSimulator:
    """Serve `create_simulator_app(**options)` on a free local port in a background thread.

    `api_version` is the one its clients speak; on v2, v1 answers 410 unless told otherwise,
    so a test that passes has made no v1 call.
    """
    options.setdefault("v1_retired", api_version == "v2")
    app = create_simulator_app(**options)
    server = make_simulator_server(app)
    # A short poll interval keeps shutdown (and so fixture teardown) quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="1nce-simulator"
    )
    thread.daemon = True
    thread.start()
    return LiveSimulator(
        root_url=f"http://127.0.0.1:{server.server_port}",
        app=app,
        client_id=options.get("client_id", "simfleet-demo"),
        client_secret=options.get("client_secret", "simfleet-demo-secret"),
        api_version=api_version,
        _server=server,
        _thread=thread,
    )


def store_first_sim(simulator: LiveSimulator, **columns: Any) -> str:
    """Copy the simulator's first SIM into the database, as the inventory sync would.

    Enabled, under an account of the simulator; `columns` set more. Returns its ICCID.
    """
    account = ProviderAccount(name="sim", api_url=simulator.url, client_id=simulator.client_id)
    db.session.add(account)
    db.session.flush()
    iccid = simulator.fleet.iccids()[0]
    db.session.add(Sim(iccid=iccid, account_id=account.id, status="Enabled", **columns))
    db.session.commit()
    return iccid


@pytest.fixture
def api_version() -> str:
    """The 1NCE API version the app and the simulator's clients speak: v2, the default.

    Parametrize it to run a test on v1: `@pytest.mark.parametrize("api_version", ["v1"])`.
    """
    return "v2"


@pytest.fixture
def make_simulator(api_version) -> Iterator[Callable[..., LiveSimulator]]:
    """Factory: start simulators with `create_simulator_app` options; all stop at teardown.

    They serve `api_version`'s clients; on v2 v1 is retired (`v1_retired=False` keeps it).
    """
    started: list[LiveSimulator] = []

    def make(**options: Any) -> LiveSimulator:
        simulator = start_simulator(api_version=api_version, **options)
        started.append(simulator)
        return simulator

    yield make
    for simulator in started:
        simulator.stop()


@pytest.fixture
def live_simulator(make_simulator) -> LiveSimulator:
    """A small simulated fleet (200 SIMs, seed 7) with quick async writes (0.2 s)."""
    return make_simulator(sims=200, seed=7, write_delay=0.2)
