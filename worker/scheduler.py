"""`python -m worker.scheduler`: registers the periodic jobs and enqueues them on time.

Registration is idempotent: every periodic job has a fixed id, so restarting the scheduler
(or running it twice) replaces the schedule instead of doubling it.

Each tick (every second) it also moves the retries RQ parked in its ScheduledJobRegistry back
to their queues once due, and hands jobs abandoned by a killed worker back to RQ's retries.
Only rq-scheduler's lock holder does either, so two schedulers never move a job twice. Every
quarter of RUN_LOCK_SECONDS (15 s) it marks "abandoned" the sync runs whose process died,
which frees their kind, and resumes the bulk jobs whose worker died.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq_scheduler import Scheduler
from sqlalchemy.exc import SQLAlchemyError

from webapp import create_app
from webapp.bulk.runner import resume_abandoned_jobs
from webapp.extensions import db, get_redis
from webapp.models.sync import SYNC_KINDS
from webapp.sync.runs import abandon_dead_runs
from webapp.tasks import JOB_SPECS, QUEUES, lock_seconds

log = logging.getLogger("simfleet.scheduler")
PERIODIC_PREFIX = "periodic-"
RETENTION_SECONDS = 24 * 3600
# The dashboard's per-SIM period figures: one pass over the usage of the last 360 days.
USAGE_PERIODS_SECONDS = 3600
FIRST_SYNC_STAGGER = 20
# How often the scheduler wakes: a retry or periodic job runs at most this late.
TICK_SECONDS = 1


@dataclass(frozen=True)
class PeriodicJob:
    """A job the scheduler enqueues every `seconds`, under a fixed id."""

    func: str
    args: tuple = ()
    seconds: int = 60
    first_after: int = 0  # seconds from registration to the first run

    @property
    def id(self) -> str:
        """A fixed id per job and arguments (RQ ids allow letters, digits, '_' and '-')."""
        return PERIODIC_PREFIX + "-".join([self.func, *map(str, self.args)]).replace(".", "-")


def periodic_jobs(app: Flask) -> list[PeriodicJob]:
    """The periodic jobs from configuration; an interval of 0 disables a job."""
    config = app.config
    jobs = [PeriodicJob("worker.jobs.heartbeat", seconds=config["HEARTBEAT_SECONDS"])]
    if config["ONCE_CONFIGURED"]:
        # The inventory goes first; per-SIM kinds start a little later, once it has SIMs.
        jobs += [
            PeriodicJob(
                "worker.jobs.sync_start",
                (kind,),
                config[f"SYNC_{kind.upper()}_MINUTES"] * 60,
                first_after=FIRST_SYNC_STAGGER * position,
            )
            for position, kind in enumerate(SYNC_KINDS)
        ]
    jobs.append(PeriodicJob("worker.jobs.enforce_retention", seconds=RETENTION_SECONDS))
    jobs.append(PeriodicJob("worker.jobs.refresh_usage_periods", seconds=USAGE_PERIODS_SECONDS))
    jobs.append(
        PeriodicJob("worker.jobs.evaluate_alerts", seconds=config["ALERTS_EVALUATE_MINUTES"] * 60)
    )
    return [job for job in jobs if job.seconds]


def register_periodic_jobs(scheduler: Scheduler, jobs: list[PeriodicJob]) -> list[str]:
    """Make the scheduler hold exactly `jobs`, each once; return the registered ids."""
    for job in scheduler.get_jobs():
        if job.id.startswith(PERIODIC_PREFIX):
            scheduler.cancel(job)
    now = datetime.now(UTC)
    for job in jobs:
        spec = JOB_SPECS[job.func]
        scheduler.schedule(
            scheduled_time=now + timedelta(seconds=job.first_after),
            func=job.func,
            args=job.args,
            interval=job.seconds,
            repeat=None,
            id=job.id,
            queue_name=spec.queue,
            timeout=spec.timeout,
            result_ttl=max(job.seconds * 2, 600),
        )
    return sorted(job.id for job in jobs)


class AppScheduler(Scheduler):
    """rq-scheduler's loop, which also runs RQ's retries when they are due."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._retries = RQScheduler(QUEUES, connection=self.connection)
        self._retries.prepare_registries(QUEUES)
        self._next_reap = 0.0

    def enqueue_jobs(self) -> list:
        """Enqueue the due periodic jobs, then the due retries and the abandoned jobs."""
        jobs = super().enqueue_jobs()
        self.enqueue_due_retries()
        if time.monotonic() >= self._next_reap:
            self._next_reap = time.monotonic() + lock_seconds() / 4
            recover_abandoned_work()
        return jobs

    def enqueue_due_retries(self) -> None:
        """Move RQ's due retries back to their queues; retry the jobs of killed workers.

        A job whose work horse died stays "started" until its execution's heartbeat expires
        (about 90 s: RQ's job monitoring interval plus 60 s); RQ's cleanup then schedules its
        retry, or fails it when none is left. A worker itself looks only every 10 minutes.
        """
        for name in QUEUES:
            StartedJobRegistry(name, connection=self.connection).cleanup()
        self._retries.enqueue_scheduled_jobs()


def recover_abandoned_work() -> None:
    """Free the kinds of sync runs whose process died, resume bulk jobs whose worker died.

    A database outage only skips a turn.
    """
    try:
        abandon_dead_runs()
        resume_abandoned_jobs()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("could not look for abandoned work: %s", exc)


def main() -> None:
    """Register the periodic jobs, then run the scheduler loop."""
    app = create_app()
    with app.app_context():
        scheduler = AppScheduler(connection=get_redis(), interval=TICK_SECONDS)
        for job_id in register_periodic_jobs(scheduler, periodic_jobs(app)):
            log.info("scheduled %s", job_id)
        scheduler.run()


if __name__ == "__main__":
    main()
