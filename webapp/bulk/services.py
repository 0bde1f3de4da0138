"""Bulk actions on SIMs: what a request means, its dry run, the job row and its results."""

import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from webapp.audit import record_audit
from webapp.extensions import db
from webapp.models import BulkJob, BulkJobItem, Sim, User
from webapp.one_nce import OneNceClient, SimUpdate
from webapp.paging import Page
from webapp.sim_queries import SimFilters
from webapp.tasks import enqueue

# A sane ceiling: 1,000 bulk calls on 1NCE's API v1 (two minutes at its rate), 100,000 calls
# on v2, which has no bulk call (three and a half hours); narrow the view beyond.
MAX_BULK_SIMS = 100_000
# SIMs in one bulk call of 1NCE's API v1 (see webapp/bulk/runner.py); v2 has no bulk call.
BULK_CALL_SIMS = 100
MAX_LABEL = 255
SAMPLE_SIZE = 10
RECENT_JOBS = 20
RESULTS_PAGE = 100
FILTER_PREFIX = "filter."
JOB_NAME = "worker.jobs.run_bulk_job"


class BulkJobNotResumable(ValueError):
    """Only a failed job can be queued again; the message says so."""


def _set_status(status: str) -> Callable[[OneNceClient, list[str], dict], str | None]:
    def send(client: OneNceClient, iccids: list[str], values: dict) -> str | None:
        client.update_sims(SimUpdate(iccid, status=status) for iccid in iccids)
        return None

    return send


def _set_label(client: OneNceClient, iccids: list[str], values: dict) -> str | None:
    client.update_sims(SimUpdate(iccid, label=values["label"]) for iccid in iccids)
    return None


def _top_up(client: OneNceClient, iccids: list[str], values: dict) -> str | None:
    order_number = client.top_up_sims(iccids)
    return f"order {order_number}" if order_number else None


@dataclass(frozen=True)
class BulkAction:
    """An action: how the UI names it, which SIMs it changes, and its 1NCE bulk call."""

    name: str
    title: str
    changes: Callable[[dict], sa.ColumnElement[bool]]
    send: Callable[[OneNceClient, list[str], dict], str | None]
    unchanged: str = ""
    # Sending a batch twice is harmless (same values again); a top-up would order twice.
    repeatable: bool = True
    # The SIM field it sets and to what, for the audit's before and after (None: no field).
    sets: Callable[[dict], tuple[str, str]] | None = None


ACTIONS: dict[str, BulkAction] = {
    action.name: action
    for action in (
        BulkAction(
            "enable",
            "Enable",
            lambda values: Sim.status.is_distinct_from("Enabled"),
            _set_status("Enabled"),
            unchanged="already enabled at the last sync",
            sets=lambda values: ("status", "Enabled"),
        ),
        BulkAction(
            "disable",
            "Disable",
            lambda values: Sim.status.is_distinct_from("Disabled"),
            _set_status("Disabled"),
            unchanged="already disabled at the last sync",
            sets=lambda values: ("status", "Disabled"),
        ),
        BulkAction(
            "label",
            "Set label",
            lambda values: Sim.label.is_distinct_from(values["label"]),
            _set_label,
            unchanged="already has this label",
            sets=lambda values: ("label", values["label"]),
        ),
        BulkAction("topup", "Top up", lambda values: sa.true(), _top_up, repeatable=False),
    )
}


@dataclass(frozen=True)
class BulkRequest:
    """An action on either the selected ICCIDs or every SIM matching the view's filters."""

    action: str
    values: dict[str, Any] = field(default_factory=dict)
    iccids: tuple[str, ...] | None = None
    view_args: dict[str, str] | None = None

    @property
    def selection(self) -> dict[str, Any]:
        """What the job resolves when it starts, as stored on the job row."""
        if self.iccids is not None:
            return {"iccids": list(self.iccids)}
        return {"view_args": self.view_args or {}}

    def describe(self) -> str:
        """The scope in words, e.g. "3 selected SIMs" or "All SIMs matching status=Enabled"."""
        if self.iccids is not None:
            count = len(self.iccids)
            return f"{count:,} selected SIM{'s' if count != 1 else ''}"
        args = ", ".join(f"{key}={value}" for key, value in sorted((self.view_args or {}).items()))
        return (f"All SIMs matching {args}" if args else "All SIMs")[:500]

    def form_fields(self) -> list[tuple[str, str]]:
        """The form fields that post this request again (the preview's confirm button)."""
        fields = [("action", self.action)]
        if "label" in self.values:
            fields.append(("new_label", self.values["label"]))
        if self.iccids is not None:
            return [*fields, ("scope", "selected"), *(("iccid", i) for i in self.iccids)]
        view = ((FILTER_PREFIX + key, value) for key, value in (self.view_args or {}).items())
        return [*fields, ("scope", "all"), *view]


def selection_conditions(selection: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of a stored selection (the inventory's own filters for a view)."""
    if "iccids" in selection:
        # One array parameter, however many SIMs were ticked (IN would bind one per ICCID).
        chosen = sa.bindparam("selected_iccids", list(selection["iccids"]), ARRAY(sa.String))
        return [Sim.iccid == sa.any_(chosen), Sim.removed_at.is_(None)]
    return SimFilters.from_args(selection["view_args"]).conditions()


@dataclass(frozen=True)
class BulkPreview:
    """The dry run: how many SIMs are selected, how many would change, and a few of them."""

    request: BulkRequest
    selected: int
    changing: int
    sample: list[Sim]

    @property
    def too_many(self) -> bool:
        """More SIMs than one job may carry (the counts stop just above the cap)."""
        return self.selected > MAX_BULK_SIMS

    @property
    def title(self) -> str:
        """The action as the UI names it."""
        return ACTIONS[self.request.action].title

    @property
    def calls(self) -> int:
        """Calls to 1NCE the job makes: bulk calls of 100 SIMs on v1, one per SIM on v2."""
        if current_app.config["ONCE_API_VERSION"] == "v1":
            return math.ceil(self.changing / BULK_CALL_SIMS)
        return self.changing

    @property
    def minutes(self) -> int:
        """About how long the calls take at the configured rate, in whole minutes."""
        return math.ceil(self.calls / current_app.config["ONCE_MAX_RPS"] / 60)


def preview_bulk(*, request: BulkRequest) -> BulkPreview:
    """Count the selection and the SIMs the action would change, without changing anything."""
    conditions = selection_conditions(request.selection)
    changes = ACTIONS[request.action].changes(request.values)
    capped = (
        sa.select(changes.label("changes"))
        .select_from(Sim)
        .where(*conditions)
        .limit(MAX_BULK_SIMS + 1)
        .subquery()
    )
    selected, changing = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(capped.c.changes))
    ).one()
    sample = db.session.scalars(
        sa.select(Sim).where(*conditions, changes).order_by(Sim.iccid).limit(SAMPLE_SIZE)
    )
    return BulkPreview(request, selected, changing, list(sample))


def new_request_key() -> str:
    """A one-time key for a preview's confirm form."""
    return secrets.token_urlsafe(24)


def create_bulk_job(*, request: BulkRequest, user: User, request_key: str | None = None) -> BulkJob:
    """Record the job and its audit entry, then enqueue it once both are committed.

    A second confirm with the same `request_key` returns the first job instead of a new one.
    """
    existing = _job_by_key(request_key)
    if existing is not None:
        return existing
    job = BulkJob(
        user_id=user.id,
        actor=user.email,
        action=request.action,
        values=request.values,
        scope=request.describe(),
        selection=request.selection,
        state="queued",
        request_key=request_key or None,
    )
    db.session.add(job)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # The same confirm, posted twice at once: the other request made the job.
        db.session.rollback()
        return db.session.scalars(
            sa.select(BulkJob).where(BulkJob.request_key == request_key)
        ).one()
    record_audit(
        "bulk.create",
        actor=user,
        target=f"bulk job {job.id}",
        details={"action": job.action, "values": job.values, "scope": job.scope},
    )
    db.session.commit()
    job.rq_job_id = enqueue(JOB_NAME, job.id, dedupe_key=f"bulk-{job.id}").id
    db.session.commit()
    return job


def _job_by_key(request_key: str | None) -> BulkJob | None:
    if not request_key:
        return None
    return db.session.scalar(sa.select(BulkJob).where(BulkJob.request_key == request_key))


def resume_bulk_job(*, job: BulkJob, user: User) -> BulkJob:
    """Queue a failed job again; it sends only what no earlier attempt has sent."""
    if job.state != "failed":
        raise BulkJobNotResumable("Only a failed job can be resumed.")
    job.state, job.error, job.finished_at = "queued", None, None
    record_audit("bulk.resume", actor=user, target=f"bulk job {job.id}")
    db.session.commit()
    job.rq_job_id = enqueue(JOB_NAME, job.id, dedupe_key=f"bulk-{job.id}").id
    db.session.commit()
    return job


def get_bulk_job(*, job_id: int) -> BulkJob | None:
    """One bulk job, or None."""
    return db.session.get(BulkJob, job_id)


def list_bulk_jobs(*, before: int | None = None, limit: int = RECENT_JOBS) -> Page[BulkJob]:
    """Bulk jobs, newest first, older than job `before`."""
    query = sa.select(BulkJob).order_by(BulkJob.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(BulkJob.id < before)
    # Plain keys, not encoded cursors: the pages' links have always carried them so.
    return Page.from_rows(list(db.session.scalars(query)), limit, lambda job: str(job.id))


def list_bulk_items(
    *, job_id: int, after: str | None = None, outcome: str | None = None, limit: int = RESULTS_PAGE
) -> Page[BulkJobItem]:
    """A job's per-SIM results in ICCID order after `after`, optionally of one outcome."""
    query = (
        sa.select(BulkJobItem)
        .where(BulkJobItem.job_id == job_id)
        .order_by(BulkJobItem.iccid)
        .limit(limit + 1)
    )
    if after:
        query = query.where(BulkJobItem.iccid > after)
    if outcome:
        query = query.where(BulkJobItem.outcome == outcome)
    return Page.from_rows(list(db.session.scalars(query)), limit, lambda item: item.iccid)


def count_outcomes(*, job_id: int) -> dict[str, int]:
    """How many of the job's SIMs ended in each outcome ("pending" for those not sent)."""
    rows = db.session.execute(
        sa.select(BulkJobItem.outcome, sa.func.count())
        .where(BulkJobItem.job_id == job_id)
        .group_by(BulkJobItem.outcome)
    )
    return {outcome or "pending": count for outcome, count in rows}
