"""Each condition against crafted SIMs and usage histories: which SIMs fire, which do not."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.alerts.conftest import NOW, TODAY, add_usage, days_before
from webapp.alerts.evaluation import evaluate
from webapp.extensions import db
from webapp.models import SimChange, SyncRun


def firing(rule) -> set[str | None]:
    """Evaluate now; the SIMs the rule has open alerts for."""
    evaluate(now=NOW)
    return set(
        db.session.scalars(
            sa.text("SELECT iccid FROM alerts WHERE rule_id = :id AND state <> 'resolved'"),
            {"id": rule.id},
        )
    )


def sims_with(make_sim, **cases: dict) -> dict[str, str]:
    """One SIM per named case with the given columns; name -> ICCID."""
    return {name: make_sim(**columns).iccid for name, columns in cases.items()}


MB = Decimal


def test_data_quota_below_percent_counts_an_exhausted_quota_as_below(make_sim, make_rule):
    sims = sims_with(
        make_sim,
        low={"data_remaining_mb": MB(40), "data_total_mb": MB(500)},
        ok={"data_remaining_mb": MB(250), "data_total_mb": MB(500)},
        exhausted={"data_remaining_mb": MB(0), "data_total_mb": MB(500)},
        exhausted_by_state={"data_quota_state": 2},
        disabled={"data_remaining_mb": MB(1), "data_total_mb": MB(500), "status": "Disabled"},
        unknown={},
    )
    rule = make_rule({"type": "data_quota_below_percent", "percent": 10})
    assert firing(rule) == {sims["low"], sims["exhausted"], sims["exhausted_by_state"]}


def test_quota_conditions_include_inactive_sims_when_asked(make_sim, make_rule):
    disabled = make_sim(data_remaining_mb=MB(1), data_total_mb=MB(500), status="Disabled")
    rule = make_rule({"type": "data_quota_below_percent", "percent": 10}, include_inactive=True)
    assert firing(rule) == {disabled.iccid}


def test_data_quota_below_mb(make_sim, make_rule):
    sims = sims_with(
        make_sim,
        low={"data_remaining_mb": MB("4.5")},
        ok={"data_remaining_mb": MB(5)},
    )
    assert firing(make_rule({"type": "data_quota_below_mb", "mb": 5})) == {sims["low"]}


def test_sms_quota_below_percent_and_count(make_sim, make_rule):
    sims = sims_with(
        make_sim,
        few={"sms_remaining": 5, "sms_total": 250},
        many={"sms_remaining": 200, "sms_total": 250},
        none={"sms_remaining": 0, "sms_total": 250},
    )
    assert firing(make_rule({"type": "sms_quota_below_percent", "percent": 10})) == {
        sims["few"],
        sims["none"],
    }
    assert firing(make_rule({"type": "sms_quota_below_count", "count": 1})) == {sims["none"]}


def test_quota_exhausted_data_or_sms(make_sim, make_rule):
    sims = sims_with(
        make_sim,
        data={"data_remaining_mb": MB(0), "sms_remaining": 10},
        sms={"data_remaining_mb": MB(10), "sms_remaining": 0},
    )
    assert firing(make_rule({"type": "quota_exhausted"})) == {sims["data"]}
    assert firing(make_rule({"type": "quota_exhausted", "quota": "sms"})) == {sims["sms"]}


def test_data_exhaustion_within_days_uses_the_forecast(make_sim, make_rule):
    sims = sims_with(
        make_sim,
        soon={"data_remaining_mb": MB(60), "data_exhausted_on": TODAY + timedelta(days=6)},
        edge={"data_remaining_mb": MB(70), "data_exhausted_on": TODAY + timedelta(days=7)},
        later={"data_remaining_mb": MB(80), "data_exhausted_on": TODAY + timedelta(days=8)},
        out={"data_remaining_mb": MB(0)},
        idle={"data_remaining_mb": MB(80)},
    )
    rule = make_rule({"type": "data_exhaustion_within_days", "days": 7})
    assert firing(rule) == {sims["soon"], sims["edge"], sims["out"]}


def test_expiry_within_days_of_either_quota(make_sim, make_rule):
    soon, later = NOW + timedelta(days=10), NOW + timedelta(days=100)
    sims = sims_with(
        make_sim,
        data={"data_expires_at": soon, "sms_expires_at": later},
        sms={"data_expires_at": later, "sms_expires_at": soon},
        expired={"data_expires_at": NOW - timedelta(days=3)},
        neither={"data_expires_at": later, "sms_expires_at": later},
    )
    assert firing(make_rule({"type": "expiry_within_days", "days": 30})) == {
        sims["data"],
        sims["sms"],
        sims["expired"],
    }
    assert firing(make_rule({"type": "expiry_within_days", "days": 30, "quota": "data"})) == {
        sims["data"],
        sims["expired"],
    }


def _history(iccid: str, daily: list[float], today: float) -> None:
    days = days_before(TODAY, len(daily))
    add_usage(iccid, dict(zip(days, daily, strict=True)) | {TODAY: today})


@pytest.fixture
def known_since(make_sim):
    """Make SIMs whose usage is known for the 60 days up to today."""

    def make():
        return make_sim(usage_synced_from=TODAY - timedelta(days=59), usage_synced_through=TODAY)

    return make


def test_usage_anomaly_fires_far_above_the_sims_own_baseline(known_since, make_rule):
    steady, spiking, heavy, idle, noisy_idle = (known_since() for _ in range(5))
    wobble = [10 + (i % 5) for i in range(28)]  # 10 to 14 MB a day
    _history(steady.iccid, wobble, today=15)  # within its usual range
    _history(spiking.iccid, wobble, today=60)  # far above
    _history(heavy.iccid, [200 + (i % 7) * 10 for i in range(28)], today=240)  # big but usual
    # An idle SIM's baseline is 0: any traffic would be "above" it, but not the minimum volume.
    _history(idle.iccid, [0] * 28, today=0.5)
    _history(noisy_idle.iccid, [0.01 * (i % 3) for i in range(28)], today=3)
    rule = make_rule({"type": "usage_anomaly", "sensitivity": "medium"})
    assert firing(rule) == {spiking.iccid}


def test_usage_anomaly_needs_two_weeks_of_baseline(make_sim, make_rule):
    new = make_sim(usage_synced_from=TODAY - timedelta(days=10), usage_synced_through=TODAY)
    _history(new.iccid, [1] * 10, today=100)
    assert firing(make_rule({"type": "usage_anomaly"})) == set()


def test_usage_anomaly_counts_known_days_without_rows_as_zero(known_since, make_rule):
    sparse = known_since()
    # Traffic on 4 of the 28 days: the median day is 0, so 50 MB today is far above it.
    add_usage(sparse.iccid, {TODAY - timedelta(days=d): 40 for d in (3, 10, 17, 24)} | {TODAY: 50})
    assert firing(make_rule({"type": "usage_anomaly", "sensitivity": "low"})) == {sparse.iccid}


def _traffic_every(iccid: str, every: int, last_day_ago: int, count: int = 20) -> None:
    last = TODAY - timedelta(days=last_day_ago)
    add_usage(iccid, {last - timedelta(days=every * i): 5 for i in range(count)})


def test_silence_learned_from_each_sims_usual_gap(make_sim, make_rule):
    def sim(last_ago: int):
        return make_sim(
            usage_synced_from=TODAY - timedelta(days=180),
            usage_synced_through=TODAY,
            last_traffic_on=TODAY - timedelta(days=last_ago),
        )

    daily_quiet, daily_fine, weekly_fine, weekly_quiet, _idle = (
        sim(4),
        sim(2),
        sim(10),
        sim(15),
        make_sim(usage_synced_through=TODAY),
    )
    _traffic_every(daily_quiet.iccid, 1, 4)  # daily, silent 4 days: more than twice its gap
    _traffic_every(daily_fine.iccid, 1, 2)  # silent 2 days: never under 3
    _traffic_every(weekly_fine.iccid, 7, 10)  # weekly, silent 10 days: within 2 weeks
    _traffic_every(weekly_quiet.iccid, 7, 15)  # weekly, silent 15 days
    rule = make_rule({"type": "silent", "learned": True})
    assert firing(rule) == {daily_quiet.iccid, weekly_quiet.iccid}


def test_silence_learned_counts_only_synced_days(make_sim, make_rule):
    stale = make_sim(
        usage_synced_from=TODAY - timedelta(days=180),
        usage_synced_through=TODAY - timedelta(days=3),  # the usage sync stopped
        last_traffic_on=TODAY - timedelta(days=4),
    )
    _traffic_every(stale.iccid, 1, 4)
    assert firing(make_rule({"type": "silent", "learned": True})) == set()


def test_silent_for_hours_without_connectivity(make_sim, make_rule):
    sims = sims_with(
        make_sim,
        quiet={"last_seen_at": NOW - timedelta(hours=30)},
        seen={"last_seen_at": NOW - timedelta(hours=2)},
        event={"last_seen_at": NOW - timedelta(hours=30), "latest_event_at": NOW},
        never={},
    )
    assert firing(make_rule({"type": "silent", "hours": 24})) == {sims["quiet"]}


def _change(iccid: str, field: str, old: str | None, new: str, hours_ago: float) -> None:
    changed_at = NOW - timedelta(hours=hours_ago)
    db.session.add(
        SimChange(iccid=iccid, changed_at=changed_at, field=field, old_value=old, new_value=new)
    )
    db.session.commit()


def test_status_changed_and_blocked(make_sim, make_rule):
    disabled, old_change, blocked, _calm = (
        make_sim(status="Disabled"),
        make_sim(),
        make_sim(connectivity_status="BLOCKED"),
        make_sim(),
    )
    _change(disabled.iccid, "status", "Enabled", "Disabled", 2)
    _change(old_change.iccid, "status", "Disabled", "Enabled", 30)
    rule = make_rule({"type": "status_changed"})
    assert firing(rule) == {disabled.iccid, blocked.iccid}
    message = db.session.scalar(
        sa.text("SELECT message FROM alerts WHERE iccid = :i"), {"i": disabled.iccid}
    )
    assert message == "Status changed from Enabled to Disabled"


def test_imei_changed_but_not_a_first_imei(make_sim, make_rule):
    swapped, first = make_sim(imei="350000000000002"), make_sim(imei="350000000000003")
    _change(swapped.iccid, "imei", "350000000000001", "350000000000002", 1)
    _change(first.iccid, "imei", None, "350000000000003", 1)
    assert firing(make_rule({"type": "imei_changed", "hours": 12})) == {swapped.iccid}


def test_sim_removed(make_sim, make_rule):
    gone, here = make_sim(removed_at=NOW - timedelta(hours=1)), make_sim()
    assert firing(make_rule({"type": "sim_removed"})) == {gone.iccid}
    # Removed SIMs leave every other condition.
    assert firing(make_rule({"type": "quota_exhausted"})) == set()
    assert here


def test_targets_all_label_pattern_and_saved_view(make_sim, make_rule, make_user):
    from webapp.inventory.saved_views import save_view

    pump = make_sim(label="Pump-7 north", data_remaining_mb=MB(0))
    meter = make_sim(label="meter 3", data_remaining_mb=MB(0), country="France")
    make_sim(label=None, data_remaining_mb=MB(0))
    by_label = make_rule({"type": "quota_exhausted"}, target={"type": "label", "value": "pump-*"})
    assert firing(by_label) == {pump.iccid}
    view = save_view(user=make_user("operator"), name="France", query="country=France")
    by_view = make_rule({"type": "quota_exhausted"}, target={"type": "view", "value": view.id})
    assert firing(by_view) == {meter.iccid}
    assert len(firing(make_rule({"type": "quota_exhausted"}))) == 3


def _run(kind: str, finished_ago: timedelta, *, calls: int = 0, errors: int = 0) -> None:
    db.session.add(
        SyncRun(kind=kind, started_at=NOW - finished_ago - timedelta(minutes=1),
                finished_at=NOW - finished_ago, outcome="success", calls=calls, errors=errors)
    )  # fmt: skip
    db.session.commit()


def test_sync_stale_after_some_intervals(app, make_rule):
    app.config["SYNC_QUOTAS_MINUTES"] = 60
    app.config["SYNC_USAGE_MINUTES"] = 30
    _run("quotas", timedelta(hours=3))
    _run("usage", timedelta(minutes=40))
    stale = make_rule({"type": "sync_stale", "kind": "quotas", "intervals": 2})
    fresh = make_rule({"type": "sync_stale", "kind": "usage", "intervals": 2})
    assert firing(stale) == {None}
    assert firing(fresh) == set()


def test_once_error_rate(make_rule):
    _run("usage", timedelta(minutes=10), calls=100, errors=12)
    assert firing(make_rule({"type": "once_error_rate", "percent": 10})) == {None}
    assert firing(make_rule({"type": "once_error_rate", "percent": 15})) == set()


def test_api_version_retired(app, make_rule):
    app.config["ONCE_API_VERSION"] = "v1"
    warned = make_rule({"type": "api_version_retired", "days": 60})
    retired = make_rule({"type": "api_version_retired"})
    assert firing(warned) == {None}  # 30 days before 2026-12-31
    assert firing(retired) == set()
    app.config["ONCE_API_VERSION"] = "v2"
    assert firing(warned) == set()
