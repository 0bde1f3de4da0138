"""A worker killed mid-job: the restarted job sends no batch twice and orders nothing twice."""

import os
import signal
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import eventually, start_rq_worker
from webapp.bulk.runner import IN_DOUBT, run_bulk_job
from webapp.bulk.services import BulkRequest, create_bulk_job
from webapp.extensions import db, get_redis
from webapp.models import BulkJob, BulkJobItem


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse (RQ puts the horse in a session of its own)."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def wait_for_second_batch_in_flight(job_id: int, timeout: float = 60) -> None:
    """Until the first batch is settled and the second handed to 1NCE, not yet answered."""
    # One statement, so both counts come from the same moment.
    progress = sa.text(
        "SELECT (SELECT count(*) FROM bulk_job_items WHERE job_id = :id AND outcome = 'sending'),"
        " (SELECT done FROM bulk_jobs WHERE id = :id)"
    )

    def second_batch_in_flight() -> bool:
        sending, done = db.session.execute(progress, {"id": job_id}).one()
        db.session.rollback()
        return bool(sending and done)

    eventually(
        second_batch_in_flight,
        timeout=timeout,
        interval=0.02,
        message="the second batch was not sent in time",
    )


def outcomes(job_id: int) -> dict[str, str | None]:
    rows = db.session.execute(
        sa.select(BulkJobItem.iccid, BulkJobItem.outcome).where(BulkJobItem.job_id == job_id)
    )
    return dict(rows.all())


# The top-up call and the SIMs one call orders: a bulk order per 100 on v1, one per SIM on v2.
TOP_UPS = {"v1": ("POST /v1/sims/topup", 100), "v2": ("POST /v2/sims/<iccid>/topup", 1)}


@pytest.mark.parametrize("api_version", ["v1", "v2"])
def test_a_killed_top_up_is_resumed_without_ordering_twice(
    app, synced, bulk_simulator, make_user, once, api_version
):
    chosen = tuple(synced[:300])
    # Slow answers keep a batch in flight long enough to kill its worker meanwhile.
    bulk_simulator.set_faults(slow_ms=1000)
    worker = start_rq_worker(app)
    try:
        job = create_bulk_job(request=BulkRequest("topup", iccids=chosen), user=make_user())
        wait_for_second_batch_in_flight(job.id)
    finally:
        kill_worker(worker)
    before = outcomes(job.id)
    assert {"accepted", "sending", None} == set(before.values())
    bulk_simulator.clear_faults()
    bulk_simulator.reset_stats()
    get_redis().delete(f"simfleet:bulk:lock:{job.id}")  # it would expire on its own

    assert run_bulk_job(job_id=job.id, client=once) == "done"

    after = outcomes(job.id)
    accepted_before = {i for i, outcome in before.items() if outcome == "accepted"}
    in_doubt = {i for i, outcome in before.items() if outcome == "sending"}
    pending_before = {i for i, outcome in before.items() if outcome is None}
    assert {i for i, outcome in after.items() if outcome == "unknown"} == in_doubt
    assert {i for i, outcome in after.items() if outcome == "accepted"} == (
        accepted_before | pending_before
    )
    # Only the batches never handed to 1NCE were sent after the restart.
    endpoint, per_call = TOP_UPS[api_version]
    calls = bulk_simulator.stats()["by_endpoint"].get(endpoint, 0)
    assert calls == -(-len(pending_before) // per_call)
    ordered = [
        i
        for o in bulk_simulator.fleet.orders()
        if o.order_type in ("TOPUP", "BULK_TOPUP")
        for i in o.iccids
    ]
    assert len(ordered) == len(set(ordered))  # no SIM was topped up twice
    assert set(ordered) >= accepted_before | pending_before
    messages = db.session.scalars(
        sa.select(BulkJobItem.message).where(
            BulkJobItem.job_id == job.id, BulkJobItem.outcome == "unknown"
        )
    ).all()
    assert set(messages) <= {IN_DOUBT}
    job_row = db.session.get(BulkJob, job.id)
    assert (job_row.done, job_row.failed) == (300, len(in_doubt))
