"""Events never change once reported: incremental event syncs key on (iccid, timestamp, type)."""

from datetime import UTC, datetime, timedelta

from simulator import Fleet
from simulator.activity import EVENT_RETENTION

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=36)
STEP = timedelta(minutes=10)
QUOTA_NOTICES = ("Quota threshold reached", "Quota used up")


class Clock:
    """A clock the test sets, backwards too (for fleets with no writes yet)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def fleet_at_noon(seed: int = 11) -> tuple[Fleet, Clock]:
    clock = Clock(NOON)
    return Fleet(sims=400, seed=seed, now=clock), clock


def stamps(fleet: Fleet, iccid: str) -> set[tuple[datetime, str]]:
    """(timestamp, type) of the SIM's events now."""
    return {(event.timestamp, event.event_type) for event in fleet.events(iccid)}


def crosses_quota(fleet: Fleet, iccid: str, start: datetime) -> bool:
    """Whether a quota of the SIM dropped under 20 % or ran out after `start`."""
    quotas = (fleet.data_quota(iccid), fleet.sms_quota(iccid))
    dates = [q.threshold_reached_date for q in quotas] + [q.quota_exceeded_date for q in quotas]
    return any(moment is not None and moment > start for moment in dates)


def sample(seed: int) -> list[str]:
    """Every 25th SIM plus those whose quotas cross a threshold within the window."""
    probe, clock = fleet_at_noon(seed)
    clock.moment = NOON + WINDOW
    crossing = [i for i in probe.iccids() if crosses_quota(probe, i, NOON)]
    assert len(crossing) >= 3
    return sorted(set(crossing + probe.iccids()[::25]))


def write(fleet: Fleet, iccid: str, step: int) -> None:
    """A disable, enable or connectivity reset, in turn, as the API queues them."""
    kind = step % 3
    if kind == 2:
        fleet.writes.request_reset(iccid)
    else:
        fleet.writes.request_update(iccid, {"status": ("Disabled", "Enabled")[kind]})


def test_events_keep_their_timestamps_as_the_clock_moves():
    iccids = sample(seed=11)
    fleet, clock = fleet_at_noon(seed=11)
    seen = {iccid: set() for iccid in iccids}
    appeared = set()
    for step in range(WINDOW // STEP):
        clock.moment = NOON + step * STEP
        for number, iccid in enumerate(iccids):
            if number % 4 == 0 and step % 19 == 7:
                write(fleet, iccid, step // 19)
            events = {(e.timestamp, e.event_type, e.alert) for e in fleet.events(iccid)}
            retained = {e for e in seen[iccid] if e[0] > clock.moment - EVENT_RETENTION}
            assert retained <= events, (iccid, clock.moment, sorted(retained - events))
            if step:
                appeared |= {e[1] for e in events - seen[iccid]}
            seen[iccid] |= events

    assert set(QUOTA_NOTICES) <= appeared
    assert {"Update location", "Create PDP Context", "Purge location"} <= appeared


def first_session_after(fleet: Fleet, clock: Clock, start: datetime) -> tuple[str, datetime]:
    """A SIM and its first location update after `start` on the same day that opens a session."""
    clock.moment = start.replace(hour=23, minute=59)
    for iccid in fleet.iccids():
        reported = stamps(fleet, iccid)
        for moment, kind in sorted(reported):
            opens = (moment + timedelta(seconds=45), "Create PDP Context") in reported
            if kind == "Update location" and moment > start and opens:
                return iccid, moment
    raise AssertionError("no session after noon")


def test_disabling_before_a_session_keeps_its_location_update():
    probe, probe_clock = fleet_at_noon()
    iccid, located = first_session_after(probe, probe_clock, NOON)
    fleet, clock = fleet_at_noon()
    clock.moment = located + timedelta(seconds=10)
    assert (located, "Update location") in stamps(fleet, iccid)

    fleet.controls.update_sim(iccid, status="Disabled")
    clock.moment += timedelta(minutes=5)

    kinds = {e.event_type for e in fleet.events(iccid) if e.timestamp >= located}
    assert kinds == {"Update location", "Status of SIM changed from 'Activated' to 'Suspended'"}


def test_a_registration_just_before_midnight_is_reported_at_once():
    probe, probe_clock = fleet_at_noon()
    probe_clock.moment = NOON + timedelta(hours=12, minutes=5)
    midnight = NOON + timedelta(hours=12)
    early = [
        (iccid, event.timestamp)
        for iccid in probe.iccids()
        for event in probe.events(iccid)
        if event.event_type == "Update location"
        and midnight - timedelta(seconds=45) <= event.timestamp < midnight
    ]
    assert early
    fleet, clock = fleet_at_noon()
    iccid, located = early[0]
    clock.moment = midnight - timedelta(seconds=1)

    assert (located, "Update location") in stamps(fleet, iccid)
