"""Alerts: rules over the stored fleet, the channels they notify, the alerts they raise and
the outbox of notifications the delivery jobs send."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import check_one_of, utcnow

SEVERITIES = ("info", "warning", "critical")
TARGET_TYPES = ("all", "label", "view")
# What each condition means: webapp/alerts/rules.py and docs/alerts.md.
CONDITION_TYPES = (
    "data_quota_below_percent", "data_quota_below_mb", "sms_quota_below_percent",
    "sms_quota_below_count", "quota_exhausted", "data_exhaustion_within_days",
    "expiry_within_days", "usage_anomaly", "silent", "status_changed", "imei_changed",
    "sim_removed", "sync_stale", "once_error_rate", "api_version_retired",
)  # fmt: skip
CHANNEL_TYPES = ("email", "webhook", "slack")
DIGEST_PERIODS = ("hourly", "daily")
ALERT_STATES = ("firing", "acknowledged", "resolved")
OPEN_STATES = ("firing", "acknowledged")
NOTIFICATION_KINDS = ("fired", "resolved", "test")
NOTIFICATION_STATUSES = ("pending", "sent", "failed")


class AlertRule(Model):
    """A condition over the targeted SIMs (or the system), with a severity and channels."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        sa.UniqueConstraint("name"),
        check_one_of("severity", SEVERITIES, name="severity_valid"),
        check_one_of("target_type", TARGET_TYPES, name="target_type_valid"),
        check_one_of("condition_type", CONDITION_TYPES, name="condition_type_valid"),
        sa.CheckConstraint("cooldown_minutes >= 0", name="cooldown_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    severity: Mapped[str] = mapped_column(sa.String(16))
    target_type: Mapped[str] = mapped_column(sa.String(16), default="all")
    # A label pattern (`*` matches anything) or a saved view's id; None for "all".
    target_value: Mapped[str | None] = mapped_column(sa.String(255))
    condition_type: Mapped[str] = mapped_column(sa.String(40))
    condition_params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Quota and usage conditions look at Enabled SIMs only unless this is set.
    include_inactive: Mapped[bool] = mapped_column(default=False)
    # A condition that clears and returns within this many minutes re-opens its alert silently.
    cooldown_minutes: Mapped[int] = mapped_column(default=60)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class AlertChannel(Model):
    """Where notifications go: an e-mail list, a signed webhook or a Slack incoming webhook."""

    __tablename__ = "alert_channels"
    __table_args__ = (
        sa.UniqueConstraint("name"),
        check_one_of("type", CHANNEL_TYPES, name="type_valid"),
        check_one_of("digest_period", DIGEST_PERIODS, name="digest_period_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(16))
    # What may be shown back (recipients, URL); never a secret.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Write-only: a webhook's signing secret, a Slack URL; never rendered, returned or logged.
    secret: Mapped[str | None] = mapped_column(sa.Text)
    # None: one message per alert; else one message per period with every alert in it.
    digest_period: Mapped[str | None] = mapped_column(sa.String(16))
    send_resolved: Mapped[bool] = mapped_column(default=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_success_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class AlertRuleChannel(Model):
    """A channel a rule notifies."""

    __tablename__ = "alert_rule_channels"

    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alert_channels.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Alert(Model):
    """One rule's alert about one SIM (or about the system, without a SIM), open or resolved."""

    __tablename__ = "alerts"
    __table_args__ = (
        check_one_of("state", ALERT_STATES, name="state_valid"),
        check_one_of("severity", SEVERITIES, name="severity_valid"),
        # One open alert per rule and SIM; system alerts (no SIM) count as one key.
        sa.Index(
            "uq_alerts_open_rule_id_iccid",
            "rule_id",
            "iccid",
            unique=True,
            postgresql_where=sa.text("state <> 'resolved'"),
            postgresql_nulls_not_distinct=True,
        ),
        # The cooldown looks up a rule's latest resolved alert of a SIM.
        sa.Index("ix_alerts_rule_id_iccid_resolved_at", "rule_id", "iccid", "resolved_at"),
        sa.Index("ix_alerts_state_since", "state", "since"),
        sa.Index("ix_alerts_iccid_since", "iccid", "since"),
        sa.Index("ix_alerts_resolved_at", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_rules.id", ondelete="CASCADE"))
    iccid: Mapped[str | None] = mapped_column(sa.String(22))
    state: Mapped[str] = mapped_column(sa.String(16), default="firing")
    severity: Mapped[str] = mapped_column(sa.String(16))
    since: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_value: Mapped[str | None] = mapped_column(sa.String(255))
    message: Mapped[str] = mapped_column(sa.String(500))
    # When the "fired" notifications were queued; None while snoozed before any was sent.
    notified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # When the "resolved" notifications were queued: an alert re-opened by the cooldown and
    # resolved again is no news.
    resolution_notified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    snoozed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def is_open(self) -> bool:
        """Firing or acknowledged: the condition still holds."""
        return self.state in OPEN_STATES


class AlertNotification(Model):
    """The outbox: one message to send to one channel about one alert's transition."""

    __tablename__ = "alert_notifications"
    __table_args__ = (
        # One "fired" and one "resolved" per alert and channel, however often it is queued.
        sa.UniqueConstraint("alert_id", "channel_id", "kind"),
        check_one_of("kind", NOTIFICATION_KINDS, name="kind_valid"),
        check_one_of("status", NOTIFICATION_STATUSES, name="status_valid"),
        sa.Index(
            "ix_alert_notifications_pending",
            "channel_id",
            "created_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    # None for a channel's test message.
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_channels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
