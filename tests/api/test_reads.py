"""The API's hot reads borrow pooled connections in autocommit and give them back unchanged."""

import psycopg
import pytest
import sqlalchemy as sa

from webapp.api.reads import driver_cursor
from webapp.extensions import db


def test_connections_go_back_to_the_pool_in_transaction_mode(client, fleet, keys):
    checked_in = []
    record = lambda connection, _: checked_in.append(connection.autocommit)  # noqa: E731
    sa.event.listen(db.engine, "checkin", record)
    try:
        assert client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).status_code == 200
        assert client.get("/api/v1/sims?limit=5", headers=keys["read"]).status_code == 200
    finally:
        sa.event.remove(db.engine, "checkin", record)
    assert checked_in and not any(checked_in)


def test_a_session_the_server_ends_during_a_read_is_replaced(app):
    with pytest.raises(psycopg.errors.AdminShutdown), driver_cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert db.engine.pool.checkedout() == 0
    with driver_cursor() as cursor:
        assert cursor.execute("SELECT 1").fetchone() == (1,)
