"""Retiring v1: every /v1 request answers 410, counted, while tokens and v2 keep working."""

import pytest
import requests
from click.testing import CliRunner

from simulator.__main__ import cli
from tests.simulator.conftest import request_token

RETIRED = {"message": "API v1 has been retired; use /v2"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/sims"), ("GET", "/v1/sims/x/status"), ("POST", "/v1/sims"), ("GET", "/v1/x")],
)
def test_a_retired_v1_answers_410_to_everything(make_simulator, connect, method, path):
    api = connect(make_simulator(sims=10, v1_retired=True))

    response = api.call(method, path, json=[])

    assert (response.status_code, response.json()) == (410, RETIRED)


def test_tokens_and_v2_keep_working_and_stats_prove_no_v1_call(make_simulator, connect):
    simulator = make_simulator(sims=10, v1_retired=True)
    api = connect(simulator)
    simulator.reset_stats()

    assert request_token(simulator).status_code == 200
    assert api.get("/v2/sims").status_code == 200
    assert simulator.v1_requests() == 0
    api.get("/v1/sims", headers={"Authorization": ""})

    stats = simulator.stats()
    assert (stats["v1_requests"], stats["v2_requests"], stats["token_requests"]) == (1, 1, 1)
    assert stats["by_status"]["410"] == 1


def test_v1_can_be_retired_and_restored_at_run_time(api):
    assert api.get("/v1/sims").status_code == 200

    api.simulator.retire_v1()
    assert api.get("/v1/sims").status_code == 410
    assert api.get("/v2/sims").status_code == 200

    api.simulator.clear_faults()
    assert api.get("/v1/sims").status_code == 200
    api.simulator.retire_v1()
    api.simulator.retire_v1(retired=False)
    assert api.get("/v1/sims").status_code == 200


def test_clearing_faults_keeps_v1_retired_when_the_app_was_started_so(make_simulator, connect):
    api = connect(make_simulator(sims=10, v1_retired=True))

    api.simulator.clear_faults()

    assert api.get("/v1/sims").status_code == 410


def test_v1_retired_must_be_a_boolean(frozen_simulator):
    url = f"{frozen_simulator.root_url}/_sim/faults"

    assert requests.post(url, json={"v1_retired": "yes"}, timeout=10).status_code == 400


def test_serve_has_a_v1_retired_switch():
    result = CliRunner().invoke(cli, ["serve", "--help"])

    assert "--v1-retired" in result.output
