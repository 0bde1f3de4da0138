"""Metrics under Gunicorn with several workers add up across the workers (multiprocess mode)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devtools.devstack import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gunicorn(app, tmp_path):
    """Gunicorn with three workers serving the test app's settings."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    gunicorn_bin = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn_bin), "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/health", timeout=5)
            break
        except requests.RequestException:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)


def test_request_counts_add_up_across_workers(gunicorn):
    for _ in range(30):
        # A new connection each time spreads the requests over the workers.
        requests.get(f"{gunicorn}/login", timeout=10).raise_for_status()
    body = requests.get(f"{gunicorn}/metrics", timeout=10).text
    match = re.search(
        r'simfleet_http_request_duration_seconds_count\{method="GET",route="/login",'
        r'status="200"\} ([0-9.]+)',
        body,
    )
    assert match and float(match.group(1)) == 30
