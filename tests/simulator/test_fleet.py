"""The ground-truth fleet: deterministic, realistic, growing with the clock, quotas that move."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from simulator import Fleet
from simulator.identity import luhn_valid

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
PDP_EVENTS = ("Create PDP Context", "Delete PDP Context")


def frozen_fleet(sims: int = 400, seed: int = 21, at: datetime = NOON) -> Fleet:
    """A fleet whose clock stands still unless advanced."""
    return Fleet(sims=sims, seed=seed, now=lambda: at)


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    """A read-only fleet shared by the tests that do not change it."""
    return frozen_fleet()


def snapshot(fleet: Fleet, iccid: str) -> tuple:
    """Everything the API would report about one SIM."""
    today = fleet.now().date()
    return (
        fleet.sim(iccid),
        fleet.usage(iccid, today - timedelta(days=30), today),
        fleet.data_quota(iccid),
        fleet.events(iccid),
        fleet.connectivity(iccid),
    )


def test_same_seed_same_fleet_other_seed_other_fleet():
    first, second, other = frozen_fleet(50), frozen_fleet(50), frozen_fleet(50, seed=22)

    assert first.iccids() == second.iccids()
    assert [snapshot(first, i) for i in first.iccids()] == [
        snapshot(second, i) for i in second.iccids()
    ]
    assert set(first.iccids()).isdisjoint(other.iccids())


def test_identities_look_real(fleet):
    sims = [fleet.sim(iccid) for iccid in fleet.iccids()]

    for sim in sims:
        assert len(sim.iccid) == 19 and sim.iccid.startswith("8988228066")
        assert len(sim.iccid_with_luhn) == 20 and luhn_valid(sim.iccid_with_luhn)
        assert len(sim.imsi) == 15 and sim.imsi.startswith("901405")
        assert len(sim.msisdn) == 15 and sim.msisdn.startswith("882")
        assert sim.imei is None or (len(sim.imei) == 15 and luhn_valid(sim.imei))
    assert len({sim.ip_address for sim in sims}) == len(sims)


def test_the_fleet_is_varied(fleet):
    sims = [fleet.sim(iccid) for iccid in fleet.iccids()]

    assert Counter(sim.status for sim in sims)["Disabled"] >= 5
    assert sum(sim.label is None for sim in sims) >= 20
    assert sum(sim.imei is None for sim in sims) >= 20
    assert {sim.profile for sim in sims} == {
        "idle",
        "daily_reporter",
        "heavy_streamer",
        "goes_silent",
        "sudden_spike",
    }
    assert {sim.quota_status for sim in sims} == {0, 1, 2}
    states = [fleet.connectivity(sim.iccid) for sim in sims]
    assert {state.v1_status for state in states} == {"ONLINE", "ATTACHED", "OFFLINE"}
    assert {state.status for state in states} == {"ONLINE", "ATTACHED", "OFFLINE", "BLOCKED"}


def test_usage_goes_back_six_months(fleet):
    iccid = next(i for i in fleet.iccids() if fleet.sim(i).profile == "daily_reporter")
    today = fleet.now().date()

    days = fleet.usage(iccid, today - timedelta(days=182), today)

    assert len(days) == 183
    assert sum(day.data_volume > 0 for day in days) > 100


def test_todays_usage_grows_with_the_clock():
    fleet = frozen_fleet(100)
    today = fleet.now().date()
    before = {i: fleet.usage(i, today, today)[0] for i in fleet.iccids()}

    fleet.controls.advance_clock(6 * 3600)

    after = {i: fleet.usage(i, today, today)[0] for i in fleet.iccids()}
    assert all(after[i].data_volume >= before[i].data_volume for i in before)
    assert sum(after[i].data_volume > before[i].data_volume for i in before) >= 10


def test_quota_depletes_by_exactly_the_rated_traffic():
    fleet = frozen_fleet(100)
    today = fleet.now().date()
    iccids = [i for i in fleet.iccids() if fleet.data_quota(i).status == 0]
    before = {i: (fleet.data_quota(i), fleet.usage(i, today, today)[0]) for i in iccids}

    fleet.controls.advance_clock(4 * 3600)

    for iccid, (quota, day) in before.items():
        used = fleet.usage(iccid, today, today)[0].data_volume - day.data_volume
        assert quota.volume - fleet.data_quota(iccid).volume == used


def test_exhausted_quota_stops_traffic(fleet):
    iccid = next(
        i
        for i in fleet.iccids()
        if fleet.data_quota(i).status == 2 and fleet.data_quota(i).expiry_date > fleet.now()
    )
    quota = fleet.data_quota(iccid)
    day_after = quota.quota_exceeded_date.date() + timedelta(days=1)

    assert quota.volume == 0
    assert all(day.data_volume == 0 for day in fleet.usage(iccid, day_after, fleet.now().date()))
    assert fleet.connectivity(iccid).status != "ONLINE"


def test_quota_expires_and_a_top_up_restores_it():
    fleet = frozen_fleet()
    horizon = fleet.now() + timedelta(days=60)
    iccid = next(
        i for i in fleet.iccids() if fleet.now() < fleet.data_quota(i).expiry_date < horizon
    )
    expiry = fleet.data_quota(iccid).expiry_date
    fleet.controls.advance_clock((expiry - fleet.now()).total_seconds() + 3600)

    expired = fleet.data_quota(iccid)
    assert (expired.volume, expired.status) == (0, 2)
    assert fleet.events(iccid)[0].event_type == "Data Quota expired"
    assert fleet.events(iccid)[0].alert is True
    fleet.controls.advance_clock(2 * 86400)
    assert fleet.usage(iccid, fleet.now().date(), fleet.now().date())[0].data_volume == 0

    fleet.controls.top_up(iccid)

    restored = fleet.data_quota(iccid)
    assert (restored.volume, restored.status) == (Decimal(500), 0)
    assert restored.expiry_date > fleet.now() + timedelta(days=3000)


def test_top_up_adds_the_standard_package():
    fleet = frozen_fleet(20)
    iccid = next(i for i in fleet.iccids() if fleet.data_quota(i).status == 0)
    data, sms = fleet.data_quota(iccid), fleet.sms_quota(iccid)

    fleet.controls.top_up(iccid)

    assert fleet.data_quota(iccid).volume == data.volume + 500
    assert fleet.data_quota(iccid).total_volume == data.volume + 500
    assert fleet.sms_quota(iccid).volume == sms.volume + 250


def test_a_silent_device_is_offline_without_events(fleet):
    today = fleet.now().date()
    iccid = next(
        i
        for i in fleet.iccids()
        if fleet.sim(i).profile == "goes_silent"
        and sum(day.data_volume for day in fleet.usage(i, today - timedelta(days=8), today)) == 0
        and fleet.usage(i, today - timedelta(days=60), today)[0].data_volume > 0
    )

    assert fleet.connectivity(iccid).status == "OFFLINE"
    assert fleet.events(iccid) == []


def test_streamers_are_online_in_their_sessions():
    fleet = frozen_fleet(at=datetime(2026, 3, 14, 11, 0, tzinfo=UTC))
    streamers = [
        i
        for i in fleet.iccids()
        if fleet.sim(i).profile == "heavy_streamer"
        and fleet.sim(i).status == "Enabled"
        and fleet.data_quota(i).status != 2
    ]

    states = [fleet.connectivity(iccid) for iccid in streamers]

    assert streamers
    assert all(state.status == "ONLINE" and state.session for state in states)


def test_disabled_sims_are_offline(fleet):
    disabled = [i for i in fleet.iccids() if fleet.sim(i).status == "Disabled"]

    assert {fleet.connectivity(iccid).status for iccid in disabled} == {"OFFLINE"}


def test_events_are_newest_first_within_seven_days(fleet):
    for iccid in fleet.iccids()[:50]:
        stamps = [event.timestamp for event in fleet.events(iccid)]
        assert stamps == sorted(stamps, reverse=True)
        assert all(fleet.now() - timedelta(days=7) < stamp <= fleet.now() for stamp in stamps)


def test_add_remove_and_update_sims():
    fleet = frozen_fleet(10)
    removed = fleet.iccids()[3]

    added = fleet.controls.add_sims(2)
    fleet.controls.remove_sim(removed)
    fleet.controls.update_sim(added[0], status="Disabled", label=None)

    assert fleet.count() == 11
    assert fleet.iccids()[-2:] == added
    assert removed not in fleet.iccids() and fleet.sim(removed) is None
    new = fleet.sim(added[0])
    assert (new.status, new.label, new.activation_date) == ("Disabled", None, fleet.now())
    assert fleet.page(2, 10)[0][0].iccid == added[1]
    assert fleet.orders()[-1].iccids == tuple(added)
    with pytest.raises(KeyError):
        fleet.controls.remove_sim(removed)


def test_writes_wait_for_the_delay_unless_flushed():
    fleet = frozen_fleet(5)
    iccid = fleet.iccids()[0]

    fleet.writes.request_update(iccid, {"label": "later"})
    fleet.writes.request_update(iccid, {"status": "Disabled"})

    assert fleet.writes.pending() == 2
    fleet.writes.flush()
    assert fleet.writes.pending() == 0
    assert (fleet.sim(iccid).label, fleet.sim(iccid).status) == ("later", "Disabled")
