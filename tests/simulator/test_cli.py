"""`python -m simulator serve` runs the simulator with the documented options."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner

from simulator.__main__ import cli

ROOT = Path(__file__).resolve().parents[2]


def test_serve_documents_its_options():
    result = CliRunner().invoke(cli, ["serve", "--help"])

    assert result.exit_code == 0
    for option in ("--host", "--port", "--sims", "--seed", "--client-id", "--client-secret"):
        assert option in result.output
    for default in ("8010", "simfleet-demo", "simfleet-demo-secret", "--rps", "--write-delay"):
        assert default in result.output


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_on_the_given_port_without_simfleet_settings():
    port = free_port()
    # Only the path: no DATABASE_URL, REDIS_URL or SECRET_KEY, as on a bare developer machine.
    env = {"PATH": os.environ.get("PATH", "")}
    command = [sys.executable, "-m", "simulator", "serve"]
    options = ["--port", str(port), "--sims", "30", "--client-id", "me", "--client-secret", "pw"]
    server = subprocess.Popen(
        command + options, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        response = wait_for_token(f"http://127.0.0.1:{port}/management-api", ("me", "pw"))
        sims = requests.get(
            f"http://127.0.0.1:{port}/management-api/v1/sims",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
            timeout=10,
        )
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)

    assert sims.headers["X-Total-Count"] == "30"
    assert f"http://127.0.0.1:{port}/management-api" in log


def test_the_simulator_does_not_load_the_app():
    probe = (
        "import sys, simulator.__main__; print(any(m.startswith('webapp') for m in sys.modules))"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"


def wait_for_token(url: str, credentials: tuple[str, str]) -> requests.Response:
    """Poll the token endpoint until the server is up."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return requests.post(
                f"{url}/oauth/token",
                json={"grant_type": "client_credentials"},
                auth=credentials,
                timeout=2,
            )
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
