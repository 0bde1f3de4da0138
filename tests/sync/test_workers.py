"""The sync on real RQ workers: fan-out into chunks, two workers at once, a killed worker."""

import os
import signal
import subprocess

import sqlalchemy as sa

from tests.helpers import drain_queues, eventually, start_rq_worker
from webapp.extensions import db, get_redis
from webapp.models import SyncRun, UsageDay
from webapp.sync.services import run_now
from webapp.tasks import QUEUES, enqueue, get_queue


def usage_rows() -> list:
    return sorted(db.session.execute(sa.select(UsageDay.iccid, UsageDay.day, UsageDay.data_rx_mb)))


def start_workers(app, count: int) -> list[subprocess.Popen]:
    return [start_rq_worker(app) for _ in range(count)]


def forget_usage() -> None:
    """Empty the usage tables and the SIMs' usage marks, as before a first sync."""
    db.session.execute(sa.text("TRUNCATE usage_daily, fleet_usage_daily"))
    db.session.execute(
        sa.text("UPDATE sims SET usage_synced_at = NULL, usage_synced_through = NULL")
    )
    db.session.commit()


def wait_for_run(kind: str, after: int = 0, timeout: float = 60) -> SyncRun:
    """The first run of `kind` with an id above `after`, once it has ended."""

    def ended_run() -> SyncRun | None:
        db.session.expire_all()
        run = db.session.scalar(
            sa.select(SyncRun).where(SyncRun.kind == kind, SyncRun.id > after).limit(1)
        )
        return run if run and run.outcome != "running" else None

    return eventually(
        ended_run,
        timeout=timeout,
        interval=0.2,
        message=f"{kind} run did not finish within {timeout} s",
    )


def stop(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        process.wait(timeout=30)


def test_runs_fan_out_into_chunk_jobs(app, once):
    run_now(kind="inventory", client=once)
    enqueue("worker.jobs.sync_start", "usage")
    drain_queues()
    run = wait_for_run("usage")
    assert (run.outcome, run.chunks_total, run.chunks_done, run.sims_done) == ("success", 3, 3, 60)


def test_two_workers_yield_the_same_rows_as_one(app, once):
    run_now(kind="inventory", client=once)
    first = run_now(kind="usage", client=once)
    expected = usage_rows()
    forget_usage()
    workers = start_workers(app, 2)
    try:
        enqueue("worker.jobs.sync_start", "usage")
        enqueue("worker.jobs.sync_start", "usage")  # the second finds the kind busy
        run = wait_for_run("usage", after=first.id)
    finally:
        stop(workers)
    assert run.outcome == "success"
    assert usage_rows() == expected
    runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.kind == "usage")).all()
    assert len(runs) == 2  # the inline run above and one worker run; no duplicate run


def test_a_killed_worker_loses_and_duplicates_nothing(app, once, fleet_simulator):
    run_now(kind="inventory", client=once)
    fleet_simulator.set_faults(slow_ms=40)
    workers = start_workers(app, 1)
    enqueue("worker.jobs.sync_start", "usage")

    def a_chunk_done() -> int | None:
        db.session.expire_all()
        return db.session.scalar(
            sa.select(sa.func.max(SyncRun.chunks_done)).where(SyncRun.kind == "usage")
        )

    eventually(a_chunk_done, timeout=60, interval=0.1, message="no usage chunk was done in time")
    os.killpg(workers[0].pid, signal.SIGKILL)
    workers[0].wait(timeout=30)
    committed = usage_rows()
    assert committed  # the first chunk was committed before the kill
    fleet_simulator.clear_faults()
    get_redis().delete("simfleet:sync:lock:usage")  # expires on its own (tests/recovery)
    for queue in QUEUES:
        get_queue(queue).empty()
    rerun = run_now(kind="usage", client=once)
    assert rerun.outcome == "success"
    rows = usage_rows()
    assert set(committed) <= set(rows)
    assert len(rows) == len(set(rows))
    killed = db.session.scalars(sa.select(SyncRun).where(SyncRun.kind == "usage")).all()[0]
    assert killed.outcome == "abandoned"
