"""A sync stuck behind its lock: the Sync page says who holds it and until when, and an
operator can cancel the run (audited); its kind is freed and its remaining chunks skipped."""

import os
import re

import pytest
import sqlalchemy as sa
from rq.job import Job

from webapp.extensions import db, get_redis
from webapp.models import AuditEvent, SyncRun
from webapp.sync.runs import chunk_job_id, run_lock
from webapp.sync.services import plan_run, run_now, sync_chunk
from webapp.tasks import enqueue


@pytest.fixture
def waiting_run(app, once) -> SyncRun:
    """A usage run whose chunks wait in the queue (no worker takes them in the tests)."""
    run_now(kind="inventory", client=once)
    run, chunks = plan_run(kind="usage")
    for index, iccids in enumerate(chunks):
        enqueue("worker.jobs.sync_chunk", run.id, "usage", iccids,
                dedupe_key=chunk_job_id(run.id, index))  # fmt: skip
    assert len(chunks) > 1
    return run


def test_the_page_explains_a_run_waiting_for_its_chunks(client, login, waiting_run):
    login("operator")
    page = client.get("/sync").text
    assert f"Run #{waiting_run.id}" in page and "Its 3 queued chunks wait in the queue" in page
    assert f'action="/sync/runs/{waiting_run.id}/cancel"' in page


def test_the_page_names_the_process_holding_the_lock(client, login, held_run):
    run, _ = held_run
    login("operator")
    page = client.get("/sync").text
    assert f"Run #{run.id}, started" in page and "holds the usage lock" in page
    assert f"pid {os.getpid()} works on it since" in page
    assert re.search(r"the lock lapses within \d+ s", page)


def test_an_operator_cancels_a_waiting_run(client, login, waiting_run, once):
    user = login("operator")
    response = client.post(f"/sync/runs/{waiting_run.id}/cancel", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/sync"
    db.session.expire_all()
    run = db.session.get_one(SyncRun, waiting_run.id)
    assert run.outcome == "cancelled" and run.error_message == f"cancelled by {user.email}"
    assert run.finished_at is not None
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sync.cancel"))
    assert audit.actor_id == user.id and audit.target == "usage"
    assert audit.details["run_id"] == run.id
    jobs = Job.fetch_many([chunk_job_id(run.id, n) for n in range(3)], connection=get_redis())
    assert all(job is None or job.get_status() == "canceled" for job in jobs)
    # A chunk that runs anyway is skipped; the kind is free for a new run.
    assert sync_chunk(run_id=run.id, kind="usage", iccids=["1"], client=once) is False
    assert db.session.get_one(SyncRun, run.id).chunks_done == 0
    new_run, _ = plan_run(kind="usage")
    assert new_run.outcome == "running"
    page = client.get("/sync").text
    assert "cancelled" in page and f"Cancel run #{run.id}" not in page


def test_cancelling_a_run_in_flight_frees_its_lock(client, login, held_run):
    run, keeper = held_run
    login("admin")
    client.post(f"/sync/runs/{run.id}/cancel")
    # The process working on it can no longer renew or take the lock back.
    assert keeper.renew() is False
    lock = run_lock("usage")
    assert lock.acquire()
    lock.release()


def test_a_finished_run_cannot_be_cancelled(client, login, once):
    run, _ = plan_run(kind="usage", limit=0)
    login("operator")
    response = client.post(f"/sync/runs/{run.id}/cancel", follow_redirects=True)
    assert "not running any more" in response.text
    assert db.session.get_one(SyncRun, run.id).outcome == "success"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sync.cancel")) == 0  # fmt: skip


def test_only_operators_cancel_and_only_with_a_csrf_token(client, login, waiting_run):
    login("viewer")
    assert client.post(f"/sync/runs/{waiting_run.id}/cancel").status_code == 403
    client.post("/logout")
    login("operator")
    assert client.post(f"/sync/runs/{waiting_run.id}/cancel", csrf=False).status_code == 400
    assert db.session.get_one(SyncRun, waiting_run.id).outcome == "running"
