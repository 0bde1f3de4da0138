"""Trying a rule on history equals what live evaluation produced over the same days."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.alerts.conftest import TODAY, add_usage
from webapp.alerts.conditions import end_of_day
from webapp.alerts.evaluation import evaluate
from webapp.alerts.rules import RuleError
from webapp.alerts.services import create_rule
from webapp.alerts.trial import try_rule
from webapp.extensions import db
from webapp.models import Alert, QuotaSample, Sim
from webapp.sync.ingest import refresh_usage_figures

DAYS = 30
START = TODAY - timedelta(days=DAYS - 1)
BEFORE = 60  # days of usage before the trial, for the baselines


def usage_of(profile: str, k: int) -> float:
    """MB on day k (0 is START; negative before it) of a SIM of a profile."""
    if profile == "steady":
        return 10 + k % 3
    if profile == "spiky":
        return 80 if k in (5, 6, 20) else 4 + k % 2
    if profile == "pauses":
        return 0 if 8 <= k < 14 or 22 <= k < 24 else 3
    return 0.01 * (k % 2)  # idle


def remaining_of(profile: str, k: int) -> Decimal:
    """The data quota left at the end of day k: the steady SIM is topped up on day 12."""
    if profile == "steady":
        return Decimal(max(0, 150 - 11 * k + (200 if k >= 12 else 0)))
    if profile == "flapping":
        return Decimal(90 if k % 4 < 2 else 110)
    return Decimal(400)


PROFILES = ("steady", "spiky", "pauses", "idle", "flapping")
RULES = {
    "runs out within 7 days": {"type": "data_exhaustion_within_days", "days": 7},
    "below 20 %": {"type": "data_quota_below_percent", "percent": 20},
    "anomaly": {"type": "usage_anomaly", "sensitivity": "high"},
    "silent": {"type": "silent", "learned": True},
}


@pytest.fixture
def fleet(make_sim):
    """SIMs of each profile with 60 days of usage before the trial."""
    sims = {}
    for profile in PROFILES:
        sim = make_sim(data_total_mb=Decimal(500), data_expires_at=datetime(2027, 6, 1, tzinfo=UTC))
        first = START - timedelta(days=BEFORE)
        add_usage(sim.iccid, {first + timedelta(days=k): usage_of(profile, k - BEFORE)
                              for k in range(BEFORE)})  # fmt: skip
        sims[profile] = sim.iccid
    return sims


def sync_day(sims: dict[str, str], k: int) -> datetime:
    """Store day k as the sync would by its end: usage, quota (and its sample), figures."""
    day = START + timedelta(days=k)
    for profile, iccid in sims.items():
        add_usage(iccid, {day: usage_of(profile, k)})
        remaining = remaining_of(profile, k)
        sampled_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
        db.session.add(QuotaSample(iccid=iccid, kind="data", sampled_at=sampled_at,
                                   remaining=remaining, total=Decimal(500),
                                   expires_at=datetime(2027, 6, 1, tzinfo=UTC)))  # fmt: skip
        db.session.execute(
            sa.update(Sim).where(Sim.iccid == iccid).values(data_remaining_mb=remaining)
        )
    refresh_usage_figures(
        iccids=list(sims.values()), synced_through=day, fetched_from=START - timedelta(BEFORE)
    )
    db.session.commit()
    return end_of_day(day)


@pytest.mark.parametrize("digest", [None, "daily"])
def test_try_equals_live_over_the_same_days(app, fleet, channel, digest):
    channel.digest_period = digest
    rules = {
        name: create_rule(data={"name": name, "severity": "warning", "condition": condition,
                                "channels": [channel.id], "cooldown_minutes": 2 * 24 * 60})
        for name, condition in RULES.items()
    }  # fmt: skip
    db.session.commit()
    for k in range(DAYS):
        evaluate(now=sync_day(fleet, k))
    for name, condition in RULES.items():
        rule = rules[name]
        tried = try_rule(
            data={"name": name, "severity": "warning", "condition": condition,
                  "cooldown_minutes": 2 * 24 * 60},
            days=DAYS, digest_period=digest, now=end_of_day(TODAY),
        )  # fmt: skip
        live = db.session.execute(
            sa.select(Alert.iccid, Alert.since).where(Alert.rule_id == rule.id)
        ).all()
        live_fired: dict[str | None, list] = {}
        for iccid, since in sorted(live, key=lambda row: row.since):
            live_fired.setdefault(iccid, []).append(since.date())
        assert {sim.iccid: list(sim.fired_on) for sim in tried.sims} == live_fired, name
        sent = db.session.scalars(
            sa.text(
                "SELECT n.created_at FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id"
                " WHERE a.rule_id = :rule"
            ),
            {"rule": rule.id},
        ).all()
        expected = len(sent) if digest is None else len({at.date() for at in sent})
        assert tried.notifications == expected, name
        assert live_fired, f"{name} never fired: the history does not exercise it"
    assert db.session.scalar(sa.text("SELECT count(*) FROM alert_rules")) == len(RULES)


def test_try_rule_names_a_bad_field(app):
    with pytest.raises(RuleError) as raised:
        try_rule(data={"name": "x", "severity": "warning", "condition": {"type": "silent"}})
    assert raised.value.field == "condition.hours"
