"""Time series: daily usage, quota samples, SIM events (hypertables with TimescaleDB), and the
fleet-per-day rollup the dashboard reads.

The time-series tables carry no foreign key to `sims`: ingest stays set-based and fast, and
SIMs are never deleted (a SIM that leaves the inventory only gets `removed_at`).
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.sim import MB

# Time-series tables and their time column, for hypertables and retention.
HYPERTABLES = {"usage_daily": "day", "quota_samples": "sampled_at", "sim_events": "occurred_at"}


class UsageDay(Model):
    """One SIM's usage on one day. Upserted: 1NCE revises today's and yesterday's numbers."""

    __tablename__ = "usage_daily"
    __table_args__ = (sa.Index("ix_usage_daily_day", "day"),)

    iccid: Mapped[str] = mapped_column(sa.String(22), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    data_rx_mb: Mapped[Decimal] = mapped_column(MB, default=0)
    data_tx_mb: Mapped[Decimal] = mapped_column(MB, default=0)
    sms_mo: Mapped[int] = mapped_column(default=0)
    sms_mt: Mapped[int] = mapped_column(default=0)


class FleetUsageDay(Model):
    """The whole fleet's usage per day, kept current at ingest so charts never scan raw rows."""

    __tablename__ = "fleet_usage_daily"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("provider_accounts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    data_rx_mb: Mapped[Decimal] = mapped_column(MB, default=0)
    data_tx_mb: Mapped[Decimal] = mapped_column(MB, default=0)
    sms_mo: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sms_mt: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class QuotaSample(Model):
    """A quota reading, stored when it differs from the previous one."""

    __tablename__ = "quota_samples"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('data', 'sms')", name="kind_valid"),
        sa.Index("ix_quota_samples_sampled_at", "sampled_at"),
    )

    iccid: Mapped[str] = mapped_column(sa.String(22), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    sampled_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), primary_key=True)
    remaining: Mapped[Decimal] = mapped_column(MB)
    total: Mapped[Decimal | None] = mapped_column(MB)
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SimEvent(Model):
    """An event 1NCE recorded for a SIM (location update, PDP context, status change...)."""

    __tablename__ = "sim_events"
    __table_args__ = (
        sa.Index("ix_sim_events_occurred_at", "occurred_at"),
        # Alerts are rare: the dashboard's newest alerts must not walk all recent events.
        sa.Index(
            "ix_sim_events_alert_occurred_at", "occurred_at", postgresql_where=sa.text("alert")
        ),
    )

    iccid: Mapped[str] = mapped_column(sa.String(22), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), primary_key=True)
    # 1NCE's event id on v2; on v1 (no ids) a digest of the whole record (see EVENT_KEY).
    event_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(200))
    severity: Mapped[str | None] = mapped_column(sa.String(32))
    alert: Mapped[bool | None]
    country: Mapped[str | None] = mapped_column(sa.String(100))
    operator: Mapped[str | None] = mapped_column(sa.String(100))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)


class SimUsagePeriod(Model):
    """One SIM's data in the last `period_days` days up to `through` and in the days before.

    `previous_data_mb` is None when the period before was not wholly kept (never fetched, or
    pruned): such a SIM has no change to rank.

    A small rollup (a few rows per SIM) so the dashboard's top consumers and biggest movers
    never sum `usage_daily` per SIM at request time.
    """

    __tablename__ = "sim_usage_periods"
    __table_args__ = (
        sa.Index("ix_sim_usage_periods_data", "period_days", sa.text("data_mb DESC")),
        # Only SIMs whose period before was kept are movers.
        sa.Index(
            "ix_sim_usage_periods_change",
            "period_days",
            sa.text("abs(data_mb - previous_data_mb) DESC"),
            postgresql_where=sa.text("previous_data_mb IS NOT NULL"),
        ),
    )

    iccid: Mapped[str] = mapped_column(sa.String(22), primary_key=True)
    period_days: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    through: Mapped[date]
    data_mb: Mapped[Decimal] = mapped_column(MB)
    previous_data_mb: Mapped[Decimal | None] = mapped_column(MB)
