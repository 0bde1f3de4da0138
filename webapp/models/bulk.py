"""Bulk actions on SIMs: one row per job, one row per SIM of its selection with its outcome."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import check_one_of, utcnow

BULK_ACTIONS = ("enable", "disable", "label", "topup")
JOB_STATES = ("queued", "running", "retrying", "done", "failed")
# NULL: not sent yet; "sending": handed to 1NCE by an attempt that has not recorded the answer.
ITEM_OUTCOMES = ("sending", "accepted", "unchanged", "failed", "unknown")


class BulkJob(Model):
    """A bulk action: who asked for what on which SIMs, and how far it got."""

    __tablename__ = "bulk_jobs"
    __table_args__ = (
        check_one_of("action", BULK_ACTIONS, name="action_valid"),
        check_one_of("state", JOB_STATES, name="state_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The requester as shown, kept even if the user is later removed.
    actor: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    action: Mapped[str] = mapped_column(sa.String(16))
    # The action's values, e.g. {"label": "pump 7"}.
    values: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    scope: Mapped[str] = mapped_column(sa.String(500))
    # What to resolve when the job starts: {"iccids": [...]} or {"view_args": {...}}.
    selection: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # NULL until the job has resolved its selection into items.
    total: Mapped[int | None]
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(sa.String(16), default="queued")
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(64))
    # The preview's one-time key: a confirm posted twice (double click, reload) is one job.
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def active(self) -> bool:
        """Whether the job may still make progress (its page keeps polling)."""
        return self.state in ("queued", "running", "retrying")


class BulkJobItem(Model):
    """One SIM of a bulk job and what became of it."""

    __tablename__ = "bulk_job_items"
    # No index on outcome: the primary key (job_id, iccid) serves every query, and an
    # outcome index tempted PostgreSQL's generic plans into scanning all pending items.
    __table_args__ = (check_one_of("outcome", ITEM_OUTCOMES, name="outcome_valid"),)

    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    iccid: Mapped[str] = mapped_column(sa.String(22), primary_key=True)
    # The value the action gives this SIM's field (its label, status), as resolved when the
    # job began; NULL for a SIM left unchanged and for actions that set no field (top-up).
    new_value: Mapped[str | None] = mapped_column(sa.String(255))
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    message: Mapped[str | None] = mapped_column(sa.String(500))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
