"""The Sync page: freshness per kind, recent runs, "sync now", and cancelling a stuck run."""

import sqlalchemy as sa
from flask import abort, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from redis.exceptions import RedisError
from rq.job import Job

from webapp.audit import record_audit
from webapp.auth.services import role_required
from webapp.extensions import db, get_redis
from webapp.models import Role, SyncRun
from webapp.models.sync import SYNC_KINDS
from webapp.pages import redirect_after_post, render_page
from webapp.sync import bp
from webapp.sync.runs import LockState, cancel_run, get_lock_state
from webapp.sync.services import get_api_version, get_freshness
from webapp.tasks import ACTIVE_STATUSES, enqueue

RECENT_RUNS = 20


def _sync_now_key(kind: str) -> str:
    return f"sync-now-{kind}"


def _sync_now_pending() -> bool | None:
    """Whether a "sync now" waits in the queue; None when the queue (Redis) cannot be read."""
    # A "sync now" waits in the queue before its run exists: the page polls meanwhile too,
    # so the run's progress shows up without a reload once a worker takes it.
    try:
        jobs = Job.fetch_many([_sync_now_key(kind) for kind in SYNC_KINDS], connection=get_redis())
        return any(job is not None and job.get_status() in ACTIVE_STATUSES for job in jobs)
    except RedisError:
        return None


def _lock_states(freshness: list[dict]) -> dict[str, LockState]:
    """Per kind with a running run: who holds its lock and when it frees (none without Redis)."""
    try:
        return {
            row["kind"]: get_lock_state(row["last"])
            for row in freshness
            if row["last"] and row["last"].outcome == "running"
        }
    except RedisError:
        return {}


def _render():
    freshness = get_freshness()
    recent = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc()).limit(RECENT_RUNS))
    running = any(row["last"] and row["last"].outcome == "running" for row in freshness)
    pending = _sync_now_pending()
    return render_page(
        "sync/status.html",
        "sync/_status.html",
        freshness=freshness,
        locks=_lock_states(freshness),
        runs=list(recent),
        # Polling also notices the queue coming back.
        busy=running or pending is not False,
        queue_down=pending is None,
        api=get_api_version(),
    )


@bp.get("")
@role_required(Role.OPERATOR)
def index():
    """Per-kind freshness, the recent runs, and buttons to sync now."""
    return _render()


@bp.post("/<kind>")
@role_required(Role.OPERATOR)
def sync_now(kind: str) -> ResponseReturnValue:
    """Queue a run of `kind` now (at most one queued per kind)."""
    if kind not in SYNC_KINDS:
        abort(404)
    try:
        enqueue("worker.jobs.sync_start", kind, dedupe_key=_sync_now_key(kind))
    except RedisError:
        flash(
            f"{kind.capitalize()} sync not queued: the job queue (Redis) is unreachable.", "error"
        )
        return redirect_after_post(url_for("sync.index"))
    record_audit("sync.start", target=kind)
    db.session.commit()
    flash(f"{kind.capitalize()} sync queued.", "success")
    return redirect_after_post(url_for("sync.index"))


@bp.post("/runs/<int:run_id>/cancel")
@role_required(Role.OPERATOR)
def cancel(run_id: int) -> ResponseReturnValue:
    """Cancel a running run: its kind is freed and its remaining chunks skipped (audited)."""
    run = cancel_run(run_id=run_id, by=current_user.email)
    if run is None:
        flash("That sync run is not running any more: nothing was cancelled.", "error")
        return redirect_after_post(url_for("sync.index"))
    record_audit(
        "sync.cancel",
        target=run.kind,
        details={
            "run_id": run.id,
            "chunks_done": run.chunks_done,
            "chunks_total": run.chunks_total,
        },
    )
    db.session.commit()
    flash(f"{run.kind.capitalize()} sync cancelled: “Sync now” can start a new run.", "success")
    return redirect_after_post(url_for("sync.index"))
