"""Actions through the live simulator: confirm, send, record, audit, settle; API included."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import UNKNOWN_ICCID, drain_queues
from webapp.apikeys.services import create_api_key
from webapp.extensions import db, get_client
from webapp.models import AuditEvent, Sim, SimAction
from webapp.sim_detail.actions import settle_action
from webapp.tasks import get_queue

QUICK = (0.3, 0.3, 0.3, 0.3)


@pytest.fixture
def unknown(iccid) -> str:
    """A SIM in the database that 1NCE does not know."""
    db.session.execute(
        sa.text(
            "INSERT INTO sims (iccid, account_id, first_seen_at)"
            " SELECT :iccid, account_id, now() FROM sims LIMIT 1"
        ),
        {"iccid": UNKNOWN_ICCID},
    )
    db.session.commit()
    return UNKNOWN_ICCID


def actions() -> list[SimAction]:
    return list(db.session.scalars(sa.select(SimAction).order_by(SimAction.id)))


def test_an_action_asks_for_confirmation_first(client, login, iccid):
    login("operator")
    response = client.post(f"/sims/{iccid}/actions/disable", data={"reason": "stolen <b>"})
    assert response.status_code == 200
    assert "Disable the SIM" in response.text and 'name="confirmed" value="yes"' in response.text
    assert "stolen &lt;b&gt;" in response.text
    assert actions() == []


def test_a_missing_reason_is_422_and_nothing_is_sent(client, login, iccid, simulator):
    login("operator")
    response = client.post(
        f"/sims/{iccid}/actions/disable", data={"confirmed": "yes"}, headers={"HX-Request": "1"}
    )
    assert response.status_code == 422 and "The reason is required" in response.text
    assert actions() == [] and simulator.fleet.writes.pending() == 0


def test_disable_is_pending_then_applied(client, login, iccid, simulator):
    user = login("operator")
    response = client.post(
        f"/sims/{iccid}/actions/disable", data={"reason": "stolen", "confirmed": "yes"}
    )
    assert response.status_code == 303
    [action] = actions()
    assert (action.action, action.state, action.requested) == (
        "update",
        "pending",
        {"status": "Disabled"},
    )
    assert action.reason == "stolen" and action.actor == user.email
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sim.disable"))
    assert audit.actor_id == user.id and audit.details["reason"] == "stolen"
    assert audit.details["outcome"] == "accepted" and audit.details["action_id"] == action.id
    assert audit.details["changes"] == {"status": {"before": "Enabled", "after": "Disabled"}}
    assert get_queue("actions").job_ids, "the settle job was not enqueued"
    page = client.get(f"/sims/{iccid}").text
    assert "1 pending" in page and "Disable SIM requested: pending until 1NCE applies it." in page

    settled = settle_action(action_id=action.id, client=get_client(), delays=QUICK)
    assert settled.state == "applied" and settled.settled_at is not None
    assert db.session.get(Sim, iccid).status == "Disabled"


def test_a_change_1nce_never_shows_is_not_confirmed(client, login, iccid, simulator):
    login("operator")
    # 1NCE accepts the write but has not applied it yet when the job re-reads the SIM.
    simulator.fleet.writes.delay = timedelta(minutes=5)
    client.post(f"/sims/{iccid}/actions/label", data={"label": "tank 4", "confirmed": "yes"})
    [action] = actions()
    settled = settle_action(action_id=action.id, client=get_client(), delays=(0.0,))
    assert settled.state == "failed" and settled.outcome["error"] == "not confirmed"
    assert "Not confirmed" in client.get(f"/sims/{iccid}").text


def test_the_settle_job_runs_on_a_worker(client, login, iccid, simulator):
    login("operator")
    client.post(f"/sims/{iccid}/actions/imei_lock", data={"imei_lock": "true", "confirmed": "yes"})
    drain_queues()
    db.session.expire_all()
    [action] = actions()
    assert action.state == "applied" and action.attempts >= 1
    assert simulator.fleet.sim(iccid).imei_lock is True


@pytest.mark.parametrize(
    ("name", "data", "outcome"),
    [("reset", {}, None), ("topup", {"payment_method": "banktransfer"}, "order_number"),
     ("sms", {"payload": "secret ping"}, "sms_id")],
)  # fmt: skip
def test_reset_topup_and_sms_are_settled_by_1nce_s_answer(
    client, login, iccid, name, data, outcome
):
    login("admin")
    response = client.post(f"/sims/{iccid}/actions/{name}", data=data | {"confirmed": "yes"})
    assert response.status_code == 303
    [action] = actions()
    assert action.state == "applied"
    if outcome:
        assert action.outcome[outcome]
    assert "secret" not in str(action.requested)
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == f"sim.{name}"))
    assert audit.details["outcome"] == "accepted" and "secret" not in str(audit.details)


def test_a_refused_action_is_recorded_as_failed(client, login, unknown):
    login("operator")
    response = client.post(
        f"/sims/{unknown}/actions/reset", data={"confirmed": "yes"}, follow_redirects=True
    )
    assert "Reset connectivity failed" in response.text
    [action] = actions()
    assert action.state == "failed" and action.outcome["error"]


def test_htmx_confirmation_swaps_in_place_and_redirects_after(client, login, iccid):
    login("operator")
    htmx = {"HX-Request": "true"}
    response = client.post(f"/sims/{iccid}/actions/reset", headers=htmx)
    assert response.text.lstrip().startswith('<div class="card panel confirm"')
    response = client.post(f"/sims/{iccid}/actions/reset", data={"confirmed": "yes"}, headers=htmx)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/sims/{iccid}"


def test_api_writes_record_the_same_pending_rows(client, iccid):
    _, key = create_api_key(name="writer", scope="write")
    db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    response = client.patch(f"/api/v1/sims/{iccid}", json={"label": "api"}, headers=headers)
    assert response.status_code == 202
    [action] = actions()
    assert action.state == "pending" and action.requested == {"label": "api"}
    assert action.actor.startswith("api key writer")


def test_check_now_reads_1nce_and_rerenders_the_panel(client, login, iccid, simulator):
    login("operator")
    response = client.post(f"/sims/{iccid}/check", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="sim-connectivity"')
    sim = db.session.get(Sim, iccid)
    truth = simulator.fleet.sim(iccid)
    assert sim.connectivity_synced_at is not None and sim.connectivity_status is not None
    assert sim.online == (sim.connectivity_status == "ONLINE")
    assert truth is not None
    audit = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "sim.check_connectivity")
    )
    assert audit.details["outcome"] == "ok"


def test_check_now_when_1nce_fails_says_so(client, login, unknown):
    login("operator")
    response = client.post(f"/sims/{unknown}/check", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "did not answer" in response.text
    audit = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "sim.check_connectivity")
    )
    assert audit.details["outcome"] == "failed"
