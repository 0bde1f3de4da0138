"""Token endpoint errors (400, camelCase), bearer checks (401) and token expiry."""

import pytest
import requests

from tests.simulator.conftest import FROZEN_NOW, request_token
from tests.simulator.shapes import assert_matches


def test_form_encoded_token_requests_work_too(frozen_simulator):
    response = request_token(frozen_simulator, data={"grant_type": "client_credentials"})

    assert response.status_code == 200
    assert_matches(response.json(), "token")


@pytest.mark.parametrize(
    ("kwargs", "error_code", "message"),
    [
        ({"auth": ("nobody", "x")}, "BadCredentials", "User does not exist."),
        ({"auth": ("simfleet-demo", "wrong")}, "BadCredentials", "Incorrect username or password."),
        ({"auth": None}, "AuthValidationError", "Missing attributes 'username'"),
        ({"json": {}}, "BodyValidationError", "Missing attributes 'grant_type'"),
        (
            {"data": "grant_type=client_credentials", "headers": {"Content-Type": "text/plain"}},
            "UnsupportedContentTypeError",
            "Content-Type not supported",
        ),
    ],
)
def test_token_errors_are_400_with_camel_case_keys(frozen_simulator, kwargs, error_code, message):
    response = request_token(frozen_simulator, **kwargs)

    assert response.status_code == 400
    assert_matches(response.json(), "token_error")
    assert response.json()["errorCode"] == error_code
    assert message in response.json()["message"]


def test_bad_bearer_token_is_a_spring_401(frozen_simulator):
    response = requests.get(
        f"{frozen_simulator.url}/v1/sims", headers={"Authorization": "Bearer nope"}, timeout=10
    )

    assert response.status_code == 401
    assert_matches(response.json(), "unauthorized")
    assert response.json()["path"] == "/internal-global-api/v1/sims"


def test_missing_authorization_is_a_401_with_an_empty_body(frozen_simulator):
    response = requests.get(f"{frozen_simulator.url}/v1/sims", timeout=10)

    assert response.status_code == 401
    assert response.content == b""


def test_tokens_expire_after_their_ttl(make_simulator, connect):
    simulator = make_simulator(sims=5, token_ttl=60, now=lambda: FROZEN_NOW)
    api = connect(simulator)
    assert api.get("/v1/sims").status_code == 200

    simulator.fleet.controls.advance_clock(61)

    expired = api.get("/v1/sims")
    assert expired.status_code == 401
    assert expired.json()["message"] == "The token is expired"
    assert connect(simulator).get("/v1/sims").status_code == 200
