"""Enqueueing background jobs: queue, timeout, retry and dedupe decided in one place.

Jobs are named by dotted path (`worker.jobs.heartbeat`), so the web side never imports the
worker package. Enqueue only after the rows a job needs are committed.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app
from redis import RedisError
from rq import Queue, Retry
from rq.job import Job

from webapp.extensions import get_redis

log = logging.getLogger("simfleet.tasks")
# Workers take from the first queue that has a job: a change someone is waiting to see applied
# goes before the background sync, which only waits for the chunk in hand.
QUEUES = ("actions", "sync", "default")
ACTIVE_STATUSES = ("queued", "started", "deferred", "scheduled")


@dataclass(frozen=True)
class JobSpec:
    """How a job is enqueued: its queue, timeout and the delays before each retry."""

    queue: str = "default"
    timeout: int = 300
    retries: tuple[int, ...] = ()  # seconds to wait before each retry, times JOB_RETRY_SCALE


JOB_SPECS: dict[str, JobSpec] = {
    "worker.jobs.heartbeat": JobSpec(queue="default", timeout=30),
    # An inventory pass of 100,000 SIMs is 1,000 paced calls; give it room, retry later.
    "worker.jobs.sync_start": JobSpec(queue="sync", timeout=3600, retries=(60, 300)),
    # A chunk is atomic, so a retry redoes exactly the chunk that failed.
    "worker.jobs.sync_chunk": JobSpec(queue="sync", timeout=900, retries=(30, 120, 300)),
    "worker.jobs.enforce_retention": JobSpec(queue="default", timeout=3600),
    # Waits about half a minute in all for 1NCE to apply a SIM change; never retried.
    "worker.jobs.settle_sim_action": JobSpec(queue="actions", timeout=120),
    "worker.jobs.refresh_usage_periods": JobSpec(queue="default", timeout=1800),
    # A bulk job resumes where an attempt stopped, so retries never resend accepted batches.
    "worker.jobs.run_bulk_job": JobSpec(queue="actions", timeout=3600, retries=(30, 120, 300)),
    # One paced call to 1NCE's product list; a failure is recorded, and retried on a later look.
    "worker.jobs.refresh_products": JobSpec(queue="default", timeout=300),
    # Evaluation is idempotent: a retry re-decides from the stored state.
    "worker.jobs.evaluate_alerts": JobSpec(queue="default", timeout=600, retries=(30, 120)),
}


def get_queue(name: str) -> Queue:
    """The RQ queue called `name` on the app's Redis."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis())


def enqueue(job_name: str, *args: Any, dedupe_key: str | None = None, **kwargs: Any) -> Job:
    """Enqueue `job_name` with its declared queue, timeout and retries.

    With `dedupe_key`, a job with that key that is still queued or running is returned
    instead of enqueueing a second one.
    """
    spec = JOB_SPECS[job_name]
    queue = get_queue(spec.queue)
    if dedupe_key:
        existing = Job.fetch_many([dedupe_key], connection=queue.connection)[0]
        if existing is not None and existing.get_status() in ACTIVE_STATUSES:
            return existing
    return queue.enqueue_call(
        job_name,
        args=args,
        kwargs=kwargs,
        timeout=spec.timeout,
        job_id=dedupe_key,
        retry=_retry(spec.retries),
    )


def _retry(delays: tuple[int, ...]) -> Retry | None:
    """RQ retries after `delays`, scaled by JOB_RETRY_SCALE (tests shorten them).

    RQ parks a job waiting for its retry in its ScheduledJobRegistry; `python -m
    worker.scheduler` moves it back to its queue when it is due.
    """
    if not delays:
        return None
    scale = current_app.config["JOB_RETRY_SCALE"]
    return Retry(max=len(delays), interval=[max(1, round(delay * scale)) for delay in delays])


def lock_seconds() -> int:
    """How long a sync run's or bulk job's lock outlives a killed process (RUN_LOCK_SECONDS)."""
    return current_app.config["RUN_LOCK_SECONDS"]


@contextmanager
def renewing(renew: Callable[[], object], *, every: float) -> Iterator[None]:
    """Call `renew` from a daemon thread every `every` seconds while the block runs.

    It keeps a job's short-lived lock alive while one long call to 1NCE is in flight; a
    killed process renews nothing, so its lock expires soon after.
    """
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                renew()
            except RedisError as exc:
                log.warning("could not renew a lock: %s", exc)

    thread = threading.Thread(target=beat, name="lock-renewal", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
