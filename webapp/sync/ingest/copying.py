"""The staging every ingest write goes through: COPY into a session-local temporary table."""

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from webapp.extensions import db


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` into `table` in the session's transaction."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def temp_table(name: str, definition: str) -> None:
    """A session-local staging table, emptied at commit."""
    db.session.execute(
        sa.text(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({definition}) ON COMMIT DELETE ROWS")
    )
