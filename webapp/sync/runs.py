"""Bookkeeping of sync runs: the per-kind Redis lock and the `sync_runs` row with counters.

The lock lives only while its run does: it expires `RUN_LOCK_SECONDS` (60 s) after the last
renewal, and every process working on the run (the inventory pass, the planning, each chunk)
renews it per page or chunk and from a light thread while a call is in flight. Between
chunks, a run is alive while RQ still holds one of its chunk jobs (queued, or waiting for a
retry). A run with neither is "abandoned": its kind is free again and the next run picks up
what it left. An operator may also cancel a running run from the Sync page (`cancel_run`),
which frees its kind the same way.
"""

import json
import logging
import os
import socket
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

import sqlalchemy as sa
from redis import Redis, RedisError
from redis.lock import Lock
from rq.exceptions import InvalidJobOperation
from rq.job import Job
from rq.registry import ScheduledJobRegistry

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


def _holder_key(run_id: int) -> str:
    return f"simfleet:sync:run-holder:{run_id}"


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
        if self.renew():
            _note_holder(self._redis, self._run_id)
        self._renewal.enter_context(renewing(self.renew, every=self._milliseconds / 4000))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._renewal.close()


def _note_holder(redis: Redis, run_id: int) -> None:
    """Name this process as the one working on the run, for the Sync page."""
    holder = {"process": f"{socket.gethostname()} pid {os.getpid()}", "since": utcnow().isoformat()}
    try:
        redis.set(_holder_key(run_id), json.dumps(holder), ex=RUN_TOKEN_SECONDS)
    except RedisError as exc:
        log.warning("sync run %s: could not name its process: %s", run_id, exc)


@dataclass(frozen=True)
class LockState:
    """Why a running run keeps its kind busy, for the Sync page.

    `process` and `since` name what works on it now (when the lock is held), `expires_in` is
    when the lock lapses unless renewed; `chunks_waiting` counts its chunks RQ still holds and
    `next_retry` is the earliest moment one of them is due again.
    """

    held: bool
    process: str | None
    since: datetime | None
    expires_in: timedelta | None
    chunks_waiting: int
    next_retry: datetime | None


def get_lock_state(run: SyncRun) -> LockState:
    """Who holds the running run's kind lock, since when, and when it will be freed."""
    redis = get_redis()
    token = redis.get(_token_key(run.id))
    held = token is not None and redis.get(_lock_key(run.kind)) == token
    holder = json.loads(redis.get(_holder_key(run.id)) or "{}") if held else {}
    milliseconds = redis.pttl(_lock_key(run.kind)) if held else -1
    waiting = _waiting_chunks(run)
    registry = ScheduledJobRegistry("sync", connection=redis)
    retries = [
        registry.get_scheduled_time(job) for job in waiting if job.get_status() == "scheduled"
    ]
    return LockState(
        held=held,
        process=holder.get("process"),
        since=datetime.fromisoformat(holder["since"]) if "since" in holder else None,
        expires_in=timedelta(milliseconds=milliseconds) if milliseconds > 0 else None,
        chunks_waiting=len(waiting),
        next_retry=min(retries) if retries else None,
    )


def cancel_run(*, run_id: int, by: str) -> SyncRun | None:
    """Stop a running run: mark it cancelled, free its kind, drop its waiting chunks.

    A process still working on it stops renewing (its token is gone) and writes nothing more
    to the run; its chunks that RQ still holds are cancelled, and any that run anyway are
    skipped. Returns the run, or None when it was not running. Commits.
    """
    run = db.session.scalar(
        sa.select(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.outcome == "running")
        .with_for_update()
    )
    if run is None:
        db.session.rollback()
        return None
    run.outcome, run.finished_at = "cancelled", utcnow()
    run.error_message = f"cancelled by {by}"
    db.session.commit()
    release_lock(run_id=run.id, kind=run.kind)
    for job in _waiting_chunks(run):
        # One that started or ended meanwhile is skipped, as a chunk of a cancelled run.
        with suppress(InvalidJobOperation):
            job.cancel()
    get_redis().delete(_holder_key(run.id))
    log.warning("sync %s run %s cancelled by %s", run.kind, run.id, by)
    return run


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
    return bool(_waiting_chunks(run))


def _waiting_chunks(run: SyncRun) -> list[Job]:
    """The run's chunk jobs that RQ holds queued, scheduled for a retry or deferred."""
    ids = [chunk_job_id(run.id, index) for index in range(run.chunks_total)]
    jobs = Job.fetch_many(ids, connection=get_redis()) if ids else []
    return [job for job in jobs if job is not None and job.get_status() in PENDING_CHUNK_STATUSES]


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
        redis.delete(_token_key(run_id), _holder_key(run_id))
