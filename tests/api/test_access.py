"""Every route x every kind of key: 401 without a usable key, 403 for read keys on writes."""

import pytest

from devtools.generate_fleet import first_iccid

ICCID = first_iccid()
READS = [
    "/api/v1/sims",
    f"/api/v1/sims/{ICCID}",
    f"/api/v1/sims/{ICCID}/usage",
    f"/api/v1/sims/{ICCID}/events",
    "/api/v1/fleet/summary",
    "/api/v1/fleet/usage",
]
WRITES = [
    ("PATCH", f"/api/v1/sims/{ICCID}", {"label": "x"}),
    ("POST", f"/api/v1/sims/{ICCID}/reset", None),
    ("POST", f"/api/v1/sims/{ICCID}/topup", None),
    ("POST", f"/api/v1/sims/{ICCID}/sms", {"payload": "hi"}),
]


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize(
    ("kind", "status"),
    [("none", 401), ("revoked", 401), ("expired", 401), ("read", 200), ("write", 200)],
)
def test_read_routes(client, fleet, keys, path, kind, status):
    response = client.get(path, headers=keys[kind])
    assert response.status_code == status, response.text
    if status == 401:
        assert response.content_type == "application/problem+json"
        assert response.json["type"] == "urn:simfleet:problem:unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize(
    ("kind", "status"),
    # A write key gets past authentication; without a 1NCE account configured, 1NCE is 503.
    [("none", 401), ("revoked", 401), ("expired", 401), ("read", 403), ("write", 503)],
)
def test_write_routes(client, fleet, keys, method, path, body, kind, status):
    response = client.open(path, method=method, json=body, headers=keys[kind], csrf=False)
    assert response.status_code == status, response.text
    assert response.content_type == "application/problem+json"


def test_x_api_key_header_is_accepted(client, fleet, keys):
    key = keys["read"]["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/v1/sims", headers={"X-API-Key": key}).status_code == 200


@pytest.mark.parametrize(
    "value", ["Bearer sf_nope_nope", "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer "]
)
def test_unknown_or_malformed_keys_are_401(client, fleet, value):
    assert client.get("/api/v1/sims", headers={"Authorization": value}).status_code == 401


def test_a_tampered_secret_is_401(client, fleet, keys):
    header = keys["read"]["Authorization"]
    assert (
        client.get("/api/v1/sims", headers={"Authorization": header[:-2] + "xx"}).status_code == 401
    )


def test_a_session_is_not_enough(client, fleet, login):
    login("admin")
    assert client.get("/api/v1/sims").status_code == 401
    assert client.patch(f"/api/v1/sims/{ICCID}", json={"label": "x"}).status_code == 401


def test_openapi_document_needs_no_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"] == "3.1.0"


def test_docs_page_only_when_enabled(client, make_app):
    assert client.get("/api/docs").status_code == 404
    page = make_app(API_DOCS_ENABLED=True).test_client().get("/api/docs")
    assert page.status_code == 200
    assert b"/api/v1/sims/{iccid}/usage" in page.data and b"<script>" not in page.data


def test_docs_page_for_signed_in_users_without_the_flag(client, login):
    login("viewer")
    page = client.get("/api/docs")
    assert page.status_code == 200
    text = page.text
    assert "/api/v1/sims/{iccid}/usage" in text
    # The SIM's fields, as one object and as a list item alike.
    assert "<code>data_quota.remaining_mb</code>" in text
    assert "<code>data</code> in <code>GET /api/v1/sims</code> is the same object" in text


def test_the_api_keys_page_links_to_the_readable_docs(client, login):
    login("admin")
    assert '<a href="/api/docs">JSON API</a>' in client.get("/admin/api-keys").text
