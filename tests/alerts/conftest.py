"""Fixtures of the alert tests: rules, channels and crafted histories on a fixed clock."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.alerts.services import create_rule
from webapp.extensions import db
from webapp.models import AlertChannel

# Noon (UTC) of the day every test evaluates, unless it moves the clock.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def make_rule(app):
    """Save a rule from an API body: make_rule(condition={...}, **fields)."""
    counter = iter(range(1, 1000))

    def make(condition: dict, **fields):
        body = {"name": f"rule {next(counter)}", "severity": "warning", "condition": condition}
        rule = create_rule(data=body | fields)
        db.session.commit()
        return rule

    return make


@pytest.fixture
def channel(app):
    """An enabled webhook channel."""
    made = AlertChannel(name="ops hook", type="webhook", config={"url": "https://example.com"})
    db.session.add(made)
    db.session.commit()
    return made


def add_usage(iccid: str, mb_by_day: dict[date, float]) -> None:
    """Store daily data usage (all received) for a SIM."""
    db.session.execute(
        sa.text(
            "INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)"
            " SELECT :iccid, day, mb, 0, 0, 0 FROM unnest(CAST(:days AS date[]),"
            " CAST(:mbs AS numeric[])) AS t(day, mb)"
        ),
        {
            "iccid": iccid,
            "days": list(mb_by_day),
            "mbs": [Decimal(str(mb)) for mb in mb_by_day.values()],
        },
    )
    db.session.commit()


def days_before(day: date, count: int) -> list[date]:
    """The `count` days before `day`, oldest first."""
    return [day - timedelta(days=count - i) for i in range(count)]


def open_alerts() -> list[tuple]:
    """(rule_id, iccid, state) of every open alert."""
    return db.session.execute(
        sa.text("SELECT rule_id, iccid, state FROM alerts WHERE state <> 'resolved' ORDER BY iccid")
    ).all()


def notifications() -> list[tuple]:
    """(alert_id, channel_id, kind) of every queued notification, oldest first."""
    return db.session.execute(
        sa.text("SELECT alert_id, channel_id, kind FROM alert_notifications ORDER BY id")
    ).all()
