"""A sync whose worker is killed frees its kind by itself: abandoned, then picked up."""

import time

import pytest
import sqlalchemy as sa

from tests.helpers import eventually
from tests.recovery.support import LOCK_SECONDS, kill
from webapp.extensions import db
from webapp.models import Sim, SyncRun
from webapp.tasks import enqueue

pytestmark = pytest.mark.recovery

# The bound (90 s) for the production lock of 60 s, in proportion here.
FREED_WITHIN = 90 * LOCK_SECONDS / 60


def runs(kind: str) -> list[SyncRun]:
    db.session.expire_all()
    found = db.session.scalars(
        sa.select(SyncRun).where(SyncRun.kind == kind).order_by(SyncRun.id)
    ).all()
    db.session.rollback()
    return list(found)


def test_a_killed_inventory_run_is_abandoned_and_the_cli_runs_again(
    app, synced, recovery_simulator, start_process
):
    # One slow page: the worker is killed while the call is in flight (the lock's renewing
    # thread is all that kept it alive). The token is cached (`synced`): a worker killed while
    # fetching one would leave the client's token lock behind for minutes (not ours to fix).
    recovery_simulator.set_faults(slow_ms=int(LOCK_SECONDS * 1000))
    worker = start_process("worker")
    start_process("worker.scheduler")
    enqueue("worker.jobs.sync_start", "inventory")
    eventually(lambda: runs("inventory")[1:], timeout=30, message="the inventory run never started")
    kill(worker)
    recovery_simulator.clear_faults()

    killed = eventually(
        lambda: next((r for r in runs("inventory")[1:] if r.outcome != "running"), None),
        timeout=FREED_WITHIN,
        interval=0.2,
        message=f"the killed run was not marked abandoned within {FREED_WITHIN} s",
    )
    assert killed.outcome == "abandoned"
    result = app.test_cli_runner().invoke(args=["sync", "run", "inventory"])
    assert result.exit_code == 0, result.output
    assert runs("inventory")[-1].outcome == "success"
    assert killed.id != runs("inventory")[-1].id


def test_a_killed_usage_run_is_abandoned_and_sync_now_picks_up_its_sims(
    app, synced, recovery_simulator, start_process, client, login
):
    recovery_simulator.set_faults(slow_ms=300)  # a chunk of 10 SIMs takes 3 s
    worker = start_process("worker")
    start_process("worker.scheduler")
    enqueue("worker.jobs.sync_start", "usage")
    eventually(
        lambda: any(run.chunks_done for run in runs("usage")),
        timeout=30,
        interval=0.05,
        message="no usage chunk was done in time",
    )
    time.sleep(1)  # the next chunk is in flight
    kill(worker)
    recovery_simulator.clear_faults()
    start_process("worker")  # a restarted worker runs the chunks still queued

    killed = eventually(
        lambda: next((r for r in runs("usage") if r.outcome != "running"), None),
        timeout=FREED_WITHIN + 30,
        interval=0.2,
        message="the killed run was not marked abandoned in time",
    )
    assert killed.outcome == "abandoned"
    assert killed.chunks_done < killed.chunks_total
    unsynced = db.session.scalar(sa.select(sa.func.count()).where(Sim.usage_synced_at.is_(None)))
    assert unsynced  # the killed chunk's SIMs

    login("operator")
    assert client.post("/sync/usage").status_code == 303  # "Sync now"
    rerun = eventually(
        lambda: next((r for r in runs("usage")[1:] if r.outcome != "running"), None),
        timeout=30,
        interval=0.2,
        message="the next usage run did not finish",
    )
    assert rerun.outcome == "success"
    db.session.expire_all()
    assert not db.session.scalar(sa.select(sa.func.count()).where(Sim.usage_synced_at.is_(None)))
