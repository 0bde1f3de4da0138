"""The API's hot reads, a page of SIMs and one SIM, run on the driver's cursor.

Each is one statement, so it runs outside any transaction: autocommit reads one snapshot
without BEGIN and ROLLBACK round trips. They skip SQLAlchemy's execution layer, and a page's
SQL is compiled once per view (filters and page size): walking the fleet runs the same
prepared statement page after page, only the cursor position changes. Together that takes a
quarter off the app time of a 100-SIM page (docs/performance.md).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Sim, SimDocument
from webapp.paging import Page, decode_cursor, encode_cursor
from webapp.sim_queries import SimFilters

# A SIM as the API shows it is built by PostgreSQL when the SIM is written, not when it is
# read: `sim_document(sims)` defines its fields (the OpenAPI schema `Sim` documents them, and
# tests/api/test_sim_document.py holds the two together) and triggers keep `sim_documents`
# current in every writer's transaction. A page of 100 SIMs then reads 100 stored texts, with
# no JSON built per request. A new field is a new migration that replaces the function and
# rewrites the documents; this names the one that defines it today.
SIM_DOCUMENT_MIGRATION = "d8e9f0a1b2c3"
SIM_BY_ICCID = "SELECT body FROM sim_documents WHERE iccid = %(iccid)s"
PAGE_SQL_CACHE_SIZE = 256


def sim_document(iccid: str) -> str | None:
    """The API JSON of the SIM with this ICCID, or None."""
    with driver_cursor() as cursor:
        row = cursor.execute(SIM_BY_ICCID, {"iccid": iccid}).fetchone()
    return row[0] if row else None


def sim_documents_page(*, filters: SimFilters, limit: int, cursor: str | None) -> Page[str]:
    """The JSON of a keyset page of SIMs in ICCID order after `cursor`; stable while rows change."""
    position = decode_cursor(cursor, "iccid")
    sql, params = page_sql(filters, limit, after=position is not None)
    if position:
        params = params | {"after": position["iccid"]}
    with driver_cursor() as sql_cursor:
        rows = sql_cursor.execute(sql, params).fetchall()
    page = Page.from_rows(rows, limit, lambda row: encode_cursor({"iccid": row[0]}))
    return Page([body for _, body in page.items], page.next_cursor)


@lru_cache(maxsize=PAGE_SQL_CACHE_SIZE)
def page_sql(filters: SimFilters, limit: int, *, after: bool) -> tuple[str, dict]:
    """The SQL of a view's first page, or of its pages `after` a position, and its parameters."""
    statement = (
        sa.select(Sim.iccid, SimDocument.body)
        .join_from(Sim, SimDocument)
        .where(*filters.conditions())
        .order_by(Sim.iccid)
        # Written into the SQL: as a parameter, PostgreSQL cannot cost the prepared statement's
        # generic plan and plans it anew on every execution instead.
        .limit(sa.bindparam("rows", limit + 1, literal_execute=True))
    )
    if after:
        # On both tables (PostgreSQL does not carry it across the join), so that it merges the
        # two key-ordered scans from the position on.
        position: sa.BindParameter[str] = sa.bindparam("after", "")
        statement = statement.where(Sim.iccid > position, SimDocument.iccid > position)
    compiled = statement.compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), dict(compiled.params)


@contextmanager
def driver_cursor() -> Iterator[psycopg.Cursor]:
    """A psycopg cursor in autocommit on a connection of the app's pool."""
    pooled = db.engine.raw_connection()
    connection: psycopg.Connection | None = pooled.driver_connection
    assert connection is not None, "a checked-out connection has a driver connection"
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        if connection.closed:
            pooled.invalidate()  # the session ended: the pool opens a new one in its place
        else:
            connection.autocommit = False
        pooled.close()
