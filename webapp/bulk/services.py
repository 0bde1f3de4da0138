"""Bulk actions on SIMs: what a request means, its dry run, the job row and its results."""

import math
import secrets
import string
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
# The fields a label pattern may name: "{label} (site A)", "{iccid}".
LABEL_FIELDS = ("label", "iccid")
SAMPLE_SIZE = 10
RECENT_JOBS = 20
RESULTS_PAGE = 100
FILTER_PREFIX = "filter."
JOB_NAME = "worker.jobs.run_bulk_job"


class BulkJobNotResumable(ValueError):
    """Only a failed job can be queued again; the message says so."""


# A batch: the ICCIDs to send, each with the value it gets (as resolved when the job began).
Batch = dict[str, str | None]


def _set_status(status: str) -> Callable[[OneNceClient, Batch, dict], str | None]:
    def send(client: OneNceClient, batch: Batch, values: dict) -> str | None:
        client.update_sims(SimUpdate(iccid, status=status) for iccid in batch)
        return None

    return send


def _set_label(client: OneNceClient, batch: Batch, values: dict) -> str | None:
    client.update_sims(SimUpdate(iccid, label=label) for iccid, label in batch.items())
    return None


def _top_up(client: OneNceClient, batch: Batch, values: dict) -> str | None:
    order_number = client.top_up_sims(list(batch))
    return f"order {order_number}" if order_number else None


def label_pattern_parts(pattern: str) -> list[tuple[str, str | None]]:
    """A label pattern's pieces: literal text, then the field it names ("label", "iccid" or None).

    `{{` and `}}` stand for literal braces; ValueError for any other field, a format spec or
    an unmatched brace.
    """
    parts = []
    for text, name, spec, conversion in string.Formatter().parse(pattern):
        if name is not None and (name not in LABEL_FIELDS or spec or conversion):
            raise ValueError(f"unknown field {{{name}}}")
        parts.append((text, name))
    return parts


def new_label(pattern: str) -> sa.ColumnElement[str]:
    """Each SIM's label after the pattern, computed by PostgreSQL in one pass (no field's value
    is read as a pattern again), without the spaces an empty {label} leaves at either end."""
    fields: dict[str, sa.SQLColumnExpression[str]] = {
        "label": sa.func.coalesce(Sim.label, ""),
        "iccid": Sim.iccid,
    }
    pieces: list[sa.SQLColumnExpression[str]] = []
    for text, name in label_pattern_parts(pattern):
        if text:
            pieces.append(sa.literal(text, sa.String))
        if name is not None:
            pieces.append(fields[name])
    return sa.func.btrim(sa.func.concat(sa.literal("", sa.String), *pieces), type_=sa.String)


@dataclass(frozen=True)
class BulkAction:
    """An action: how the UI names it, which SIMs it changes, and its 1NCE bulk call."""

    name: str
    title: str
    send: Callable[[OneNceClient, Batch, dict], str | None]
    unchanged: str = ""
    # Sending a batch twice is harmless (same values again); a top-up would order twice.
    repeatable: bool = True
    # The SIM field it sets (None: none) and each SIM's new value, as SQL over `sims`: the
    # preview's old → new, the job's items and the audit's before and after.
    field: str | None = None
    new_value: Callable[[dict], sa.ColumnElement[str]] | None = None

    def changes(self, values: dict) -> sa.ColumnElement[bool]:
        """Which SIMs the action changes, by the last sync (a top-up changes every SIM)."""
        if self.field is None or self.new_value is None:
            return sa.true()
        current = sa.func.coalesce(getattr(Sim, self.field), "")
        return current != self.new_value(values)


ACTIONS: dict[str, BulkAction] = {
    action.name: action
    for action in (
        BulkAction(
            "enable",
            "Enable",
            _set_status("Enabled"),
            unchanged="already enabled at the last sync",
            field="status",
            new_value=lambda values: sa.literal("Enabled", sa.String),
        ),
        BulkAction(
            "disable",
            "Disable",
            _set_status("Disabled"),
            unchanged="already disabled at the last sync",
            field="status",
            new_value=lambda values: sa.literal("Disabled", sa.String),
        ),
        BulkAction(
            "label",
            "Set label",
            _set_label,
            unchanged="already has this label",
            field="label",
            new_value=lambda values: new_label(values["label"]),
        ),
        BulkAction("topup", "Top up", _top_up, repeatable=False),
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
class PreviewRow:
    """A SIM of the preview's sample and the value the action gives it (None: no field)."""

    sim: Sim
    new_value: str | None


@dataclass(frozen=True)
class BulkPreview:
    """The dry run: how many SIMs are selected, how many would change, and a few of them."""

    request: BulkRequest
    selected: int
    changing: int
    sample: list[PreviewRow]
    # SIMs whose new label would be longer than 1NCE takes: the job cannot run as asked.
    too_long: int = 0

    @property
    def field(self) -> str | None:
        """The SIM field the action sets (the sample shows it old → new), or None."""
        return ACTIONS[self.request.action].field

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
    action = ACTIONS[request.action]
    changes = action.changes(request.values)
    value = action.new_value(request.values) if action.new_value else sa.null()
    capped = (
        sa.select(changes.label("changes"), too_long(value).label("too_long"))
        .select_from(Sim)
        .where(*conditions)
        .limit(MAX_BULK_SIMS + 1)
        .subquery()
    )
    selected, changing, long_values = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(capped.c.changes),
            sa.func.count().filter(capped.c.too_long),
        )
    ).one()
    rows = db.session.execute(
        sa.select(Sim, value).where(*conditions, changes).order_by(Sim.iccid).limit(SAMPLE_SIZE)
    )
    sample = [PreviewRow(sim, new_value) for sim, new_value in rows]
    return BulkPreview(request, selected, changing, sample, too_long=long_values)


def too_long(value: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Whether a SIM's new value is longer than a label may be (never, for no value)."""
    return sa.func.coalesce(sa.func.char_length(value) > MAX_LABEL, sa.false())


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
