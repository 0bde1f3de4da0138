"""Request bodies are bounded: 413 for anything larger, decided before the body is read."""

import io
import json

import pytest

from tests.test_access import ICCID

MEGABYTE = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


def test_the_limits_are_configured(app):
    assert app.config["MAX_CONTENT_LENGTH"] == MEGABYTE
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 64 * 1024
    assert app.config["MAX_FORM_PARTS"] == 1000


def test_an_oversized_sign_in_form_is_refused(client):
    body = b"email=a%40example.com&password=" + b"x" * (2 * MEGABYTE)
    response = client.post("/login", data=body, content_type=FORM)
    assert response.status_code == 413


def test_a_form_just_under_the_limit_is_read(client):
    body = b"email=a%40example.com&password=" + b"x" * (MEGABYTE - 100)
    response = client.post("/login", data=body, content_type=FORM)
    assert response.status_code != 413


def test_the_declared_length_is_refused_before_the_body_is_read(client):
    # 150 MB announced, 20 bytes sent: reading would find the body cut short (400); the
    # refusal comes from Content-Length alone.
    response = client.post(
        "/login",
        input_stream=io.BytesIO(b"email=a%40example.com"),
        content_type=FORM,
        environ_overrides={"CONTENT_LENGTH": str(150 * MEGABYTE)},
    )
    assert response.status_code == 413


def test_a_streamed_body_without_a_length_stops_at_the_limit(client):
    # As a server passes a chunked body on: no Content-Length, the stream ends by itself.
    stream = io.BytesIO(b"email=a%40example.com&password=" + b"x" * (2 * MEGABYTE))
    response = client.post(
        "/login",
        input_stream=stream,
        content_type=FORM,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert stream.tell() <= MEGABYTE + 64 * 1024  # read no further than the limit (and a chunk)


@pytest.mark.parametrize(
    "data",
    [
        {"email": "a@example.com", "password": "x" * (65 * 1024)},
        {f"field{n}": "x" for n in range(1001)},
    ],
    ids=["text-part-over-64k", "over-1000-parts"],
)
def test_multipart_forms_are_bounded(client, data):
    response = client.post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


def test_an_oversized_api_body_is_a_problem(client, attacker):
    body = json.dumps({"label": "x" * (2 * MEGABYTE)})
    response = client.patch(
        f"/api/v1/sims/{ICCID}", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:simfleet:problem:too-large"


def test_an_oversized_page_form_gets_the_error_page(attacker):
    response = attacker.post("/sims/views", data={"name": "v", "query": "x" * (2 * MEGABYTE)})
    assert response.status_code == 413
    assert "text/html" in response.content_type
