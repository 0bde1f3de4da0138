"""Migrations go up to head, down to nothing and up again on a scratch database."""

from datetime import UTC, datetime

import flask_migrate
import pytest
import sqlalchemy as sa

from tests.helpers import sibling_database
from webapp.extensions import db
from webapp.timeseries import timescaledb_enabled


@pytest.fixture
def scratch_app(make_app, database_url):
    app = make_app(DATABASE_URL=sibling_database(database_url, "migrations"))
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


def test_event_identity_keeps_stored_events_and_recognises_them(scratch_app):
    """f1a2b3c4d5e6 keys the events stored before it as the sync keys them when read again."""
    from webapp.one_nce import Event
    from webapp.sync.ingest.readings import _event_details, insert_events

    flask_migrate.upgrade(revision="e8a1c3d5f7b9")
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    wire = {
        "timestamp": "2026-11-30T08:00:00.000+0000", "event_type": "Update location",
        "event_severity": "Info", "alert": False, "country": "Germany", "operator": "Telekom",
        "imsi": "901405100000001", "mcc": "262", "mnc": "01",
    }  # fmt: skip
    v1_event = Event.from_wire(wire)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sim_events (iccid, occurred_at, event_type, severity, alert,"
                " country, operator, details) VALUES ('8988', :at, 'Update location', 'Info',"
                " false, 'Germany', 'Telekom', :details)"
            ),
            {"at": at, "details": _event_details(v1_event)},
        )
    flask_migrate.upgrade()
    stored = db.session.execute(sa.text("SELECT event_key FROM sim_events")).scalars().all()
    assert len(stored) == 1 and stored[0].startswith("md5:")

    assert insert_events(events=[("8988", v1_event)]) == 0
    handover = Event.from_wire({**wire, "operator": "Vodafone", "mnc": "02"})
    assert insert_events(events=[("8988", v1_event), ("8988", handover)]) == 1
    db.session.commit()
    db.session.remove()

    flask_migrate.downgrade(revision="e8a1c3d5f7b9")
    count = db.session.execute(sa.text("SELECT count(*) FROM sim_events")).scalar()
    assert count == 1  # the old key holds one event per SIM, second and type
