"""Real RQ workers and the scheduler: the heartbeat proves the chain end to end."""

from rq_scheduler import Scheduler

from tests.helpers import drain_queues
from webapp.extensions import get_redis
from webapp.ops.services import get_heartbeat
from webapp.tasks import enqueue, get_queue
from worker.scheduler import periodic_jobs, register_periodic_jobs


def test_heartbeat_job_runs_on_a_worker(client):
    assert get_heartbeat() is None
    job = enqueue("worker.jobs.heartbeat")
    assert job.origin == "default"
    drain_queues()
    assert job.get_status() == "finished"
    assert get_heartbeat() is not None
    assert client.get("/health/ready").json["worker"]["last_beat"] is not None


def test_enqueue_dedupes_by_key(app):
    first = enqueue("worker.jobs.heartbeat", dedupe_key="beat-once")
    second = enqueue("worker.jobs.heartbeat", dedupe_key="beat-once")
    assert first.id == second.id == "beat-once"
    assert get_queue("default").count == 1


def test_scheduler_registration_is_idempotent(app):
    scheduler = Scheduler(connection=get_redis())
    jobs = periodic_jobs(app)
    register_periodic_jobs(scheduler, jobs)
    register_periodic_jobs(scheduler, jobs)
    scheduled = {job.id: job.meta["interval"] for job in scheduler.get_jobs()}
    assert scheduled == {
        "periodic-worker-jobs-heartbeat": 60,
        "periodic-worker-jobs-enforce_retention": 86400,
        "periodic-worker-jobs-refresh_usage_periods": 3600,
        "periodic-worker-jobs-evaluate_alerts": 300,
    }


def test_sync_kinds_are_scheduled_when_1nce_is_configured(make_app):
    app = make_app(ONCE_CLIENT_ID="id", ONCE_CLIENT_SECRET="secret", SYNC_EVENTS_MINUTES=0)
    intervals = {job.id: job.seconds for job in periodic_jobs(app)}
    assert intervals["periodic-worker-jobs-sync_start-inventory"] == 15 * 60
    assert intervals["periodic-worker-jobs-sync_start-usage"] == 30 * 60
    assert "periodic-worker-jobs-sync_start-events" not in intervals
    first_runs = {job.args[0]: job.first_after for job in periodic_jobs(app) if job.args}
    assert first_runs["inventory"] == 0
    assert min(first_runs[kind] for kind in ("usage", "quotas", "connectivity")) > 0


def test_scheduler_drops_jobs_no_longer_configured(app):
    scheduler = Scheduler(connection=get_redis())
    register_periodic_jobs(scheduler, periodic_jobs(app))
    register_periodic_jobs(scheduler, [])
    assert list(scheduler.get_jobs()) == []


def test_scheduled_heartbeat_reaches_a_worker(app):
    scheduler = Scheduler(connection=get_redis())
    register_periodic_jobs(scheduler, periodic_jobs(app))
    scheduler.enqueue_jobs()
    drain_queues()
    assert get_heartbeat() is not None
