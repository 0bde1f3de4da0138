"""A full sync of a simulated fleet equals the simulator's ground truth; re-syncs follow it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.sync.conftest import RATE
from webapp.extensions import db
from webapp.models import (
    FleetUsageDay,
    Sim,
    SimChange,
    SimEvent,
    SimUsagePeriod,
    SyncRun,
    UsageDay,
)
from webapp.models.sync import SYNC_KINDS
from webapp.sync.runs import run_lock
from webapp.sync.services import SyncBusy, run_now

MB = Decimal("0.000001")


def sync_all(once):
    return {kind: run_now(kind=kind, client=once) for kind in SYNC_KINDS}


def stored_sims() -> dict[str, Sim]:
    return {sim.iccid: sim for sim in db.session.scalars(sa.select(Sim))}


@pytest.mark.parametrize("api_version", ["v2", "v1"])
def test_full_sync_matches_ground_truth(app, once, fleet_simulator, api_version):
    fleet_simulator.reset_stats()
    runs = sync_all(once)
    assert {kind: run.outcome for kind, run in runs.items()} == dict.fromkeys(SYNC_KINDS, "success")
    assert_matches_ground_truth(app, fleet_simulator.fleet, api_version)
    other = "v1" if api_version == "v2" else "v2"
    assert fleet_simulator.stats()[f"{other}_requests"] == 0


def test_a_faulty_1nce_still_syncs_to_the_truth_on_v2(app, fleet_simulator, redis):
    """Outages, empty 500s, CloudFront's HTML 503s and slow answers, with v1 answering 410."""
    # 15 % of calls fail: with 8 retries one call in about 25 million fails for good.
    once = fleet_simulator.quick_client(redis=redis, max_rps=RATE, retries=8)
    fleet_simulator.set_faults(error_rate=0.05, html_503_rate=0.05, empty_500_rate=0.05, slow_ms=5)
    runs = sync_all(once)
    assert {kind: run.outcome for kind, run in runs.items()} == dict.fromkeys(SYNC_KINDS, "success")
    stats = fleet_simulator.stats()
    assert stats["by_status"].get("503", 0) and stats["by_status"].get("500", 0)
    assert stats["v1_requests"] == 0
    assert_matches_ground_truth(app, fleet_simulator.fleet, "v2")


def assert_matches_ground_truth(app, fleet, api_version: str) -> None:
    """Every SIM, quota, day of usage, event and network state as the simulator holds it."""
    sims = stored_sims()
    assert set(sims) == set(fleet.iccids())
    today = datetime.now(UTC).date()
    start = today - timedelta(days=app.config["USAGE_BACKFILL_DAYS"] - 1)
    for iccid in fleet.iccids():
        truth, stored = fleet.sim(iccid), sims[iccid]
        assert (stored.status, stored.label, stored.imei, stored.imsi, stored.msisdn) == (
            truth.status,
            truth.label,
            truth.imei,
            truth.imsi,
            truth.msisdn,
        )
        data_quota, connectivity = fleet.data_quota(iccid), fleet.connectivity(iccid)
        if api_version == "v2":  # v2 tells more: BLOCKED, overuse, the limit, lifetime
            remaining, status = data_quota.volume, connectivity.status
            assert stored.data_limit_reached == connectivity.traffic_limit_reached
            assert stored.data_lifetime_mb == data_quota.accumulated_total_volume
        else:
            remaining, status = data_quota.v1_volume, connectivity.v1_status
            assert (stored.data_limit_reached, stored.data_lifetime_mb) == (None, None)
        assert stored.data_remaining_mb == remaining.quantize(MB)
        assert stored.sms_remaining == int(fleet.sms_quota(iccid).volume)
        usage = {
            (row.day, row.data_rx_mb, row.data_tx_mb, row.sms_mo, row.sms_mt)
            for row in db.session.scalars(sa.select(UsageDay).where(UsageDay.iccid == iccid))
        }
        expected = {
            (u.day, u.data_rx.quantize(MB), u.data_tx.quantize(MB), u.sms_mo, u.sms_mt)
            for u in fleet.usage(iccid, start, today)
        }
        assert usage == expected
        stored_events = db.session.scalar(
            sa.select(sa.func.count()).select_from(SimEvent).where(SimEvent.iccid == iccid)
        )
        floor = datetime.now(UTC) - timedelta(days=app.config["EVENT_RETENTION_DAYS"])
        assert stored_events == len([e for e in fleet.events(iccid) if e.timestamp >= floor])
        assert stored.connectivity_status == status


def test_rollup_equals_the_raw_rows(app, once):
    sync_all(once)
    raw = dict(
        db.session.execute(
            sa.select(
                UsageDay.day, sa.func.sum(UsageDay.data_rx_mb + UsageDay.data_tx_mb)
            ).group_by(UsageDay.day)
        ).all()
    )
    rollup = dict(
        db.session.execute(
            sa.select(FleetUsageDay.day, FleetUsageDay.data_rx_mb + FleetUsageDay.data_tx_mb)
        ).all()
    )
    assert rollup == raw


def test_usage_sync_keeps_the_dashboard_periods_current(app, once):
    run_now(kind="inventory", client=once)
    run_now(kind="usage", client=once)
    today = datetime.now(UTC).date()
    week = dict(
        db.session.execute(
            sa.select(SimUsagePeriod.iccid, SimUsagePeriod.data_mb).where(
                SimUsagePeriod.period_days == 7, SimUsagePeriod.through == today
            )
        ).all()
    )
    raw = dict(
        db.session.execute(
            sa.select(UsageDay.iccid, sa.func.sum(UsageDay.data_rx_mb + UsageDay.data_tx_mb))
            .where(UsageDay.day > today - timedelta(days=7))
            .group_by(UsageDay.iccid)
        ).all()
    )
    assert week and week == raw


def test_resync_is_idempotent(app, once):
    sync_all(once)
    before = db.session.execute(sa.select(UsageDay.iccid, UsageDay.day, UsageDay.data_rx_mb)).all()
    runs = sync_all(once)
    after = db.session.execute(sa.select(UsageDay.iccid, UsageDay.day, UsageDay.data_rx_mb)).all()
    assert sorted(before) == sorted(after)
    assert runs["usage"].outcome == "success"
    assert runs["events"].rows == 0


def test_resync_follows_changes(app, once, fleet_simulator, clock):
    sync_all(once)
    fleet = fleet_simulator.fleet
    iccids = fleet.iccids()
    flipped = "Disabled" if fleet.sim(iccids[0]).status == "Enabled" else "Enabled"
    fleet.controls.update_sim(iccids[0], status=flipped)
    fleet.controls.remove_sim(iccids[1])
    (added,) = fleet.controls.add_sims(1)
    clock.now += timedelta(hours=3)
    run_now(kind="inventory", client=once)
    sims = stored_sims()
    assert sims[iccids[0]].status == fleet.sim(iccids[0]).status
    assert sims[iccids[1]].removed_at is not None
    assert added in sims
    changes = {(c.iccid, c.field) for c in db.session.scalars(sa.select(SimChange))}
    assert {(iccids[0], "status"), (iccids[1], "removed"), (added, "added")} <= changes
    usage = run_now(kind="usage", client=once)
    # The changed and the new SIM come first in the plan.
    assert usage.outcome == "success"
    assert db.session.get(Sim, added).usage_synced_at is not None


def test_a_kind_never_runs_twice_at_once(app, once):
    lock = run_lock("usage", timeout=60)
    assert lock.acquire()
    with pytest.raises(SyncBusy):
        run_now(kind="usage", client=once)
    lock.release()


def test_runs_are_recorded(app, once):
    sync_all(once)
    runs = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id)).all()
    assert [run.kind for run in runs] == list(SYNC_KINDS)
    usage = runs[1]
    assert usage.chunks_total == usage.chunks_done == 3
    assert usage.calls == 60
    assert usage.finished_at is not None
