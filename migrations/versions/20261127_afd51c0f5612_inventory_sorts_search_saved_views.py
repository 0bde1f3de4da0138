"""inventory: keyset sort indexes, trigram search on IP addresses, saved views

Revision ID: afd51c0f5612
Revises: d2e3f4a5b6c7
Create Date: 2026-11-27 03:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "afd51c0f5612"
down_revision = "d2e3f4a5b6c7"
branch_labels = None
depends_on = None

# Single-column indexes that become (column, iccid) so that keyset pages sorted by them
# walk one index; the leading column still serves the filters that used them.
WIDENED = ("online", "last_seen_at", "country", "operator")
ADDED = ("label", "status", "data_remaining_mb", "avg_daily_mb_7d", "avg_daily_mb_30d",
         "usage_synced_at")  # fmt: skip
RUNS_OUT_ON = "LEAST(data_exhausted_on, timezone('UTC'::text, data_expires_at)::date)"


def upgrade():
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_saved_views_user_id")),
    )
    for column in WIDENED:
        op.drop_index(f"ix_sims_{column}", table_name="sims")
    for column in WIDENED + ADDED:
        op.create_index(f"ix_sims_{column}", "sims", [column, "iccid"])
    op.create_index("ix_sims_runs_out_on", "sims", [sa.text(RUNS_OUT_ON), "iccid"])
    op.create_index(
        "ix_sims_ip_address_trgm", "sims", ["ip_address"],
        postgresql_using="gin", postgresql_ops={"ip_address": "gin_trgm_ops"},
    )  # fmt: skip


def downgrade():
    op.drop_index("ix_sims_ip_address_trgm", table_name="sims")
    op.drop_index("ix_sims_runs_out_on", table_name="sims")
    for column in WIDENED + ADDED:
        op.drop_index(f"ix_sims_{column}", table_name="sims")
    for column in WIDENED:
        op.create_index(f"ix_sims_{column}", "sims", [column])
    op.drop_table("saved_views")
