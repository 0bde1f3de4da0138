"""Per-key rate limits: standard headers, and 429 problems with Retry-After."""

import time

import pytest

from devtools.generate_fleet import first_iccid


@pytest.fixture
def settings(settings):
    """Rate limits on, and small."""
    settings.update(
        RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute", API_WRITE_RATE_LIMIT="1 per minute"
    )
    return settings


def test_reads_are_limited_per_key(client, fleet, keys):
    for _ in range(3):
        response = client.get("/api/v1/sims", headers=keys["read"])
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
    limited = client.get(f"/api/v1/sims/{first_iccid()}", headers=keys["read"])
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert limited.json["type"] == "urn:simfleet:problem:rate-limited"
    assert int(limited.headers["Retry-After"]) > 0
    # Another key has its own budget.
    assert client.get("/api/v1/sims", headers=keys["write"]).status_code == 200


def test_writes_have_their_own_tighter_limit(client, fleet, keys):
    path = f"/api/v1/sims/{first_iccid()}/reset"
    assert client.post(path, headers=keys["write"]).status_code == 503  # no 1NCE account
    limited = client.post(path, headers=keys["write"])
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_headers_count_down_within_the_window(client, fleet, keys):
    responses = [client.get("/api/v1/sims", headers=keys["read"]) for _ in range(2)]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1"]
    assert time.time() < int(responses[1].headers["X-RateLimit-Reset"]) <= time.time() + 61
    assert "Retry-After" not in responses[1].headers


def test_write_routes_report_the_tighter_write_limit(client, fleet, keys):
    response = client.post(f"/api/v1/sims/{first_iccid()}/reset", headers=keys["write"])
    assert response.headers["X-RateLimit-Limit"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_requests_without_a_usable_key_are_limited_per_address(client, fleet, keys):
    for _ in range(3):
        assert client.get("/api/v1/sims", headers=keys["revoked"]).status_code == 401
    assert client.get("/api/v1/sims").status_code == 429
    # A usable key is not held back by its address.
    assert client.get("/api/v1/sims", headers=keys["read"]).status_code == 200


def test_no_rate_limit_headers_when_limits_are_off(make_app, fleet, keys):
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    response = client.get("/api/v1/sims", headers=keys["read"])
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers
