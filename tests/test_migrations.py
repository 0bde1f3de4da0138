"""Migrations go up to head, down to nothing and up again on a scratch database."""

import flask_migrate
import pytest
import sqlalchemy as sa

from webapp import devstack
from webapp.extensions import db
from webapp.timeseries import timescaledb_enabled


@pytest.fixture
def scratch_app(make_app, database_url):
    base, _, _ = database_url.partition("?")
    server, _, _ = base.rpartition("/")
    query = database_url[len(base) :]
    # Named after the session's database, so parallel sessions each have their own.
    scratch = f"{base.rpartition('/')[2]}_migrations"
    devstack.create_database(f"{server}/postgres{query}", scratch)
    app = make_app(DATABASE_URL=f"{server}/{scratch}{query}")
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(scratch_app):
    flask_migrate.upgrade()
    assert {"users", "audit_events", "api_keys"} <= tables()
    flask_migrate.downgrade(revision="base")
    assert tables() == set()
    # TimescaleDB can be created again only in a new session once dropped in this one.
    db.engine.dispose()
    flask_migrate.upgrade()
    assert {"users", "audit_events", "api_keys"} <= tables()


def test_models_match_the_migrations(scratch_app):
    """Autogenerate finds nothing to do: no model change lacks its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_extensions_follow_the_server(scratch_app, timescaledb):
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        assert timescaledb_enabled(conn) == timescaledb
        assert conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
