"""Bookkeeping of sync runs: the per-kind Redis lock and the `sync_runs` row with counters.

The lock lives only while its run does: it expires `RUN_LOCK_SECONDS` (60 s) after the last
renewal, and every process working on the run (the inventory pass, the planning, each chunk)
renews it per page or chunk and from a light thread while a call is in flight. Between
chunks, a run is alive while RQ still holds one of its chunk jobs (queued, or waiting for a
retry). A run with neither is "abandoned": its kind is free again and the next run picks up
what it left.
"""

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType

import sqlalchemy as sa
from redis import Redis, RedisError
from redis.lock import Lock
from rq.job import Job

from webapp.extensions import db, get_redis
from webapp.models import SyncRun
from webapp.models.base import utcnow
from webapp.tasks import lock_seconds, renewing

log = logging.getLogger("simfleet.sync")
RUN_TOKEN_SECONDS = 7 * 24 * 3600
PENDING_CHUNK_STATUSES = ("queued", "scheduled", "deferred")
ABANDONED = "the process running it stopped; the next run picks up what it left"
# Renew the lock if this run holds it, take it back if it expired unclaimed; 0 if another run
# has it or this one is over (its token is gone).
RENEW_SCRIPT = """
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""


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


def run_lock(kind: str, timeout: int | None = None) -> Lock:
    """The lock that keeps two runs of one kind from overlapping; it expires after `timeout` s
    (RUN_LOCK_SECONDS) unless the run renews it (`RunKeeper`), so a killed run frees its kind
    soon."""
    return get_redis().lock(_lock_key(kind), timeout=timeout or lock_seconds(), blocking=False)


def _lock_key(kind: str) -> str:
    return f"simfleet:sync:lock:{kind}"


def _token_key(run_id: int) -> str:
    return f"simfleet:sync:run-lock:{run_id}"


def chunk_job_id(run_id: int, index: int) -> str:
    """The RQ job id of a run's chunk, so a run can tell whether chunks of it still wait."""
    return f"sync-{run_id}-{index}"


def start_run(*, kind: str, account_id: int, lock_token: str) -> SyncRun:
    """Record a new running run; commits so progress is visible at once."""
    run = SyncRun(kind=kind, account_id=account_id, started_at=utcnow(), outcome="running")
    db.session.add(run)
    db.session.commit()
    get_redis().set(_token_key(run.id), lock_token, ex=RUN_TOKEN_SECONDS)
    return run


class RunKeeper:
    """Keeps a run's kind lock alive while this process works on the run.

    Use it as a context manager around the work; call `renew()` after each page or chunk. A
    daemon thread renews it too, every quarter of the lock's life, while a call is in flight.
    """

    def __init__(self, *, run_id: int, kind: str) -> None:
        self._redis: Redis = get_redis()
        self._keys = (_lock_key(kind), _token_key(run_id))
        self._token = self._redis.get(_token_key(run_id))
        self._run_id = run_id
        self._milliseconds = lock_seconds() * 1000
        self._renewal = ExitStack()

    def renew(self) -> bool:
        """Extend the lock, or take it back if it expired unclaimed; False if another has it."""
        if self._token is None:
            return False
        try:
            held = self._redis.eval(RENEW_SCRIPT, 2, *self._keys, self._token, self._milliseconds)
        except RedisError as exc:
            log.warning("sync run %s: could not renew its lock: %s", self._run_id, exc)
            return False
        if not held:
            log.warning("sync run %s: another run holds its kind's lock", self._run_id)
        return bool(held)

    def __enter__(self) -> "RunKeeper":
        self.renew()
        self._renewal.enter_context(renewing(self.renew, every=self._milliseconds / 4000))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._renewal.close()


def is_running(run_id: int) -> bool:
    """Whether the run is still going (not finished, nor abandoned by a newer run)."""
    outcome = db.session.scalar(sa.select(SyncRun.outcome).where(SyncRun.id == run_id))
    return outcome == "running"


def close_dead_runs(*, kind: str) -> bool:
    """Holding the kind's lock, mark "abandoned" the runs no process works on any more.

    Nobody renews the lock of such a run, and RQ holds none of its chunks: its process was
    killed. Returns True when a run still waits for a queued (or retrying) chunk: it is
    alive, and its kind busy. Commits.
    """
    waiting = False
    running = db.session.scalars(
        sa.select(SyncRun).where(SyncRun.kind == kind, SyncRun.outcome == "running")
    ).all()
    for run in running:
        if _chunks_pending(run):
            waiting = True
            continue
        log.warning("sync %s run %s abandoned: %s", kind, run.id, ABANDONED)
        run.outcome, run.finished_at, run.error_message = "abandoned", utcnow(), ABANDONED
        get_redis().delete(_token_key(run.id))
    db.session.commit()
    return waiting


def _chunks_pending(run: SyncRun) -> bool:
    ids = [chunk_job_id(run.id, index) for index in range(run.chunks_total)]
    jobs = Job.fetch_many(ids, connection=get_redis()) if ids else []
    return any(job is not None and job.get_status() in PENDING_CHUNK_STATUSES for job in jobs)


def abandon_dead_runs() -> None:
    """Mark "abandoned" the running runs of every kind that no process works on any more.

    The scheduler calls this every few seconds, so a killed run shows as abandoned (and its
    "Sync now" button comes back) soon after its lock expired.
    """
    kinds = db.session.scalars(
        sa.select(SyncRun.kind).where(SyncRun.outcome == "running").distinct()
    ).all()
    db.session.commit()
    for kind in kinds:
        lock = run_lock(kind)
        if lock.acquire():  # else alive: its run renews the lock
            try:
                close_dead_runs(kind=kind)
            finally:
                lock.release()


def add_chunk(*, run_id: int, tally: Tally) -> bool:
    """Add a finished chunk's tally to its run; True when it was the run's last chunk.

    A run abandoned meanwhile (its chunk came back after all) is left as it is.
    """
    counted = db.session.execute(
        sa.text(
            """
            UPDATE sync_runs SET chunks_done = chunks_done + 1, calls = calls + :calls,
                rows = rows + :rows, sims_done = sims_done + :sims, errors = errors + :errors,
                error_message = COALESCE(error_message, :problem)
            WHERE id = :run_id AND outcome = 'running' RETURNING chunks_done, chunks_total
            """
        ),
        {"run_id": run_id, **tally.__dict__},
    ).first()
    return counted is not None and counted.chunks_done >= counted.chunks_total


def finish_run(*, run: SyncRun, kind: str, error: str | None = None) -> SyncRun:
    """Close a run with its outcome and release its kind's lock."""
    db.session.refresh(run)
    if run.outcome != "running":
        return run  # abandoned meanwhile: its lock went with it
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
    token = redis.get(_token_key(run_id))
    if token:
        lock = run_lock(kind, timeout=1)
        lock.local.token = token
        if lock.owned():
            lock.release()
        redis.delete(_token_key(run_id))
