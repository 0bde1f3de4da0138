"""The lifecycle: fire, stay, resolve, cooldown, snooze, acknowledge; overlapping evaluations."""

import threading
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from tests.alerts.conftest import NOW, notifications, open_alerts
from webapp.alerts.evaluation import evaluate
from webapp.alerts.services import acknowledge_alert, set_rule_enabled, snooze_alert
from webapp.extensions import db
from webapp.models import Alert, AlertChannel, Sim

LOW, OK = Decimal(10), Decimal(400)


def set_remaining(iccid: str, mb: Decimal) -> None:
    db.session.execute(sa.update(Sim).where(Sim.iccid == iccid).values(data_remaining_mb=mb))
    db.session.commit()


def counts(at=NOW) -> tuple[int, int, int]:
    done = evaluate(now=at)
    return done.fired, done.stayed, done.resolved


def kinds() -> list[str]:
    return [kind for _, _, kind in notifications()]


def test_fire_stay_resolve_notify_once_each(make_sim, make_rule, channel):
    sim = make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    rule = make_rule({"type": "data_quota_below_percent", "percent": 20}, channels=[channel.id])
    assert counts() == (1, 0, 0)
    assert open_alerts() == [(rule.id, sim.iccid, "firing")]
    assert kinds() == ["fired"]
    assert counts(NOW + timedelta(minutes=5)) == (0, 1, 0)
    set_remaining(sim.iccid, Decimal(9))
    assert counts(NOW + timedelta(minutes=10)) == (0, 1, 0)
    assert kinds() == ["fired"]  # staying true, with a new value, notifies nobody
    assert db.session.scalar(sa.select(Alert.last_value)) == "1.8"
    set_remaining(sim.iccid, OK)
    assert counts(NOW + timedelta(minutes=15)) == (0, 0, 1)
    assert kinds() == ["fired", "resolved"]
    assert open_alerts() == []


def test_cooldown_reopens_silently_then_a_new_alert_after_it(make_sim, make_rule, channel):
    sim = make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    make_rule(
        {"type": "data_quota_below_percent", "percent": 20},
        channels=[channel.id],
        cooldown_minutes=60,
    )
    evaluate(now=NOW)
    set_remaining(sim.iccid, OK)
    evaluate(now=NOW + timedelta(minutes=5))
    set_remaining(sim.iccid, LOW)
    assert counts(NOW + timedelta(minutes=30)) == (1, 0, 0)  # back within the cooldown
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1
    assert kinds() == ["fired", "resolved"]
    set_remaining(sim.iccid, OK)
    evaluate(now=NOW + timedelta(minutes=35))
    assert kinds() == ["fired", "resolved"]  # the flap's second resolution is not news
    set_remaining(sim.iccid, LOW)
    evaluate(now=NOW + timedelta(hours=3))  # long after the cooldown: a new alert
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 2
    assert kinds() == ["fired", "resolved", "fired"]


def test_snooze_holds_notifications_until_it_ends(make_sim, make_rule, channel):
    sim = make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    make_rule(
        {"type": "data_quota_below_percent", "percent": 20},
        channels=[channel.id],
        cooldown_minutes=0,
    )
    evaluate(now=NOW)
    alert = db.session.scalar(sa.select(Alert))
    snooze_alert(alert_id=alert.id, until=NOW + timedelta(hours=4))
    db.session.commit()
    set_remaining(sim.iccid, OK)
    evaluate(now=NOW + timedelta(hours=1))
    assert kinds() == ["fired"]  # resolved while snoozed: no message
    set_remaining(sim.iccid, LOW)
    assert counts(NOW + timedelta(hours=2)) == (1, 0, 0)
    assert kinds() == ["fired"]  # fired again while the SIM's alerts are snoozed
    assert counts(NOW + timedelta(hours=3)) == (0, 1, 0)
    assert kinds() == ["fired"]
    evaluate(now=NOW + timedelta(hours=5))  # the snooze is over, the condition still holds
    assert kinds() == ["fired", "fired"]
    evaluate(now=NOW + timedelta(hours=6))
    assert kinds() == ["fired", "fired"]


def test_acknowledged_alert_stays_acknowledged_and_resolves(make_sim, make_rule, make_user):
    sim = make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    rule = make_rule({"type": "data_quota_below_percent", "percent": 20})
    evaluate(now=NOW)
    alert = db.session.scalar(sa.select(Alert))
    operator = make_user("operator")
    assert acknowledge_alert(alert_id=alert.id, actor=operator).state == "acknowledged"
    db.session.commit()
    evaluate(now=NOW + timedelta(minutes=5))
    assert open_alerts() == [(rule.id, sim.iccid, "acknowledged")]
    set_remaining(sim.iccid, OK)
    assert counts(NOW + timedelta(minutes=10)) == (0, 0, 1)
    assert acknowledge_alert(alert_id=alert.id, actor=operator) is None


def test_disabled_channels_and_rules(make_sim, make_rule, channel):
    make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    quiet = AlertChannel(name="off", type="email", config={"to": ["a@example.com"]},
                         enabled=False)  # fmt: skip
    db.session.add(quiet)
    db.session.commit()
    rule = make_rule(
        {"type": "data_quota_below_percent", "percent": 20}, channels=[channel.id, quiet.id]
    )
    evaluate(now=NOW)
    assert [channel_id for _, channel_id, _ in notifications()] == [channel.id]
    set_rule_enabled(rule_id=rule.id, enabled=False)
    db.session.commit()
    assert open_alerts() == []
    assert counts(NOW + timedelta(minutes=5)) == (0, 0, 0)
    assert kinds() == ["fired"]


def test_incremental_pass_touches_only_its_sims(make_sim, make_rule):
    one = make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    two = make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500))
    make_rule({"type": "data_quota_below_percent", "percent": 20})
    make_rule({"type": "sync_stale", "kind": "usage"})  # system rules wait for the full pass
    done = evaluate(iccids=[one.iccid], now=NOW)
    assert (done.fired, done.stayed, done.resolved) == (1, 0, 0)
    set_remaining(two.iccid, OK)
    set_remaining(one.iccid, OK)
    done = evaluate(iccids=[two.iccid], now=NOW)
    assert (done.fired, done.stayed, done.resolved) == (0, 0, 0)
    assert [iccid for _, iccid, _ in open_alerts()] == [one.iccid]


def test_two_overlapping_evaluations_raise_one_alert_and_one_notification(
    app, make_sim, make_rule, channel
):
    sims = [make_sim(data_remaining_mb=LOW, data_total_mb=Decimal(500)) for _ in range(50)]
    make_rule({"type": "data_quota_below_percent", "percent": 20}, channels=[channel.id])
    make_rule({"type": "quota_exhausted"}, channels=[channel.id])
    start = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                done = evaluate(now=NOW)
                results.append(done.fired)
            except Exception as exc:  # reported below, with the thread's own traceback
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 50  # each rule fired once, in whichever evaluation came first
    assert len(open_alerts()) == len(sims)
    assert len(notifications()) == len(sims)
