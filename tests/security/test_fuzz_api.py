"""Schemathesis fuzzes the whole API with a write key, against the 1NCE simulator.

With a 1NCE account behind it, a valid write is accepted (202) instead of the 503 of an app
without one, so the write path runs to the end: validation, the action service, the 1NCE
client, the audit log. Path ICCIDs are the SIM the simulator knows most of the time (a
schemathesis dictionary), anything the schema allows otherwise. `tests/api/test_schema.py`
runs the same checks with a read key (writes refused).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fixtures_simulator import store_first_sim
from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.models import AuditEvent

ST = Path(sys.executable).with_name("st")
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance,negative_data_rejection"
)
WRITE_AUDITS = {"api.sim.update", "api.sim.reset", "api.sim.topup", "api.sim.sms"}


@pytest.fixture
def simulator(make_simulator):
    """A small simulated fleet that applies writes quickly."""
    return make_simulator(sims=20, seed=7, write_delay=0.05)


@pytest.fixture
def settings(settings, simulator):
    """The app's 1NCE client on the simulator, unthrottled."""
    return {**settings, **simulator.app_settings(max_rps=1000)}


def test_the_api_with_a_write_key_conforms_and_accepts_valid_writes(
    app, simulator, live_url, tmp_path
):
    iccid = store_first_sim(simulator)
    _, key = create_api_key(name="fuzzer", scope="write")
    db.session.commit()
    # st reads schemathesis.toml from its working directory.
    (tmp_path / "schemathesis.toml").write_text(
        f"[dictionaries.iccids]\nvalues = [{json.dumps(iccid)}]\n\n"
        '[parameters]\n"path.iccid" = { dictionary = "iccids", probability = 0.8 }\n'
    )
    result = subprocess.run(
        [
            str(ST),
            "run",
            f"{live_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            CHECKS,
            "--max-examples",
            "15",
            "--max-time",
            "30",
            "--seed",
            "1",
            "--generation-deterministic",
            "--workers",
            "1",  # CPython 3.11's ast module is not thread-safe (see tests/api/test_schema.py)
            "--generation-allow-x00",
            "false",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    db.session.rollback()
    accepted = set(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.details["outcome"].as_string() == "accepted")
            .distinct()
        )
    )
    assert accepted >= WRITE_AUDITS, f"writes never accepted: {WRITE_AUDITS - accepted}"
