"""Metrics under Gunicorn with several workers add up across the workers (multiprocess mode)."""

import re

import pytest
import requests

from tests.helpers import serve_gunicorn


@pytest.fixture
def gunicorn(app, tmp_path):
    """Gunicorn with three workers serving the test app's settings."""
    with serve_gunicorn(app, WEB_CONCURRENCY="3", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) as base:
        yield base


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


def test_pool_gauges_show_the_busiest_worker_against_its_pool(gunicorn):
    for _ in range(10):
        requests.get(f"{gunicorn}/health/ready", timeout=10).raise_for_status()
    body = requests.get(f"{gunicorn}/metrics", timeout=10).text
    gauges = dict(re.findall(r"^(simfleet_db_pool_\w+) ([0-9.]+)$", body, re.MULTILINE))
    # Defaults: pool of 5 plus 10 overflow; a readiness check holds one connection at a time.
    assert float(gauges["simfleet_db_pool_capacity"]) == 15
    assert 1 <= float(gauges["simfleet_db_pool_peak_in_use"]) <= 2
    assert float(gauges["simfleet_db_pool_in_use"]) <= 1  # /metrics itself may hold one
