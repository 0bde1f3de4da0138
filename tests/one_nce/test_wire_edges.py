"""Answers the simulator does not give, from a scripted local HTTP server."""

import json
import time
from collections import defaultdict, deque
from types import SimpleNamespace

import pytest
from flask import Flask, Response

from tests.helpers import serve_app
from webapp.one_nce import (
    OneNceAuthError,
    OneNceMalformedResponse,
    OneNceNotFound,
    OneNceRejected,
    OneNceUnavailable,
    RetryPolicy,
)

ICCID = "8988228066602306770"
TOKEN_BODY = {"access_token": "t" * 64, "token_type": "bearer", "expires_in": 3600}


class ScriptedServer:
    """Answers each path from a queue of (status, body, headers); records every hit."""

    def __init__(self) -> None:
        self.script: dict[str, deque] = defaultdict(deque)
        self.hits: list[tuple[str, float]] = []
        app = Flask("scripted")
        app.add_url_rule("/<path:path>", view_func=self.answer, methods=["GET", "POST", "PUT"])
        self._served = serve_app(app)
        self.url = f"{self._served.url}/management-api"

    def add(self, path: str, status: int, body, headers: dict | None = None) -> None:
        """Queue one answer for `path` (the last one repeats)."""
        text = body if isinstance(body, str) else json.dumps(body)
        self.script[path].append((status, text, headers or {"Content-Type": "application/json"}))

    def answer(self, path: str) -> Response:
        """Serve the next scripted answer for the requested path."""
        full = "/" + path
        self.hits.append((full, time.monotonic()))
        if full == "/management-api/oauth/token" and not self.script[full]:
            return Response(json.dumps(TOKEN_BODY), 200, {"Content-Type": "application/json"})
        queue = self.script[full]
        status, text, headers = queue.popleft() if len(queue) > 1 else queue[0]
        return Response(text, status, headers)

    def count(self, path: str) -> int:
        """How often `path` was requested."""
        return sum(1 for hit, _ in self.hits if hit == path)

    def stop(self) -> None:
        """Shut the server down."""
        self._served.stop()


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture
def edge_api(make_client, server):
    target = SimpleNamespace(
        url=server.url, client_id="edge-client", client_secret="edge-secret-value"
    )
    return make_client(target)


SIM_PATH = f"/management-api/v1/sims/{ICCID}"


def test_html_with_status_200_is_malformed(edge_api, server):
    server.add(SIM_PATH, 200, "<html>maintenance</html>", {"Content-Type": "text/html"})
    with pytest.raises(OneNceMalformedResponse) as caught:
        edge_api.get_sim(ICCID)
    assert caught.value.status == 200 and "text/html" in str(caught.value)


def test_a_list_that_is_not_a_list_is_malformed(edge_api, server):
    server.add("/management-api/v1/sims", 200, {"sims": []})
    with pytest.raises(OneNceMalformedResponse, match="expected a list"):
        next(edge_api.list_sims())


def test_a_bad_sim_in_a_page_is_rejected_and_the_rest_is_kept(edge_api, server):
    good = {"iccid": ICCID, "status": "Enabled"}
    bad = {"iccid": "8988228066602306771", "current_quota": "lots"}
    server.add("/management-api/v1/sims", 200, [good, bad], {"X-Total-Pages": "1"})
    page = next(edge_api.list_sims())
    assert [sim.iccid for sim in page.records] == [ICCID]
    assert page.rejects[0].iccid == "8988228066602306771"
    assert "current_quota" in page.rejects[0].error


def test_a_half_valid_record_is_never_returned(edge_api, server):
    server.add(SIM_PATH, 200, {"iccid": ICCID, "activation_date": "yesterday-ish"})
    with pytest.raises(OneNceMalformedResponse, match="activation_date") as caught:
        edge_api.get_sim(ICCID)
    assert caught.value.endpoint == "GET /v1/sims/{iccid}"


def test_events_stop_before_a_known_event_id(edge_api, server):
    events = [
        {
            "id": str(number),
            "timestamp": f"2026-03-02T12:00:0{number}Z",
            "event_type": "Update location",
        }
        for number in (9, 8, 7, 6, 5)
    ]
    path = f"/management-api/v1/sims/{ICCID}/events"
    server.add(path, 200, events[:2], {"X-Total-Pages": "3"})
    server.add(path, 200, events[2:4], {"X-Total-Pages": "3"})
    newer = [
        event.id
        for page in edge_api.list_events(ICCID, after_id="7", page_size=2)
        for event in page.records
    ]
    assert newer == ["9", "8"]
    assert server.count(path) == 2


def test_retry_after_holds_the_next_attempt_back(edge_api, server):
    server.add(SIM_PATH, 429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
    server.add(SIM_PATH, 200, {"iccid": ICCID})
    assert edge_api.get_sim(ICCID).iccid == ICCID
    first, second = [moment for path, moment in server.hits if path == SIM_PATH]
    assert second - first >= 0.95


def test_a_token_still_rejected_after_renewal_is_an_auth_error(edge_api, server):
    body = {"status": 401, "error": "Unauthorized", "message": "The token is invalid: " + "x" * 60}
    server.add(SIM_PATH, 401, body)
    with pytest.raises(OneNceAuthError) as caught:
        edge_api.get_sim(ICCID)
    assert server.count("/management-api/oauth/token") == 2
    assert server.count(SIM_PATH) == 2
    assert "x" * 60 not in str(caught.value)


def test_token_endpoint_errors_name_the_error_code(edge_api, server):
    token_error = {
        "statusCode": 400,
        "errorCode": "BadCredentials",
        "message": "User does not exist.",
    }
    server.add("/management-api/oauth/token", 400, token_error)
    with pytest.raises(OneNceAuthError, match="BadCredentials: User does not exist") as caught:
        edge_api.get_sim(ICCID)
    assert "edge-secret-value" not in str(caught.value)


def test_a_404_is_not_found_unless_its_error_token_says_otherwise(edge_api, server):
    v2_error = {"error_code": 1000, "error_token": "BadRequest", "message": "Invalid ICCID"}
    server.add(SIM_PATH, 404, v2_error)
    with pytest.raises(OneNceRejected, match="BadRequest: Invalid ICCID") as caught:
        edge_api.get_sim(ICCID)
    assert not isinstance(caught.value, OneNceNotFound)
    assert caught.value.error_token == "BadRequest"


def test_no_server_is_unavailable(make_client, server):
    url = server.url
    server.stop()
    target = SimpleNamespace(url=url, client_id="edge", client_secret="edge-secret")
    api = make_client(target, retry=RetryPolicy(retries=1, backoff=0.01))
    with pytest.raises(OneNceUnavailable, match="no connection"):
        api.get_sim(ICCID)
