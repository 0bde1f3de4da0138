"""Carrying out a bulk job: resolve the selection once, then send batches and record outcomes.

A job's lock lives only while an attempt does (`RUN_LOCK_SECONDS`, renewed per batch and while
a call is in flight); the scheduler resumes a job that no attempt works on any more and RQ
holds no retry of (its worker was killed).

Every step commits before the next, so a retried or restarted job picks up where the last
attempt stopped. A batch is marked "sending" (committed) before it goes to 1NCE and settled
after the answer; an attempt that died in between leaves it "sending". The next attempt
sends such an update batch again (same values: harmless) but never a top-up batch, whose
SIMs it marks "unknown" for a person to check against 1NCE's orders.
"""

import logging

import sqlalchemy as sa
from redis.lock import Lock
from rq.job import Job

from webapp.audit import record_audit
from webapp.bulk.services import (
    ACTIONS,
    BULK_CALL_SIMS,
    MAX_BULK_SIMS,
    MAX_LABEL,
    Batch,
    BulkAction,
    selection_conditions,
    too_long,
)
from webapp.extensions import db, get_redis
from webapp.models import AuditEvent, BulkJob, BulkJobItem, Sim
from webapp.models.base import utcnow
from webapp.one_nce import OneNceClient, OneNceError, OneNceNotFound, OneNceRejected
from webapp.tasks import enqueue, lock_seconds, renewing

log = logging.getLogger("simfleet.bulk")

# 1NCE documents no limit on the items of one bulk call. 100 is the largest collection it
# documents on /sims (a page of the SIM list); 100 updates are a body of about 8 KB, far
# below API Gateway's 10 MB, and one refused SIM (an expired one: 422) refuses only 100.
# 1NCE's API v2 has no bulk call: there a batch is one SIM, sent with one call.
BATCH_SIZE = BULK_CALL_SIMS
UNFINISHED = ("queued", "running", "retrying")
# RQ still holds the job: it will run (again) without help.
PENDING_RQ_STATUSES = ("queued", "scheduled", "deferred")
IN_DOUBT = "the worker stopped while this top-up was being ordered; check 1NCE's orders"


class BulkAborted(Exception):
    """1NCE refused every SIM of a batch one by one: the request itself is wrong."""


def run_bulk_job(*, job_id: int, client: OneNceClient) -> str:
    """Carry out a bulk job; run again, it sends only what no attempt has sent yet."""
    lock = _job_lock(job_id)
    if not lock.acquire():
        return "busy"  # another worker is on it
    try:
        with renewing(lock.reacquire, every=lock_seconds() / 4):
            return _run(job_id, client, lock)
    finally:
        if lock.owned():
            lock.release()


def _job_lock(job_id: int) -> Lock:
    # Not thread-local: the renewing thread extends the lock this thread took.
    return get_redis().lock(
        f"simfleet:bulk:lock:{job_id}", timeout=lock_seconds(), blocking=False, thread_local=False
    )


def _run(job_id: int, client: OneNceClient, lock: Lock) -> str:
    """Send what no attempt has sent yet, holding the job's lock (renewed after each batch)."""
    job = db.session.get(BulkJob, job_id)
    if job is None or job.state == "done":
        return job.state if job else "missing"
    _start(job)
    if job.total is None and not _resolve(job):
        return job.state
    _recover_in_flight(job)
    action = ACTIONS[job.action]
    try:
        # Holding the lock, every unsent SIM below the last batch was claimed: a keyset
        # cursor then finds the next batch without rescanning the settled ones.
        size = BATCH_SIZE if client.has_bulk_calls else 1
        after = ""
        while batch := _claim_batch(job.id, after=after, size=size):
            _send(job, action, client, batch)
            after = max(batch)
            lock.reacquire()
    except BulkAborted as exc:
        _end(job, "failed", error=str(exc))
        return job.state
    _end(job, "done")
    return job.state


def resume_abandoned_jobs() -> list[int]:
    """Enqueue again the unfinished jobs no attempt works on and RQ holds no retry of.

    Their lock expired (the worker that ran them was killed), so nothing else would resume
    them; the next attempt sends only what none has sent. Returns the resumed jobs' ids.
    """
    unfinished = db.session.scalars(
        sa.select(BulkJob).where(BulkJob.state.in_(UNFINISHED)).order_by(BulkJob.id)
    ).all()
    resumed = []
    for job in unfinished:
        rq_job = (
            Job.fetch_many([job.rq_job_id], connection=get_redis())[0] if job.rq_job_id else None
        )
        if rq_job is not None and rq_job.get_status() in PENDING_RQ_STATUSES:
            continue
        if get_redis().exists(f"simfleet:bulk:lock:{job.id}"):
            continue  # an attempt is alive: it renews the lock
        log.warning("bulk job %s: its worker stopped; resuming it", job.id)
        job.rq_job_id = enqueue("worker.jobs.run_bulk_job", job.id).id
        resumed.append(job.id)
    db.session.commit()
    return resumed


def fail_bulk_job(*, job_id: int, error: str, final: bool) -> None:
    """Note an attempt's failure: "retrying" while RQ will try again, else "failed"."""
    db.session.rollback()
    job = db.session.get(BulkJob, job_id)
    if job is None or job.state == "done":
        return
    if final:
        _end(job, "failed", error=error)
    else:
        job.state, job.error = "retrying", error
        db.session.commit()


def _start(job: BulkJob) -> None:
    job.state, job.error = "running", None
    job.started_at = job.started_at or utcnow()
    db.session.commit()


def _resolve(job: BulkJob) -> bool:
    """Turn the selection into items set-based; SIMs the action would not change are done."""
    conditions = selection_conditions(job.selection)
    capped = sa.select(Sim.iccid).where(*conditions).limit(MAX_BULK_SIMS + 1).subquery()
    selected = db.session.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()
    if selected > MAX_BULK_SIMS:
        _end(job, "failed", error=f"more than {MAX_BULK_SIMS:,} SIMs; narrow the selection")
        return False
    action = ACTIONS[job.action]
    changes = action.changes(job.values)
    value = action.new_value(job.values) if action.new_value else sa.null()
    longest = sa.select(sa.func.count()).where(*conditions, changes, too_long(value))
    if overlong := db.session.execute(longest).scalar_one():
        error = f"{overlong:,} new labels would be longer than {MAX_LABEL} characters"
        _end(job, "failed", error=f"{error}; shorten the pattern")
        return False
    columns = ["job_id", "iccid", "new_value", "outcome", "message", "finished_at"]
    pending = sa.select(
        sa.literal(job.id), Sim.iccid, value, sa.null(), sa.null(), sa.null()
    ).where(*conditions, changes)
    unchanged = sa.select(
        sa.literal(job.id),
        Sim.iccid,
        sa.null(),
        sa.literal("unchanged"),
        sa.literal(action.unchanged),
        sa.literal(utcnow()),
    ).where(*conditions, sa.not_(changes))
    for rows in (pending, unchanged):
        db.session.execute(sa.insert(BulkJobItem).from_select(columns, rows))
    is_unchanged = BulkJobItem.outcome == "unchanged"
    job.total, job.done = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(is_unchanged)).where(
            BulkJobItem.job_id == job.id
        )
    ).one()
    db.session.commit()
    return True


def _recover_in_flight(job: BulkJob) -> None:
    """Settle the batches a dead attempt left "sending" (see the module docstring)."""
    in_flight = sa.update(BulkJobItem).where(
        BulkJobItem.job_id == job.id, BulkJobItem.outcome == "sending"
    )
    if ACTIONS[job.action].repeatable:
        db.session.execute(in_flight.values(outcome=None))
    else:
        settled = in_flight.values(outcome="unknown", message=IN_DOUBT, finished_at=utcnow())
        # A DML statement's result is a CursorResult; Session.execute is typed as Result.
        count = db.session.execute(settled).rowcount  # type: ignore[attr-defined]
        _count(job.id, done=count, failed=count)
    db.session.commit()


def _claim_batch(job_id: int, *, after: str, size: int) -> Batch:
    """Mark the next batch of unsent SIMs after ICCID `after` "sending" and commit, before
    anything is sent; returns each SIM's new value."""
    pending = (
        sa.select(BulkJobItem.iccid, BulkJobItem.new_value)
        .where(
            BulkJobItem.job_id == job_id,
            BulkJobItem.iccid > after,
            BulkJobItem.outcome.is_(None),
        )
        .order_by(BulkJobItem.iccid)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    # Two statements, not UPDATE ... IN (SELECT ... LIMIT): PostgreSQL may rescan such a
    # subquery and claim more than one batch.
    batch: Batch = {iccid: value for iccid, value in db.session.execute(pending)}
    if batch:
        db.session.execute(
            sa.update(BulkJobItem)
            .where(BulkJobItem.job_id == job_id, BulkJobItem.iccid.in_(list(batch)))
            .values(outcome="sending")
        )
    db.session.commit()
    return batch


def _send(job: BulkJob, action: BulkAction, client: OneNceClient, batch: Batch) -> int:
    """Send one batch; when 1NCE refuses it, halve it to find the SIMs it refuses.

    Returns how many SIMs were refused. Other errors (outage, rate limit) propagate and
    leave the batch "sending" for the next attempt.
    """
    iccids = list(batch)
    try:
        message = action.send(client, batch, job.values)
    except (OneNceRejected, OneNceNotFound) as exc:
        # A refused call changed nothing at 1NCE, so even a top-up may be split and resent.
        if len(iccids) == 1:
            _settle(job.id, iccids, "failed", _refusal(exc))
            return 1
        items, half = list(batch.items()), len(iccids) // 2
        refused = _send(job, action, client, dict(items[:half]))
        refused += _send(job, action, client, dict(items[half:]))
        if refused == len(iccids):
            raise BulkAborted(f"1NCE refused every SIM of a batch: {exc.message}") from None
        return refused
    _audit_changes(job, action, iccids)
    _settle(job.id, iccids, "accepted", message)
    return 0


def _audit_changes(job: BulkJob, action: BulkAction, iccids: list[str]) -> None:
    """One audit entry per SIM 1NCE accepted, with the field's value before and after."""
    if action.field is None:
        return
    field = action.field
    change = sa.func.jsonb_build_object(
        field,
        sa.func.jsonb_build_object("before", getattr(Sim, field), "after", BulkJobItem.new_value),
    )
    entries = sa.select(
        sa.literal(utcnow()),
        sa.literal(job.user_id, sa.Integer),
        sa.literal(job.actor),
        sa.literal(f"bulk.sim.{action.name}"),
        Sim.iccid,
        sa.func.jsonb_build_object("job_id", job.id, "changes", change),
    ).where(Sim.iccid.in_(iccids), BulkJobItem.job_id == job.id, BulkJobItem.iccid == Sim.iccid)
    columns = ["at", "actor_id", "actor", "action", "target", "details"]
    db.session.execute(sa.insert(AuditEvent).from_select(columns, entries))


def _refusal(exc: OneNceError) -> str:
    """Why 1NCE refused one SIM, in words: v1 refuses an expired SIM with an empty 422, v2
    with a 409 Conflict that says so."""
    if exc.status == 422 or (exc.status == 409 and "expired" in exc.message.lower()):
        return (
            f"1NCE refuses changes to expired SIMs (HTTP {exc.status}); only an extension is"
            " possible"
        )
    return f"1NCE refused it (HTTP {exc.status}): {exc.message}"


def _settle(job_id: int, iccids: list[str], outcome: str, message: str | None) -> None:
    """Record the outcome of SIMs and count them as done, in one commit."""
    db.session.execute(
        sa.update(BulkJobItem)
        .where(BulkJobItem.job_id == job_id, BulkJobItem.iccid.in_(iccids))
        .values(outcome=outcome, message=message and message[:500], finished_at=utcnow())
    )
    _count(job_id, done=len(iccids), failed=len(iccids) if outcome == "failed" else 0)
    db.session.commit()


def _count(job_id: int, *, done: int, failed: int) -> None:
    db.session.execute(
        sa.update(BulkJob)
        .where(BulkJob.id == job_id)
        .values(done=BulkJob.done + done, failed=BulkJob.failed + failed)
    )


def _end(job: BulkJob, state: str, *, error: str | None = None) -> None:
    """Finish the job with a state and audit how it ended."""
    db.session.refresh(job)
    job.state, job.error, job.finished_at = state, error, utcnow()
    record_audit(
        f"bulk.{state}",
        actor_label="system",
        target=f"bulk job {job.id}",
        details={"total": job.total, "done": job.done, "failed": job.failed, "error": error},
    )
    db.session.commit()
