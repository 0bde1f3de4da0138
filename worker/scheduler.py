"""`python -m worker.scheduler`: registers the periodic jobs and enqueues them on time.

Registration is idempotent: every periodic job has a fixed id, so restarting the scheduler
(or running it twice) replaces the schedule instead of doubling it.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from rq_scheduler import Scheduler

from webapp import create_app
from webapp.extensions import get_redis
from webapp.models.sync import SYNC_KINDS
from webapp.tasks import JOB_SPECS

log = logging.getLogger("simfleet.scheduler")
PERIODIC_PREFIX = "periodic-"
RETENTION_SECONDS = 24 * 3600
# The dashboard's per-SIM period figures: one pass over the usage of the last 360 days.
USAGE_PERIODS_SECONDS = 3600
FIRST_SYNC_STAGGER = 20


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


def main() -> None:
    """Register the periodic jobs, then run the scheduler loop."""
    app = create_app()
    with app.app_context():
        scheduler = Scheduler(connection=get_redis(), interval=5)
        for job_id in register_periodic_jobs(scheduler, periodic_jobs(app)):
            log.info("scheduled %s", job_id)
        scheduler.run()


if __name__ == "__main__":
    main()
