"""Bulk jobs end to end: confirm, a real RQ worker, the simulator's bulk endpoints, results."""

import time

import pytest
import sqlalchemy as sa

from tests.helpers import drain_queues
from webapp.bulk.runner import run_bulk_job
from webapp.bulk.services import BulkRequest, create_bulk_job
from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkJobItem, Sim
from webapp.one_nce import OneNceUnavailable
from webapp.tasks import get_queue
from worker import jobs


def settle(simulator) -> None:
    """Let the simulator apply every write it accepted (1NCE applies them asynchronously)."""
    time.sleep(0.15)
    simulator.fleet.writes.flush()


def outcomes(job_id: int) -> dict[str, str]:
    rows = db.session.execute(
        sa.select(BulkJobItem.iccid, BulkJobItem.outcome).where(BulkJobItem.job_id == job_id)
    )
    return dict(rows.all())


# The call that carries a change: one per batch of 100 on v1, one per SIM on v2.
CHANGE_CALLS = {"v1": "POST /v1/sims", "v2": "PUT /v2/sims/<iccid>"}


def bulk_calls(simulator) -> int:
    return simulator.stats()["by_endpoint"].get(CHANGE_CALLS[simulator.api_version], 0)


def job_row(job_id: int) -> BulkJob:
    db.session.expire_all()
    return db.session.get(BulkJob, job_id)


def test_labelling_the_whole_fleet_runs_to_completion(client, login, synced, bulk_simulator):
    user = login("operator")
    bulk_simulator.reset_stats()
    response = client.post(
        "/bulk", data={"action": "label", "new_label": "site <7>", "scope": "all"}
    )
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    queued = client.get(response.headers["Location"])
    assert 'hx-trigger="every 1s"' in queued.text  # the progress fragment polls itself

    drain_queues()

    fleet = bulk_simulator.fleet
    expired = {iccid for iccid in synced if fleet.is_expired(iccid)}  # 1NCE refuses those
    job = job_row(job_id)
    assert (job.state, job.total, job.done, job.failed) == ("done", 300, 300, len(expired))
    results = outcomes(job_id)
    assert {iccid for iccid, outcome in results.items() if outcome != "accepted"} == expired
    settle(bulk_simulator)
    assert {fleet.sim(iccid).label for iccid in set(synced) - expired} == {"site <7>"}
    page = client.get(f"/bulk/{job_id}", headers={"HX-Request": "true"})
    assert "every 1s" not in page.text  # polling stops once the job has ended
    assert '<progress class="bulk-progress" max="300" value="300"' in page.text
    assert "<7>" not in page.text
    assert "<q>site &lt;7&gt;</q>" in client.get(f"/bulk/{job_id}").text
    assert page.text.count("badge-success") + page.text.count("badge-failed") == 100
    assert 'rel="next"' in page.text
    audit = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in audit if a in ("bulk.create", "bulk.done")] == ["bulk.create", "bulk.done"]
    accepted = [i for i, outcome in outcomes(job_id).items() if outcome == "accepted"]
    assert audit.count("bulk.sim.label") == len(accepted)
    assert job.user_id == user.id


def test_disabling_skips_sims_already_disabled(app, synced, bulk_simulator, make_user):
    fleet = bulk_simulator.fleet
    already = {iccid for iccid in synced if fleet.sim(iccid).status == "Disabled"}
    assert already  # the seed disables about 5 %
    job = create_bulk_job(
        request=BulkRequest("disable", iccids=tuple(synced[:200])), user=make_user("operator")
    )
    bulk_simulator.reset_stats()
    drain_queues()
    results = outcomes(job.id)
    assert {i for i, outcome in results.items() if outcome == "unchanged"} == already & set(
        synced[:200]
    )
    assert job_row(job.id).done == 200
    # Each SIM 1NCE accepted has its own audit entry, with the status before and after.
    entries = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "bulk.sim.disable")
    ).all()
    assert {e.target for e in entries} == set(synced[:200]) - already
    assert {e.details["job_id"] for e in entries} == {job.id}
    assert all(e.details["changes"] == {"status": {"before": "Enabled", "after": "Disabled"}}
               for e in entries)  # fmt: skip
    settle(bulk_simulator)
    assert {fleet.sim(iccid).status for iccid in synced[:200]} == {"Disabled"}
    assert fleet.sim(synced[250]).status == "Enabled" or synced[250] in already


@pytest.mark.parametrize("api_version", ["v1"])
def test_a_top_up_is_one_bulk_order_per_batch(app, synced, bulk_simulator, make_user):
    chosen = tuple(synced[:150])
    job = create_bulk_job(request=BulkRequest("topup", iccids=chosen), user=make_user("admin"))
    drain_queues()
    assert job_row(job.id).state == "done"
    orders = [o for o in bulk_simulator.fleet.orders() if o.order_type == "BULK_TOPUP"]
    assert sorted(len(order.iccids) for order in orders) == [50, 100]
    assert sorted(i for order in orders for i in order.iccids) == sorted(chosen)
    messages = db.session.scalars(
        sa.select(BulkJobItem.message).where(BulkJobItem.job_id == job.id).distinct()
    ).all()
    assert sorted(messages) == sorted(f"order {o.order_number}" for o in orders)


def test_a_top_up_on_v2_is_one_order_per_sim(app, synced, bulk_simulator, make_user):
    chosen = tuple(synced[:30])
    job = create_bulk_job(request=BulkRequest("topup", iccids=chosen), user=make_user("admin"))
    drain_queues()
    assert job_row(job.id).state == "done"
    orders = [o for o in bulk_simulator.fleet.orders() if o.order_type == "TOPUP"]
    assert sorted(order.iccids for order in orders) == sorted((iccid,) for iccid in chosen)
    messages = dict(
        db.session.execute(
            sa.select(BulkJobItem.iccid, BulkJobItem.message).where(BulkJobItem.job_id == job.id)
        ).all()
    )
    assert messages == {o.iccids[0]: f"order {o.order_number}" for o in orders}


def test_a_job_on_v2_sends_one_change_per_sim(app, synced, bulk_simulator, make_user):
    bulk_simulator.reset_stats()
    chosen = tuple(i for i in synced[:40] if not bulk_simulator.fleet.is_expired(i))
    job = create_bulk_job(
        request=BulkRequest("label", {"label": "one by one"}, iccids=chosen),
        user=make_user("operator"),
    )
    drain_queues()
    assert job_row(job.id).state == "done"
    assert bulk_calls(bulk_simulator) == len(chosen)
    assert bulk_simulator.stats()["v1_requests"] == 0
    settle(bulk_simulator)
    assert {bulk_simulator.fleet.sim(i).label for i in chosen} == {"one by one"}


@pytest.mark.parametrize(("api_version", "status"), [("v1", 422), ("v2", 409)], ids=["v1", "v2"])
def test_a_refused_sim_fails_alone(app, synced, bulk_simulator, make_user, status):
    fleet = bulk_simulator.fleet
    soonest = min(synced, key=lambda iccid: fleet.data_quota(iccid).expiry_date)
    wait = (fleet.data_quota(soonest).expiry_date - fleet.now()).total_seconds() + 60
    fleet.controls.advance_clock(max(wait, 0))
    expired = {iccid for iccid in synced if fleet.is_expired(iccid)}
    assert soonest in expired
    job = create_bulk_job(
        request=BulkRequest("label", {"label": "x"}, view_args={}), user=make_user("operator")
    )
    drain_queues()
    row = job_row(job.id)
    assert (row.state, row.done, row.failed) == ("done", 300, len(expired))
    results = outcomes(job.id)
    assert {i for i, outcome in results.items() if outcome == "failed"} == expired
    assert set(results.values()) == {"accepted", "failed"}
    messages = db.session.scalars(
        sa.select(BulkJobItem.message).where(
            BulkJobItem.job_id == job.id, BulkJobItem.outcome == "failed"
        )
    )
    assert set(messages) == {
        f"1NCE refuses changes to expired SIMs (HTTP {status}); only an extension is possible"
    }


def test_running_a_job_again_sends_nothing_again(app, synced, bulk_simulator, make_user, once):
    job = create_bulk_job(request=BulkRequest("enable", view_args={}), user=make_user("operator"))
    drain_queues()
    calls = bulk_calls(bulk_simulator)
    assert run_bulk_job(job_id=job.id, client=once) == "done"
    row = job_row(job.id)
    row.state = "running"  # as if RQ retried an attempt that stopped after its last batch
    db.session.commit()
    assert run_bulk_job(job_id=job.id, client=once) == "done"
    assert bulk_calls(bulk_simulator) == calls
    assert job_row(job.id).done == 300


@pytest.mark.parametrize("api_version", ["v1"])
def test_an_outage_leaves_the_job_retrying_and_the_retry_finishes_it(
    app, synced, bulk_simulator, make_user, once
):
    # Expired SIMs would be refused and cost extra calls to single out; leave them out.
    usable = tuple(i for i in synced if not bulk_simulator.fleet.is_expired(i))
    job = create_bulk_job(
        request=BulkRequest("label", {"label": "retry"}, iccids=usable), user=make_user("operator")
    )
    bulk_simulator.set_faults(html_503_rate=1.0)
    drain_queues()
    row = job_row(job.id)
    assert (row.state, row.total, row.done) == ("retrying", len(usable), 0)
    assert "OneNceUnavailable" in row.error and "503" in row.error
    bulk_simulator.clear_faults()
    bulk_simulator.reset_stats()

    assert run_bulk_job(job_id=job.id, client=once) == "done"

    # The batch that met the outage is sent again (setting a label twice is harmless).
    assert bulk_calls(bulk_simulator) == 3
    settle(bulk_simulator)
    assert {bulk_simulator.fleet.sim(iccid).label for iccid in usable} == {"retry"}


def test_a_failed_job_can_be_resumed(client, login, synced, bulk_simulator):
    login("operator")
    response = client.post("/bulk", data={"action": "enable", "scope": "all"})
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    bulk_simulator.set_faults(empty_500_rate=1.0)
    get_queue("actions").empty()
    with pytest.raises(OneNceUnavailable):
        jobs.run_bulk_job(job_id)  # outside RQ: no retries left, so the job fails
    assert job_row(job_id).state == "failed"
    page = client.get(f"/bulk/{job_id}")
    assert "Resume" in page.text and "every 1s" not in page.text
    bulk_simulator.clear_faults()

    assert client.post(f"/bulk/{job_id}/resume").status_code == 303
    drain_queues()

    assert job_row(job_id).state == "done"
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    job_actions = [a for a in actions if a.startswith("bulk.") and not a.startswith("bulk.sim.")]
    assert job_actions[-4:] == ["bulk.create", "bulk.failed", "bulk.resume", "bulk.done"]
    assert client.post(f"/bulk/{job_id}/resume").status_code == 303  # done: refused, flashed
    assert job_row(job_id).state == "done"


def test_a_label_pattern_gives_each_sim_its_own_label(app, synced, bulk_simulator, make_user):
    fleet = bulk_simulator.fleet
    chosen = tuple(i for i in synced[:6] if not fleet.is_expired(i))
    before = {iccid: db.session.get(Sim, iccid).label for iccid in chosen}
    job = create_bulk_job(
        request=BulkRequest("label", {"label": "{label} (site A)"}, iccids=chosen),
        user=make_user("operator"),
    )
    drain_queues()
    assert job_row(job.id).state == "done"
    settle(bulk_simulator)
    expected = {iccid: f"{before[iccid] or ''} (site A)".strip() for iccid in chosen}
    assert {iccid: fleet.sim(iccid).label for iccid in chosen} == expected
    audit = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "bulk.sim.label")
    ).all()
    assert {e.target: e.details["changes"]["label"] for e in audit} == {
        iccid: {"before": before[iccid], "after": expected[iccid]} for iccid in chosen
    }
