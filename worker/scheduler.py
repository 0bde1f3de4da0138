"""`python -m worker.scheduler`: registers the periodic jobs and enqueues them on time.

Registration is idempotent: every periodic job has a fixed id, so restarting the scheduler
(or running it twice) replaces the schedule instead of doubling it.
"""

import logging
from datetime import UTC, datetime

from flask import Flask
from rq_scheduler import Scheduler

from webapp import create_app
from webapp.extensions import get_redis
from webapp.tasks import JOB_SPECS

log = logging.getLogger("simfleet.scheduler")
PERIODIC_PREFIX = "periodic-"


def periodic_job_id(name: str) -> str:
    """A fixed id per periodic job (RQ ids allow letters, digits, '_' and '-')."""
    return PERIODIC_PREFIX + name.replace(".", "-")


def periodic_jobs(app: Flask) -> dict[str, int]:
    """Job name -> interval in seconds, from configuration; 0 disables a job."""
    jobs = {"worker.jobs.heartbeat": app.config["HEARTBEAT_SECONDS"]}
    return {name: seconds for name, seconds in jobs.items() if seconds}


def register_periodic_jobs(scheduler: Scheduler, jobs: dict[str, int]) -> list[str]:
    """Make the scheduler hold exactly `jobs`, each once; return the registered ids."""
    wanted = {periodic_job_id(name): (name, seconds) for name, seconds in jobs.items()}
    for job in scheduler.get_jobs():
        if job.id.startswith(PERIODIC_PREFIX):
            scheduler.cancel(job)
    for job_id, (name, seconds) in wanted.items():
        spec = JOB_SPECS[name]
        scheduler.schedule(
            scheduled_time=datetime.now(UTC),
            func=name,
            interval=seconds,
            repeat=None,
            id=job_id,
            queue_name=spec.queue,
            timeout=spec.timeout,
            result_ttl=max(seconds * 2, 600),
        )
    return sorted(wanted)


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
