"""sim_actions: changes requested of 1NCE and whether they were applied

Revision ID: d2e3f4a5b6c7
Revises: 7f7f2062b07e
Create Date: 2026-11-27 03:55:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "d2e3f4a5b6c7"
down_revision = "7f7f2062b07e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sim_actions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("iccid", sa.String(length=22), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("requested", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'applied', 'failed')", name=op.f("ck_sim_actions_state_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_actions")),
    )
    op.create_index("ix_sim_actions_iccid_requested_at", "sim_actions", ["iccid", "requested_at"])
    op.create_index(
        "ix_sim_actions_pending",
        "sim_actions",
        ["iccid"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade():
    op.drop_index("ix_sim_actions_pending", table_name="sim_actions")
    op.drop_index("ix_sim_actions_iccid_requested_at", table_name="sim_actions")
    op.drop_table("sim_actions")
