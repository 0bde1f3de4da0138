"""Write routes against a live simulator: 202 with the pending change, audited, applied later."""

import pytest
import sqlalchemy as sa

from tests.fixtures_simulator import store_first_sim
from tests.helpers import UNKNOWN_ICCID, eventually
from webapp.extensions import db
from webapp.models import AuditEvent

RATE = 100.0


@pytest.fixture
def simulator(make_simulator):
    """A small simulated fleet whose writes apply 0.2 s after they are accepted."""
    return make_simulator(sims=5, seed=3, write_delay=0.2, rps=RATE)


@pytest.fixture
def settings(settings, simulator):
    """Point the app's 1NCE client at the simulator."""
    return settings | simulator.app_settings(max_rps=RATE)


@pytest.fixture
def iccid(app, simulator):
    """A SIM the simulator knows, copied into the database as the sync would."""
    return store_first_sim(simulator)


NOT_APPLIED = "the change never reached the simulator"


def test_a_write_key_disables_a_sim(client, keys, iccid, simulator):
    response = client.patch(
        f"/api/v1/sims/{iccid}",
        json={"status": "Disabled", "label": "pump 7"},
        headers=keys["write"],
    )
    assert response.status_code == 202, response.text
    body = response.json
    assert body["state"] == "pending" and body["action"] == "update"
    assert body["pending"] == {"status": "Disabled", "label": "pump 7"}
    assert body["requested_by"].startswith("api key writer (")
    eventually(lambda: simulator.fleet.sim(iccid).status == "Disabled", message=NOT_APPLIED)
    assert simulator.fleet.sim(iccid).label == "pump 7"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api.sim.update"))
    assert event.target == iccid and event.actor.startswith("api key writer")
    assert event.details["outcome"] == "accepted"
    assert event.details["changes"] == {
        "status": {"before": "Enabled", "after": "Disabled"},
        "label": {"before": None, "after": "pump 7"},
    }


def test_imei_lock(client, keys, iccid, simulator):
    response = client.patch(
        f"/api/v1/sims/{iccid}", json={"imei_lock": True}, headers=keys["write"]
    )
    assert response.status_code == 202
    eventually(lambda: simulator.fleet.sim(iccid).imei_lock is True, message=NOT_APPLIED)


@pytest.mark.parametrize(
    ("action", "body", "result"),
    [("reset", None, None), ("topup", {"payment_method": "banktransfer"}, "order_number"),
     ("sms", {"payload": "ping"}, "sms_id")],
)  # fmt: skip
def test_actions_answer_202_and_are_audited(client, keys, iccid, action, body, result):
    response = client.post(f"/api/v1/sims/{iccid}/{action}", json=body, headers=keys["write"])
    assert response.status_code == 202, response.text
    assert response.json["action"] == action
    if result:
        assert result in response.json
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == f"api.sim.{action}"))
    assert event.details["outcome"] == "accepted"
    assert "ping" not in str(event.details)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "", {}, "body"),
        ("PATCH", "", {"status": "Paused"}, "status"),
        ("PATCH", "", {"label": 7}, "label"),
        ("PATCH", "", {"label": "x" * 256}, "label"),
        ("PATCH", "", {"imei_lock": "yes"}, "imei_lock"),
        ("PATCH", "", {"iccid": "1"}, "iccid"),
        ("PATCH", "", ["status"], "body"),
        ("POST", "/sms", {}, "payload"),
        ("POST", "/sms", {"payload": ""}, "payload"),
        ("POST", "/topup", {"payment_method": "cash"}, "payment_method"),
    ],
)
def test_validation_errors_are_422_naming_the_field(client, keys, iccid, method, path, body, field):
    response = client.open(
        f"/api/v1/sims/{iccid}{path}", method=method, json=body, headers=keys["write"]
    )
    assert response.status_code == 422, response.text
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == field
    assert response.json["type"] == "urn:simfleet:problem:validation-error"


def test_invalid_json_is_400(client, keys, iccid):
    response = client.patch(
        f"/api/v1/sims/{iccid}", data="{", content_type="application/json", headers=keys["write"]
    )
    assert response.status_code == 400 and response.json["field"] == "body"


def test_unknown_sim_is_404(client, keys, iccid):
    response = client.post(f"/api/v1/sims/{UNKNOWN_ICCID}/reset", headers=keys["write"])
    assert response.status_code == 404


def test_a_sim_1nce_does_not_know_is_a_502(client, keys, iccid):
    db.session.execute(
        sa.text(
            "INSERT INTO sims (iccid, account_id, first_seen_at)"
            " SELECT :i, account_id, now() FROM sims LIMIT 1"
        ),
        {"i": UNKNOWN_ICCID},
    )
    db.session.commit()
    response = client.post(f"/api/v1/sims/{UNKNOWN_ICCID}/reset", headers=keys["write"])
    assert response.status_code == 502
    assert response.json["type"] == "urn:simfleet:problem:upstream-error"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api.sim.reset"))
    assert event.details["outcome"] == "failed"
