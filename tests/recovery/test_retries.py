"""A 1NCE outage during a sync heals by itself: the scheduler runs RQ's retries on time."""

import threading
import time

import pytest
import sqlalchemy as sa

from tests.helpers import eventually
from tests.recovery.support import PRODUCTION, SCALE
from webapp.extensions import db
from webapp.models import Sim, SyncRun
from webapp.tasks import enqueue

pytestmark = pytest.mark.recovery

# The acceptance: a 45-second outage, healed within four minutes of its start. Scaled
# down, the outage still outlasts the client's own retries (about 4 to 8 s), so the run needs
# RQ's retries to finish.
OUTAGE_SECONDS = 45 if PRODUCTION else 12
HEALED_WITHIN = 240 if PRODUCTION else 240 * SCALE


def ended_run(kind: str) -> SyncRun | None:
    db.session.expire_all()
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == kind).limit(1))
    db.session.rollback()
    return run if run and run.outcome != "running" else None


def test_a_run_hit_by_an_outage_finishes_once_1nce_is_back(
    app, synced, recovery_simulator, start_process
):
    start_process("worker")
    start_process("worker.scheduler")
    recovery_simulator.set_faults(html_503_rate=1.0)
    outage_began = time.monotonic()
    threading.Timer(OUTAGE_SECONDS, recovery_simulator.clear_faults).start()
    enqueue("worker.jobs.sync_start", "usage")

    run = eventually(
        lambda: ended_run("usage"),
        timeout=HEALED_WITHIN + 5,
        interval=0.5,
        message=f"the usage run did not end within {HEALED_WITHIN} s of the outage's start",
    )
    healed = time.monotonic() - outage_began
    print(f"outage {OUTAGE_SECONDS} s: run {run.outcome} after {healed:.0f} s")
    assert recovery_simulator.stats()["by_status"].get("503", 0) > 0  # the outage hit it
    assert (run.outcome, run.chunks_done, run.sims_done) == ("success", 6, 60)
    assert healed <= HEALED_WITHIN
    synced_sims = db.session.scalar(
        sa.select(sa.func.count()).where(Sim.usage_synced_at.is_not(None))
    )
    assert synced_sims == 60
