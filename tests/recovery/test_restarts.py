"""The scheduler restarted twice, a worker killed mid top-up: nothing doubled, nothing stuck."""

import os
import signal
import time

import pytest
import sqlalchemy as sa
from rq_scheduler import Scheduler

from tests.helpers import eventually
from tests.recovery.support import LOCK_SECONDS, kill
from webapp.bulk.runner import IN_DOUBT
from webapp.bulk.services import BulkRequest, create_bulk_job
from webapp.extensions import db, get_redis
from webapp.models import BulkJob, BulkJobItem
from webapp.ops.services import get_heartbeat

pytestmark = pytest.mark.recovery

BEAT_SECONDS = 3


def test_a_scheduler_restarted_twice_neither_doubles_nor_drops_periodic_jobs(app, start_process):
    start_process("worker")
    scheduler = start_process("worker.scheduler", HEARTBEAT_SECONDS=str(BEAT_SECONDS))
    eventually(get_heartbeat, timeout=20, message="no heartbeat before the restarts")
    kill(scheduler)  # killed: it never removes its lock or birth record
    scheduler = start_process("worker.scheduler", HEARTBEAT_SECONDS=str(BEAT_SECONDS))
    time.sleep(1)
    os.killpg(scheduler.pid, signal.SIGTERM)  # stopped as systemd stops it
    scheduler.wait(timeout=20)
    start_process("worker.scheduler", HEARTBEAT_SECONDS=str(BEAT_SECONDS))
    restarted = get_heartbeat()

    # Still on time: a beat comes within one interval (and a tick) of the last restart.
    eventually(
        lambda: get_heartbeat() != restarted,
        timeout=BEAT_SECONDS + 5,
        message="the restarted scheduler enqueued no heartbeat",
    )
    periodic = [job.id for job in Scheduler(connection=get_redis()).get_jobs()]
    assert sorted(periodic) == sorted(set(periodic))
    assert "periodic-worker-jobs-heartbeat" in periodic
    # Not doubled: over four intervals, at most one beat per interval (and the first).
    beats = set()
    deadline = time.monotonic() + 4 * BEAT_SECONDS
    while time.monotonic() < deadline:
        beats.add(get_heartbeat())
        time.sleep(0.05)
    assert 3 <= len(beats) <= 5


def test_a_worker_killed_mid_top_up_is_resumed_without_topping_up_twice(
    app, synced, recovery_simulator, start_process, make_user
):
    chosen = tuple(recovery_simulator.fleet.iccids())
    # Slow answers keep a top-up in flight long enough to kill its worker meanwhile.
    recovery_simulator.set_faults(slow_ms=500)
    worker = start_process("worker")
    start_process("worker.scheduler")
    job = create_bulk_job(request=BulkRequest("topup", iccids=chosen), user=make_user())
    progress = sa.text(
        "SELECT (SELECT count(*) FROM bulk_job_items WHERE job_id = :id AND outcome = 'sending'),"
        " (SELECT done FROM bulk_jobs WHERE id = :id)"
    )

    def a_top_up_in_flight_after_another() -> bool:
        sending, done = db.session.execute(progress, {"id": job.id}).one()
        db.session.rollback()
        return bool(sending and done)

    eventually(a_top_up_in_flight_after_another, timeout=60, interval=0.02)
    kill(worker)
    recovery_simulator.clear_faults()
    start_process("worker")  # the restarted worker; nobody touches the job

    def finished() -> BulkJob | None:
        db.session.expire_all()
        row = db.session.get(BulkJob, job.id)
        db.session.rollback()
        return row if row and row.state in ("done", "failed") else None

    ended = eventually(finished, timeout=LOCK_SECONDS * 2 + 30, interval=0.2)
    assert ended.state == "done"
    items = dict(
        db.session.execute(
            sa.select(BulkJobItem.iccid, BulkJobItem.outcome).where(BulkJobItem.job_id == job.id)
        ).all()
    )
    in_doubt = {iccid for iccid, outcome in items.items() if outcome == "unknown"}
    assert len(in_doubt) == 1  # the top-up in flight when the worker died (v2: one SIM)
    assert set(items.values()) == {"accepted", "unknown"}
    ordered = [
        iccid
        for order in recovery_simulator.fleet.orders()
        if order.order_type in ("TOPUP", "BULK_TOPUP")
        for iccid in order.iccids
    ]
    assert len(ordered) == len(set(ordered))  # no SIM was topped up twice
    messages = db.session.scalars(
        sa.select(BulkJobItem.message).where(
            BulkJobItem.job_id == job.id, BulkJobItem.outcome == "unknown"
        )
    ).all()
    assert set(messages) == {IN_DOUBT}
