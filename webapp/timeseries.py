"""TimescaleDB detection. Simfleet uses TimescaleDB when the server offers it and works the
same on plain PostgreSQL, so every caller asks here instead of assuming either."""

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def timescaledb_loadable(conn: Connection) -> bool:
    """True when the server preloads TimescaleDB, which creating the extension requires.

    Its settings exist only once the library is loaded; reading one needs no privilege
    (unlike `shared_preload_libraries`), and `pg_available_extensions` alone is not enough:
    a server may ship the files without loading them.
    """
    loaded = conn.scalar(sa.text("SELECT current_setting('timescaledb.disable_load', true)"))
    return loaded is not None


def timescaledb_enabled(conn: Connection) -> bool:
    """True when the extension is created in this database."""
    return bool(conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")))


def timescaledb_edition(conn: Connection) -> str | None:
    """'apache' or 'timescale' (the licence, which gates compression and retention policies)."""
    if not timescaledb_enabled(conn):
        return None
    return conn.scalar(sa.text("SELECT current_setting('timescaledb.license', true)")) or "apache"


def create_hypertable(conn: Connection, table: str, column: str, chunk: str) -> None:
    """Turn an (empty) table into a hypertable partitioned by `column` in chunks of `chunk`.

    The time index is declared by the model (so plain PostgreSQL has it too), not by default.
    """
    conn.execute(
        sa.text(
            "SELECT create_hypertable(:table, by_range(:column, CAST(:chunk AS interval)),"
            " create_default_indexes => false)"
        ),
        {"table": table, "column": column, "chunk": chunk},
    )


def is_hypertable(conn: Connection, table: str) -> bool:
    """True when `table` is a TimescaleDB hypertable."""
    if not timescaledb_enabled(conn):
        return False
    return bool(
        conn.scalar(
            sa.text("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = :t"),
            {"t": table},
        )
    )
