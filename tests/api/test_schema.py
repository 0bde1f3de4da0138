"""Schemathesis drives the live API from its own OpenAPI document: no 5xx, responses conform."""

import subprocess
import sys
from pathlib import Path

import pytest

ST = Path(sys.executable).with_name("st")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
    ]
)


@pytest.fixture
def live_server(make_fleet, live_url):
    """The app with 300 SIMs and 20 days of usage, served over HTTP from a thread."""
    make_fleet(sims=300, usage_days=20)
    return live_url


@pytest.mark.parametrize("scope", ["read", "write"])
def test_the_api_conforms_to_its_openapi_document(live_server, keys, scope, tmp_path):
    # With a write key and no 1NCE account, a valid write to a known SIM is a documented 503,
    # so writes are driven with the read key (403) and only reads with the write key.
    operations = ["--include-method", "GET"] if scope == "write" else []
    result = subprocess.run(
        [
            str(ST),
            "run",
            f"{live_server}/api/v1/openapi.json",
            "--header",
            f"Authorization: {keys[scope]['Authorization']}",
            "--checks",
            CHECKS,
            "--max-examples",
            "10",
            "--max-time",
            "20",
            "--seed",
            "1",
            # One worker: CPython 3.11's ast module is not thread-safe ("AST constructor
            # recursion depth mismatch" inside schemathesis with two worker threads).
            "--workers",
            "1",
            "--generation-allow-x00",
            "false",
            "--report-dir",
            str(tmp_path),
            *operations,
        ],
        cwd=tmp_path,  # st keeps a cache directory in its working directory
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
