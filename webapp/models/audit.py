"""The audit log: who did what, when, from where. Rows are only ever appended."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import utcnow


class AuditEvent(Model):
    """One entry of the audit log."""

    __tablename__ = "audit_events"
    # Newest first, by keyset (at, id), alone or after one of the page's equality filters.
    __table_args__ = (
        sa.Index("ix_audit_events_at_id", "at", "id"),
        sa.Index("ix_audit_events_action_at_id", "action", "at", "id"),
        sa.Index("ix_audit_events_actor_at_id", "actor", "at", "id"),
        sa.Index("ix_audit_events_target_at_id", "target", "at", "id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The actor as shown in the log, kept even if the user is later removed.
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str | None] = mapped_column(sa.String(254))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
