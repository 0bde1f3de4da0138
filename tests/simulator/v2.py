"""Helpers of the v2 simulator tests: picking SIMs from the ground truth, the v2 error body."""

from collections.abc import Callable

import requests

from tests.simulator.shapes import assert_matches

UNKNOWN_ICCID = "8988228066600000000"


def pick(fleet, predicate: Callable[[str], bool]) -> str:
    """The first ICCID of the fleet for which `predicate(iccid)` holds."""
    return next(iccid for iccid in fleet.iccids() if predicate(iccid))


def assert_v2_error(response: requests.Response, status: int, token: str) -> dict:
    """Assert a v2 error answer (status, body shape, token); returns its body."""
    assert response.status_code == status
    body = response.json()
    assert_matches(body, "v2_error")
    assert (body["error_code"], body["error_token"]) == (1000, token)
    return body
