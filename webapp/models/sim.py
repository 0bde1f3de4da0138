"""SIMs: the 1NCE inventory plus the latest quota and connectivity values, denormalised so
that every filter of the inventory page is one indexed query."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import utcnow

MB = sa.Numeric(18, 6)
SEARCHABLE = ("iccid", "imsi", "msisdn", "imei", "ip_address", "label")
SORTABLE = (
    "online", "last_seen_at", "country", "operator", "label", "status", "data_remaining_mb",
    "avg_daily_mb_7d", "avg_daily_mb_30d", "usage_synced_at",
)  # fmt: skip


@dataclass(frozen=True)
class QuotaState:
    """A quota bucket: 1NCE's `quota_status.id`, kept in `sims.data_quota_state`."""

    id: int
    name: str  # in URLs, the API, the CSV export and CSS classes
    label: str  # the state, on the SIM page
    filter_label: str  # the bucket's bounds, in the inventory's filter


# Migrations never import app code: sim_document() (migration d8e9f0a1b2c3) spells these in SQL.
QUOTA_STATES = {
    state.name: state
    for state in (
        QuotaState(0, "ok", "OK", "OK (20 % or more)"),
        QuotaState(1, "low", "Low (under 20 % left)", "Below 20 %"),
        QuotaState(2, "exhausted", "Exhausted (no data left)", "Exhausted"),
    )
}
QUOTA_STATES_BY_ID = {state.id: state for state in QUOTA_STATES.values()}


class Sim(Model):
    """One SIM of the fleet as last synced, with its latest quota and connectivity."""

    __tablename__ = "sims"
    __table_args__ = (
        sa.Index("ix_sims_account_status", "account_id", "status"),
        sa.Index("ix_sims_data_quota_state", "data_quota_state"),
        sa.Index("ix_sims_data_exhausted_on", "data_exhausted_on"),
        sa.Index("ix_sims_ip_address", "ip_address"),
        # The fleet's first known day of usage (MIN), and the SIMs retention moves forward.
        sa.Index("ix_sims_usage_synced_from", "usage_synced_from"),
        # Keyset pages of the inventory sorted by a column: (column, iccid), either direction.
        *(sa.Index(f"ix_sims_{column}", column, "iccid") for column in SORTABLE),
        sa.Index(
            "ix_sims_runs_out_on",
            sa.text("LEAST(data_exhausted_on, timezone('UTC'::text, data_expires_at)::date)"),
            "iccid",
        ),
        *(
            sa.Index(
                f"ix_sims_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
            for column in SEARCHABLE
        ),
    )

    iccid: Mapped[str] = mapped_column(sa.String(22), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("provider_accounts.id"))
    # Inventory, as 1NCE reports it.
    imsi: Mapped[str | None] = mapped_column(sa.String(20))
    msisdn: Mapped[str | None] = mapped_column(sa.String(20))
    imei: Mapped[str | None] = mapped_column(sa.String(20))
    imei_lock: Mapped[bool | None]
    status: Mapped[str | None] = mapped_column(sa.String(32))
    label: Mapped[str | None] = mapped_column(sa.String(255))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    activation_date: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    current_imsi: Mapped[str | None] = mapped_column(sa.String(20))
    # The quota buckets of the inventory (QUOTA_STATES): 20 % or more left, less, none.
    data_quota_state: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sms_quota_state: Mapped[int | None] = mapped_column(sa.SmallInteger)
    # Latest quotas.
    data_remaining_mb: Mapped[Decimal | None] = mapped_column(MB)
    data_total_mb: Mapped[Decimal | None] = mapped_column(MB)
    data_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Initial volume plus every top-up (v2 only; `data_total_mb` restarts at each top-up).
    data_lifetime_mb: Mapped[Decimal | None] = mapped_column(MB)
    sms_remaining: Mapped[int | None]
    sms_total: Mapped[int | None]
    sms_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Latest connectivity.
    connectivity_status: Mapped[str | None] = mapped_column(sa.String(32))
    online: Mapped[bool | None]
    last_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    operator: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str | None] = mapped_column(sa.String(100))
    rat: Mapped[str | None] = mapped_column(sa.String(16))
    # The account's monthly traffic limit stops this SIM's data (v2 only; None on v1).
    data_limit_reached: Mapped[bool | None]
    # Usage figures kept current at ingest, for the computed columns and the forecast.
    avg_daily_mb_7d: Mapped[Decimal | None] = mapped_column(MB)
    avg_daily_mb_30d: Mapped[Decimal | None] = mapped_column(MB)
    last_traffic_on: Mapped[date | None]
    # The forecast (webapp/sync/ingest/usage.py): the day the data runs out at the 7-day rate,
    # and, when the quota expires before that, the volume expected to be left unused then.
    data_exhausted_on: Mapped[date | None]
    data_unused_at_expiry_mb: Mapped[Decimal | None] = mapped_column(MB)
    # Freshness: when each kind of data was last synced for this SIM.
    first_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    inventory_synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    usage_synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    usage_synced_through: Mapped[date | None]
    # The first day of usage fetched and still kept: days from here to usage_synced_through are
    # known (a day without a row had no traffic), days outside it are "no data", never zero.
    usage_synced_from: Mapped[date | None]
    quotas_synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    events_synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    latest_event_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    connectivity_synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Set when the SIM was changed by the inventory sync and not yet refreshed per SIM.
    changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Set when the SIM no longer appears in 1NCE's inventory.
    removed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SimChange(Model):
    """A change the inventory sync noticed: status, label, IMEI, quota bucket, added, removed."""

    __tablename__ = "sim_changes"
    __table_args__ = (sa.Index("ix_sim_changes_iccid_at", "iccid", "changed_at"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    iccid: Mapped[str] = mapped_column(sa.String(22))
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    field: Mapped[str] = mapped_column(sa.String(32))
    old_value: Mapped[str | None] = mapped_column(sa.String(255))
    new_value: Mapped[str | None] = mapped_column(sa.String(255))


class SimDocument(Model):
    """A SIM's JSON as the API shows it, rewritten by triggers on `sims` in the same
    transaction as every write (migration e8a1c3d5f7b9): a page of the API reads 100 stored
    documents, a tenth of the database time of building them per request."""

    __tablename__ = "sim_documents"

    iccid: Mapped[str] = mapped_column(
        sa.String(22), sa.ForeignKey("sims.iccid", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
