"""PostgreSQL extensions: pg_trgm for partial-match search, TimescaleDB when the server has it

Revision ID: 0a1b2c3d4e5f
Revises: b8877380dfcd
Create Date: 2026-11-27 00:05:00

"""

from alembic import op

revision = "0a1b2c3d4e5f"
down_revision = "b8877380dfcd"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # TimescaleDB's settings exist only once the server preloads it, which creating the
    # extension requires (a migration keeps its own copy of the check: it never imports app code).
    loaded = op.get_bind().exec_driver_sql(
        "SELECT current_setting('timescaledb.disable_load', true)"
    ).scalar()
    if loaded is not None:
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")


def downgrade():
    op.execute("DROP EXTENSION IF EXISTS timescaledb")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
