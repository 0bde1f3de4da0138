"""The sync: inventory passes and per-SIM refreshes, recorded as runs, safe to repeat."""

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app
from redis import RedisError

from webapp.extensions import db
from webapp.models import ProviderAccount, SyncRun
from webapp.models.base import utcnow
from webapp.models.sync import SYNC_KINDS
from webapp.one_nce import (
    Event,
    OneNceClient,
    OneNceMalformedResponse,
    OneNceNotFound,
    Reject,
    UsageRecord,
)
from webapp.sync import ingest
from webapp.sync.planner import chunked, interval_minutes, plan_sims, sim_budget
from webapp.sync.runs import (
    RunKeeper,
    Tally,
    add_chunk,
    close_dead_runs,
    finish_run,
    is_running,
    run_lock,
    start_run,
)
from webapp.tasks import enqueue

T = TypeVar("T")
log = logging.getLogger("simfleet.sync")
LATE_EVENT_MARGIN = timedelta(minutes=30)
# 1NCE switches its Management API v1 off at the end of this day.
V1_RETIREMENT = date(2026, 12, 31)


class SyncBusy(RuntimeError):
    """A run of this kind is still going; the same sync never runs twice at once."""


def get_account() -> ProviderAccount:
    """The configured 1NCE account's row, created on first use."""
    config = current_app.config
    query = sa.select(ProviderAccount).where(
        ProviderAccount.api_url == config["ONCE_API_URL"],
        ProviderAccount.client_id == config["ONCE_CLIENT_ID"],
    )
    account = db.session.scalar(query)
    if account is None:
        db.session.execute(
            sa.dialects.postgresql.insert(ProviderAccount)
            .values(name="1NCE", api_url=config["ONCE_API_URL"], client_id=config["ONCE_CLIENT_ID"])
            .on_conflict_do_nothing()
        )
        db.session.commit()
        account = db.session.scalars(query).one()
    return account


def _begin(kind: str) -> tuple[SyncRun, ProviderAccount]:
    """Take the kind's lock and record a running run, or raise SyncBusy."""
    lock = run_lock(kind)
    if not lock.acquire():
        raise SyncBusy(f"a {kind} sync is already running")
    # Holding the lock, no process works on an earlier run of this kind: it is abandoned,
    # unless chunks of it still wait in the queue.
    if close_dead_runs(kind=kind):
        lock.release()
        raise SyncBusy(f"a {kind} sync is waiting for its queued chunks")
    account = get_account()
    token = lock.local.token
    return start_run(kind=kind, account_id=account.id, lock_token=token.decode()), account


def run_inventory(*, client: OneNceClient) -> SyncRun:
    """Page through the whole inventory, upsert each page, then flag SIMs that vanished."""
    run, account = _begin("inventory")
    with RunKeeper(run_id=run.id, kind="inventory") as keeper:
        return _pass_inventory(run, account, client, keeper)


def _pass_inventory(
    run: SyncRun, account: ProviderAccount, client: OneNceClient, keeper: RunKeeper
) -> SyncRun:
    run.chunks_total = 1
    tally = Tally()
    try:
        for page in client.list_sims():
            tally.calls += 1
            tally.errors += _log_rejects(page.rejects)
            if page.records:
                ingest.upsert_sims(account_id=account.id, sims=page.records, seen_at=run.started_at)
                tally.rows += len(page.records)
                tally.sims += len(page.records)
            db.session.commit()
            if not is_running(run.id):
                log.info("inventory run %s stopped: it was cancelled", run.id)
                return run
            keeper.renew()
        # Only a complete pass may conclude that a SIM is gone.
        ingest.mark_removed(account_id=account.id, before=run.started_at)
        add_chunk(run_id=run.id, tally=tally)
        db.session.commit()
        evaluate_alerts_later(None)  # statuses, IMEIs and removals of the whole fleet
    except Exception as exc:
        db.session.rollback()
        add_chunk(run_id=run.id, tally=tally)
        db.session.commit()
        finish_run(run=run, kind="inventory", error=_describe(exc))
        raise
    return finish_run(run=run, kind="inventory")


def _log_rejects(rejects: Sequence[Reject]) -> int:
    for reject in rejects:
        log.warning("skipped malformed SIM record iccid=%s: %s", reject.iccid, reject.error)
    return len(rejects)


def plan_run(*, kind: str, limit: int | None = None) -> tuple[SyncRun, list[list[str]]]:
    """Start a per-SIM run: pick the SIMs within the budget and split them into chunks."""
    run, account = _begin(kind)
    with RunKeeper(run_id=run.id, kind=kind):
        iccids = plan_sims(kind=kind, account_id=account.id, limit=limit or sim_budget(kind))
        chunks = chunked(iccids, current_app.config["SYNC_CHUNK_SIMS"])
        run.sims_planned, run.chunks_total = len(iccids), len(chunks)
        db.session.commit()
    if not chunks:
        finish_run(run=run, kind=kind)
    return run, chunks


def sync_chunk(*, run_id: int, kind: str, iccids: Sequence[str], client: OneNceClient) -> bool:
    """Refresh one chunk of SIMs in one transaction; True when it finished its run.

    A chunk of a run abandoned meanwhile (it was retried after its worker died, too late) is
    skipped: the newer run covers its SIMs.
    """
    if not is_running(run_id):
        log.info("sync %s chunk of run %s skipped: the run is over", kind, run_id)
        return False
    account_id = db.session.scalar(sa.select(SyncRun.account_id).where(SyncRun.id == run_id))
    assert account_id is not None, "_begin gave the run its account"
    with RunKeeper(run_id=run_id, kind=kind):
        tally = FETCHERS[kind](client=client, account_id=account_id, iccids=iccids)
        last = add_chunk(run_id=run_id, tally=tally)
        db.session.commit()
    evaluate_alerts_later(iccids)
    if last:
        finish_run(run=db.session.get_one(SyncRun, run_id), kind=kind)
    return last


def evaluate_alerts_later(iccids: Sequence[str] | None) -> None:
    """Queue an alert evaluation of the SIMs a chunk just wrote (None: all of them).

    An evaluation of the same SIMs still waiting covers them; a Redis outage costs only the
    wait for the next periodic pass.
    """
    key = "alerts-" + (hashlib.sha1("\n".join(iccids).encode()).hexdigest() if iccids else "all")
    try:
        enqueue("worker.jobs.evaluate_alerts", list(iccids) if iccids else None, dedupe_key=key)
    except RedisError as exc:
        log.warning("could not queue an alert evaluation: %s", exc)


def fail_chunk(*, run_id: int, kind: str, iccids: Sequence[str], error: str) -> None:
    """Count a chunk that failed for good, so its run still ends (as partial)."""
    db.session.rollback()
    log.error("sync %s chunk of run %s failed: %s", kind, run_id, error)
    last = add_chunk(run_id=run_id, tally=Tally(errors=len(iccids)))
    db.session.commit()
    if last:
        finish_run(run=db.session.get_one(SyncRun, run_id), kind=kind)


def _per_sim(
    iccids: Sequence[str], fetch: Callable[[str], tuple[int, T]], tally: Tally
) -> list[tuple[str, T]]:
    """Call `fetch` for each SIM; skip SIMs 1NCE no longer knows or answers garbage for."""
    results = []
    for iccid in iccids:
        try:
            calls, result = fetch(iccid)
        except OneNceNotFound:
            tally.calls += 1
            tally.errors += 1
            log.warning("sync: 1NCE does not know iccid=%s any more", iccid)
            continue
        except OneNceMalformedResponse as exc:
            # Nothing is stored for this SIM; the run names the first such answer.
            tally.calls += 1
            tally.errors += 1
            tally.problem = tally.problem or f"iccid {iccid}: {exc}"
            log.warning("sync: skipped malformed answer for iccid=%s: %s", iccid, exc)
            continue
        tally.calls += calls
        tally.sims += 1
        results.append((iccid, result))
    return results


def fetch_usage(*, client: OneNceClient, account_id: int, iccids: Sequence[str]) -> Tally:
    """Fetch usage since each SIM's last synced day (1NCE revises today and yesterday)."""
    today = datetime.now(UTC).date()
    backfill = today - timedelta(days=current_app.config["USAGE_BACKFILL_DAYS"] - 1)
    synced_through: dict[str, date] = dict(
        db.session.execute(
            sa.text("SELECT iccid, usage_synced_through FROM sims WHERE iccid = ANY(:iccids)"),
            {"iccids": list(iccids)},
        ).all()
    )

    def fetch(iccid: str) -> tuple[int, tuple[UsageRecord, ...]]:
        last = synced_through.get(iccid)
        start = max(last - timedelta(days=1), backfill) if last else backfill
        return 1, client.get_usage(iccid, start=start, end=today)

    tally = Tally()
    results = _per_sim(iccids, fetch, tally)
    rows = [(iccid, day) for iccid, days in results for day in days]
    tally.rows = ingest.upsert_usage(account_id=account_id, rows=rows) if rows else 0
    if results:
        fetched = [iccid for iccid, _ in results]
        ingest.refresh_usage_figures(iccids=fetched, synced_through=today, fetched_from=backfill)
        # The dashboard's top consumers and movers follow each sync, not just the hourly job.
        ingest.refresh_usage_periods(db.session.connection(), through=today, iccids=fetched)
    return tally


def fetch_quotas(*, client: OneNceClient, account_id: int, iccids: Sequence[str]) -> Tally:
    """Fetch the data and SMS quota of each SIM."""
    tally = Tally()
    results = _per_sim(
        iccids, lambda iccid: (2, (client.get_data_quota(iccid), client.get_sms_quota(iccid))),
        tally,
    )  # fmt: skip
    tally.rows = ingest.record_quotas(quotas=[(iccid, data, sms) for iccid, (data, sms) in results])
    return tally


def fetch_events(*, client: OneNceClient, account_id: int, iccids: Sequence[str]) -> Tally:
    """Fetch events newer than the newest stored one of each SIM (newest first, paged)."""
    floor = utcnow() - timedelta(days=current_app.config["EVENT_RETENTION_DAYS"] or 30)
    latest: dict[str, datetime] = dict(
        db.session.execute(
            sa.text("SELECT iccid, latest_event_at FROM sims WHERE iccid = ANY(:iccids)"),
            {"iccids": list(iccids)},
        ).all()
    )

    def fetch(iccid: str) -> tuple[int, list[Event]]:
        known = latest.get(iccid)
        # Re-read a margin before the newest stored event: 1NCE may record an event late,
        # behind one already fetched; the insert skips the ones already stored.
        since = known - LATE_EVENT_MARGIN if known else floor
        pages = list(client.list_events(iccid, since=since))
        return len(pages), [event for page in pages for event in page.records]

    tally = Tally()
    results = _per_sim(iccids, fetch, tally)
    events = [(iccid, event) for iccid, found in results for event in found]
    tally.rows = ingest.insert_events(events=events) if events else 0
    ingest.mark_events_synced(iccids=[iccid for iccid, _ in results])
    return tally


def fetch_connectivity(*, client: OneNceClient, account_id: int, iccids: Sequence[str]) -> Tally:
    """Fetch the connectivity status of each SIM."""
    tally = Tally()
    results = _per_sim(iccids, lambda iccid: (1, client.get_connectivity(iccid)), tally)
    if results:
        ingest.record_connectivity(states=results)
    tally.rows = len(results)
    return tally


def refresh_connectivity(*, client: OneNceClient, iccid: str) -> None:
    """Read one SIM's live connectivity and store it as the connectivity sync does."""
    ingest.record_connectivity(states=[(iccid, client.get_connectivity(iccid))])


FETCHERS = {
    "usage": fetch_usage,
    "quotas": fetch_quotas,
    "events": fetch_events,
    "connectivity": fetch_connectivity,
}


def run_now(*, kind: str, client: OneNceClient, limit: int | None = None) -> SyncRun:
    """Run one kind to the end in this process (the CLI and tests use this)."""
    if kind == "inventory":
        return run_inventory(client=client)
    run, chunks = plan_run(kind=kind, limit=limit)
    for iccids in chunks:
        try:
            sync_chunk(run_id=run.id, kind=kind, iccids=iccids, client=client)
        except Exception as exc:
            fail_chunk(run_id=run.id, kind=kind, iccids=iccids, error=_describe(exc))
    db.session.refresh(run)
    return run


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def get_api_version(*, today: date | None = None) -> dict:
    """Which 1NCE API version the sync speaks, and on v1 how long 1NCE still answers it."""
    version = current_app.config["ONCE_API_VERSION"]
    status: dict = {"version": version}
    if version == "v1":
        days_left = (V1_RETIREMENT - (today or datetime.now(UTC).date())).days
        status["v1_retires_on"] = V1_RETIREMENT.isoformat()
        status["days_left"] = max(days_left, 0)
        status["retired"] = days_left < 0
        status["advice"] = "set ONCE_API_VERSION=v2 (or unset it) and restart web and workers"
    return status


def get_freshness() -> list[dict]:
    """Per kind: the last run, the last successful run, and whether it is overdue."""
    rows = []
    for kind in SYNC_KINDS:
        last = db.session.scalar(
            sa.select(SyncRun).where(SyncRun.kind == kind).order_by(SyncRun.id.desc()).limit(1)
        )
        success = db.session.scalar(
            sa.select(SyncRun)
            .where(SyncRun.kind == kind, SyncRun.outcome.in_(("success", "partial")))
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        minutes = interval_minutes(kind)
        finished = success.finished_at if success else None
        overdue = (
            bool(minutes)
            and finished is not None
            and finished < utcnow() - timedelta(minutes=2 * minutes)
        )
        rows.append(
            {"kind": kind, "interval_minutes": minutes, "last": last, "success": success,
             "overdue": overdue}
        )  # fmt: skip
    return rows
