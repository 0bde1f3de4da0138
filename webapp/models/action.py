"""Changes requested of 1NCE for one SIM, kept until 1NCE shows them applied (or not)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import check_one_of, utcnow

ACTION_STATES = ("pending", "applied", "failed")


class SimAction(Model):
    """One requested change (status, label, IMEI lock, reset, top-up, SMS) and how it settled."""

    __tablename__ = "sim_actions"
    __table_args__ = (
        check_one_of("state", ACTION_STATES, name="state_valid"),
        # The detail page lists a SIM's latest actions; pending ones are few and polled.
        sa.Index("ix_sim_actions_iccid_requested_at", "iccid", "requested_at"),
        sa.Index("ix_sim_actions_pending", "iccid", postgresql_where=sa.text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    iccid: Mapped[str] = mapped_column(sa.String(22))
    action: Mapped[str] = mapped_column(sa.String(16))
    # What was asked for (an SMS keeps its length only, like the audit log).
    requested: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The values it replaces, as Simfleet last saw them (changes of SIM fields only).
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    actor: Mapped[str] = mapped_column(sa.String(254))
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    settled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # 1NCE's answer (order number, SMS id) or why the change was not confirmed.
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
