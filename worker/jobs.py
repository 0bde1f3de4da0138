"""Job functions. Thin: primitives in, a service does the work, one commit."""

import logging

from rq import get_current_job

from webapp.alerts.evaluation import evaluate
from webapp.bulk import runner as bulk
from webapp.extensions import db, get_client
from webapp.ops.services import record_heartbeat
from webapp.products import refresh_catalogue
from webapp.sim_detail.actions import settle_action
from webapp.sync import services as sync
from webapp.sync.ingest import refresh_usage_periods as refresh_periods
from webapp.sync.retention import enforce_retention as drop_expired
from webapp.sync.runs import chunk_job_id
from webapp.tasks import enqueue

log = logging.getLogger("simfleet.jobs")


def heartbeat() -> str:
    """Record that a worker is alive; /health/ready and the dashboard show the beat."""
    return record_heartbeat().isoformat()


def sync_start(kind: str) -> int | None:
    """Start a sync run: the inventory runs here, per-SIM kinds fan out into chunk jobs."""
    try:
        if kind == "inventory":
            return sync.run_inventory(client=get_client()).id
        run, chunks = sync.plan_run(kind=kind)
    except sync.SyncBusy as exc:
        log.info("sync %s not started: %s", kind, exc)
        return None
    for index, iccids in enumerate(chunks):
        enqueue(
            "worker.jobs.sync_chunk", run.id, kind, iccids, dedupe_key=chunk_job_id(run.id, index)
        )
    return run.id


def sync_chunk(run_id: int, kind: str, iccids: list[str]) -> bool:
    """Refresh one chunk of SIMs; after the last retry a failure is counted against the run."""
    try:
        return sync.sync_chunk(run_id=run_id, kind=kind, iccids=iccids, client=get_client())
    except Exception as exc:
        job = get_current_job()
        if job is None or not job.retries_left:
            sync.fail_chunk(run_id=run_id, kind=kind, iccids=iccids, error=repr(exc))
        raise


def enforce_retention() -> dict[str, int]:
    """Drop usage, events and settled records older than the configured retention."""
    return drop_expired()


def settle_sim_action(action_id: int) -> str | None:
    """Mark a SIM change applied once 1NCE shows it, or failed when it never does."""
    action = settle_action(action_id=action_id, client=get_client())
    return action.state if action else None


def refresh_usage_periods() -> int:
    """Recompute every SIM's data per dashboard period: the periods move on with each day."""
    written = refresh_periods(db.session.connection())
    db.session.commit()
    return written


def evaluate_alerts(iccids: list[str] | None = None) -> dict[str, int]:
    """Evaluate the alert rules: for the SIMs a sync chunk touched, or all (periodic)."""
    counts = evaluate(iccids=iccids)
    return {"fired": counts.fired, "stayed": counts.stayed, "resolved": counts.resolved}


def run_bulk_job(job_id: int) -> str:
    """Carry out a bulk action on SIMs; a retry sends only what no attempt has sent yet."""
    try:
        return bulk.run_bulk_job(job_id=job_id, client=get_client())
    except Exception as exc:
        job = get_current_job()
        final = job is None or not job.retries_left
        bulk.fail_bulk_job(job_id=job_id, error=f"{type(exc).__name__}: {exc}", final=final)
        raise


def refresh_products() -> int | None:
    """Fetch 1NCE's product list into the cache the top-up's price is read from."""
    catalogue = refresh_catalogue(client=get_client())
    return None if catalogue is None else len(catalogue.products)
