"""Past capacity, a request that waited too long for a thread is answered 503 at once."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers import serve_gunicorn
from webapp import load_shedding


@pytest.fixture
def queued_for(monkeypatch):
    """Make the next requests look as if each had waited `seconds` for a thread."""

    def set_wait(seconds: float) -> None:
        monkeypatch.setattr(load_shedding, "queued_seconds", lambda: seconds)

    return set_wait


def test_a_request_that_queued_too_long_is_refused_with_retry_after(client, queued_for, login):
    login("viewer")
    queued_for(11.0)  # the default limit is 10 s
    page = client.get("/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "10"
    assert "more requests than it can" in page.text
    api = client.get("/api/v1/sims", headers={"Accept": "application/json"})
    assert api.status_code == 503
    assert api.content_type == "application/problem+json"
    assert api.json["type"] == "urn:simfleet:problem:unavailable"


def test_a_request_within_the_limit_is_served(client, queued_for, login):
    login("viewer")
    queued_for(9.0)
    assert client.get("/").status_code == 200


@pytest.fixture
def one_thread_gunicorn(app):
    """Gunicorn as configured, with one worker of one thread and a 0.5 s queue limit."""
    settings = {"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1", "WEB_QUEUE_LIMIT_SECONDS": "0.5"}
    with serve_gunicorn(app, **settings) as base:
        yield base


def test_gunicorn_sheds_what_queued_behind_a_busy_thread(one_thread_gunicorn):
    base = one_thread_gunicorn
    # A client that sends its request slowly holds the only thread for 1.5 s.
    slow = socket.create_connection(("127.0.0.1", urlsplit(base).port))
    slow.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        queued = pool.submit(requests.get, f"{base}/login", timeout=10)  # waits its turn
        probe = pool.submit(requests.get, f"{base}/health", timeout=10)
        time.sleep(1.5)
        slow.sendall(b"\r\n")
        assert slow.recv(100).startswith(b"HTTP/1.1 200")
        slow.close()
        assert queued.result().status_code == 503
        assert queued.result().headers["Retry-After"] == "10"
        assert probe.result().status_code == 200  # probes are never shed
    # Once the queue is short again, requests are served.
    assert requests.get(f"{base}/login", timeout=5).status_code == 200
