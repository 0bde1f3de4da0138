"""Bookkeeping of sync runs: the per-kind Redis lock and the `sync_runs` row with counters."""

from dataclasses import dataclass

import sqlalchemy as sa
from redis.lock import Lock

from webapp.extensions import db, get_redis
from webapp.models import SyncRun
from webapp.models.base import utcnow


@dataclass
class Tally:
    """What one batch of work did: calls to 1NCE, rows written, SIMs done, errors, and the
    first answer 1NCE gave that Simfleet could not read (shown on the Sync page)."""

    calls: int = 0
    rows: int = 0
    sims: int = 0
    errors: int = 0
    problem: str | None = None

    def add(self, other: "Tally") -> None:
        """Add another tally to this one."""
        self.calls += other.calls
        self.rows += other.rows
        self.sims += other.sims
        self.errors += other.errors
        self.problem = self.problem or other.problem


def run_lock(kind: str, timeout: int) -> Lock:
    """The lock that keeps two runs of one kind from overlapping; it expires after `timeout` s
    so a killed worker cannot block a kind for good."""
    return get_redis().lock(f"simfleet:sync:lock:{kind}", timeout=timeout, blocking=False)


def start_run(*, kind: str, account_id: int, lock_token: str) -> SyncRun:
    """Record a new running run; commits so progress is visible at once."""
    run = SyncRun(kind=kind, account_id=account_id, started_at=utcnow(), outcome="running")
    db.session.add(run)
    db.session.commit()
    get_redis().set(f"simfleet:sync:run-lock:{run.id}", lock_token, ex=7 * 24 * 3600)
    return run


def add_chunk(*, run_id: int, tally: Tally) -> bool:
    """Add a finished chunk's tally to its run; True when it was the run's last chunk."""
    done, total = db.session.execute(
        sa.text(
            """
            UPDATE sync_runs SET chunks_done = chunks_done + 1, calls = calls + :calls,
                rows = rows + :rows, sims_done = sims_done + :sims, errors = errors + :errors,
                error_message = COALESCE(error_message, :problem)
            WHERE id = :run_id RETURNING chunks_done, chunks_total
            """
        ),
        {"run_id": run_id, **tally.__dict__},
    ).one()
    return done >= total


def finish_run(*, run: SyncRun, kind: str, error: str | None = None) -> SyncRun:
    """Close a run with its outcome and release its kind's lock."""
    db.session.refresh(run)
    run.finished_at = utcnow()
    if error:
        run.outcome, run.error_message = "failed", error[:2000]
    else:
        run.outcome = "partial" if run.errors else "success"
    db.session.commit()
    release_lock(run_id=run.id, kind=kind)
    return run


def release_lock(*, run_id: int, kind: str) -> None:
    """Release the kind's lock if this run still holds it."""
    redis = get_redis()
    token = redis.get(f"simfleet:sync:run-lock:{run_id}")
    if token:
        lock = run_lock(kind, timeout=1)
        lock.local.token = token
        if lock.owned():
            lock.release()
        redis.delete(f"simfleet:sync:run-lock:{run_id}")
