"""Sync runs: one row per run of a sync kind, with its counters and outcome."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import check_one_of, utcnow

SYNC_KINDS = ("inventory", "usage", "quotas", "events", "connectivity")
# "abandoned": the process running it died; its kind was freed for the next run.
# "cancelled": an operator stopped it on the Sync page; its kind was freed the same way.
OUTCOMES = ("running", "success", "partial", "failed", "skipped", "abandoned", "cancelled")


class SyncRun(Model):
    """One run of one sync kind: its progress counters and how it ended."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        check_one_of("kind", SYNC_KINDS, name="kind_valid"),
        check_one_of("outcome", OUTCOMES, name="outcome_valid"),
        sa.Index("ix_sync_runs_kind_started_at", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider_accounts.id"))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(sa.String(16), default="running")
    sims_planned: Mapped[int] = mapped_column(default=0)
    sims_done: Mapped[int] = mapped_column(default=0)
    chunks_total: Mapped[int] = mapped_column(default=0)
    chunks_done: Mapped[int] = mapped_column(default=0)
    calls: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    error_message: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def duration_seconds(self) -> float | None:
        """How long the run took, once finished."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
