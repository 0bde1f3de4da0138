"""`flask simulator serve` runs the simulator with the documented options."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from flask import Flask

from webapp.simulator.cli import simulator_cli

ROOT = Path(__file__).resolve().parents[2]


def test_serve_documents_its_options():
    app = Flask("cli-test")
    app.cli.add_command(simulator_cli)

    result = app.test_cli_runner().invoke(args=["simulator", "serve", "--help"])

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


def test_serve_answers_on_the_given_port(tmp_path):
    (tmp_path / "cli_app.py").write_text(
        "from flask import Flask\n"
        "from webapp.simulator.cli import simulator_cli\n"
        "app = Flask(__name__)\n"
        "app.cli.add_command(simulator_cli)\n"
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    command = [sys.executable, "-m", "flask", "--app", "cli_app", "simulator", "serve"]
    options = ["--port", str(port), "--sims", "30", "--client-id", "me", "--client-secret", "pw"]
    server = subprocess.Popen(
        command + options, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
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
