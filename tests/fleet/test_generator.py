"""The fleet generator (devtools/generate_fleet.py) loads a fleet the UI can be tried on."""

import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from devtools.generate_fleet import first_iccid, load_fleet, main
from webapp.extensions import db


@pytest.fixture
def generated(app):
    """1,000 SIMs with 45 days of history."""
    load_fleet(db.session.connection(), sims=1000, usage_days=45)
    db.session.commit()


def scalar(query: str, **params):
    return db.session.execute(sa.text(query), params).scalar()


def test_sims_only_without_history(app):
    load_fleet(db.session.connection(), sims=20)
    db.session.commit()
    assert scalar("SELECT count(*) FROM sims") == 20
    assert scalar("SELECT min(iccid) FROM sims") == first_iccid()
    for table in ("usage_daily", "sim_events", "quota_samples", "sim_usage_periods"):
        assert scalar(f"SELECT count(*) FROM {table}") == 0


def test_a_mix_of_profiles(generated):
    statuses = scalar("SELECT array_agg(DISTINCT status ORDER BY status) FROM sims")
    assert statuses == ["Disabled", "Enabled"]
    assert scalar(
        "SELECT array_agg(DISTINCT data_quota_state ORDER BY data_quota_state) FROM sims"
    ) == [0, 1, 2]
    assert scalar("SELECT array_agg(DISTINCT online ORDER BY online) FROM sims") == [False, True]
    assert scalar("SELECT count(DISTINCT country) FROM sims") >= 5
    assert scalar("SELECT count(*) FROM sims WHERE label IS NULL") > 0
    # Idle SIMs never had traffic; silent ones had some, but not for three days.
    assert scalar("SELECT count(*) FROM sims WHERE last_traffic_on IS NULL") > 50
    silent = "status = 'Enabled' AND last_traffic_on <= current_date - 3"
    assert scalar(f"SELECT count(*) FROM sims WHERE {silent}") > 50
    # Exhausted SIMs have nothing left and ran out in the past.
    assert scalar(
        "SELECT bool_and(data_remaining_mb = 0 AND data_exhausted_on < current_date)"
        " FROM sims WHERE data_quota_state = 2"
    )


def test_usage_stays_in_its_days_and_the_rollups_add_up(generated):
    today = datetime.now(UTC).date()
    assert scalar("SELECT min(day) FROM usage_daily") == today - timedelta(days=44)
    assert scalar("SELECT max(day) FROM usage_daily") == today
    assert scalar("SELECT sum(data_rx_mb + data_tx_mb) FROM usage_daily") == scalar(
        "SELECT sum(data_rx_mb + data_tx_mb) FROM fleet_usage_daily"
    )
    mismatched = scalar(
        """
        SELECT count(*) FROM sims s LEFT JOIN (
            SELECT iccid, sum(data_rx_mb + data_tx_mb) FILTER (WHERE day > current_date - 7) AS mb
            FROM usage_daily GROUP BY iccid
        ) u USING (iccid)
        WHERE abs(COALESCE(u.mb, 0) / 7 - s.avg_daily_mb_7d) > 0.000001
        """
    )
    assert mismatched == 0
    assert scalar("SELECT sum(data_mb) FROM sim_usage_periods WHERE period_days = 30") == scalar(
        "SELECT sum(data_rx_mb + data_tx_mb) FROM usage_daily WHERE day > current_date - 30"
    )


def test_events_and_quota_history(generated):
    assert scalar("SELECT count(*) FROM sim_events") > 1000
    assert scalar("SELECT max(occurred_at) <= now() FROM sim_events")
    assert scalar("SELECT min(occurred_at) > now() - interval '31 days' FROM sim_events")
    assert scalar("SELECT count(*) FROM sim_events WHERE alert") > 10
    assert (
        scalar(
            "SELECT count(*) FROM sims WHERE latest_event_at IS DISTINCT FROM"
            " (SELECT max(occurred_at) FROM sim_events e WHERE e.iccid = sims.iccid)"
        )
        == 0
    )
    assert scalar("SELECT count(DISTINCT iccid) FROM quota_samples WHERE kind = 'sms'") == 1000
    assert scalar("SELECT max(n) FROM (SELECT count(*) AS n FROM quota_samples"
                  " WHERE kind = 'data' GROUP BY iccid) c") == 7  # fmt: skip


def test_the_same_arguments_give_the_same_fleet(app):
    def fingerprint() -> tuple:
        return (
            scalar("SELECT md5(string_agg(iccid || status || coalesce(label, ''), ','"
                   " ORDER BY iccid)) FROM sims"),
            scalar("SELECT sum(data_rx_mb) FROM usage_daily"),
        )  # fmt: skip

    load_fleet(db.session.connection(), sims=200, usage_days=10)
    first = fingerprint()
    db.session.execute(sa.text("TRUNCATE sims, usage_daily, sim_events, quota_samples CASCADE"))
    load_fleet(db.session.connection(), sims=200, usage_days=10)
    assert fingerprint() == first


def test_the_command_line_loads_a_fleet_and_prints_its_time(
    app, migrated_database, monkeypatch, capsys
):
    command = ["generate_fleet", "--database-url", migrated_database, "--sims", "30", "--days", "3"]
    monkeypatch.setattr(sys, "argv", command)
    main()
    assert "Loaded 30 SIMs with 3 days of history in " in capsys.readouterr().out
    assert scalar("SELECT count(DISTINCT day) FROM usage_daily") == 3
