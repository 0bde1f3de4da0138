"""Network activity that follows from traffic: location updates, PDP contexts, status, MO SMS."""

import zlib
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from simulator import identity
from simulator.catalog import MO_PAYLOADS, NETWORKS, Network
from simulator.ledger import Ledger
from simulator.records import Connectivity, Event, Session, SmsMessage
from simulator.seeding import DAY, SimSeed, day_plan

EVENT_RETENTION = timedelta(days=7)  # 1NCE keeps events and SMS for 7 days
OFFLINE_AFTER = timedelta(hours=26)  # no registration for longer than this: detached
LOOKBACK_DAYS = 60
MO_ID_DAY_BASE = 730_000
SMS_VALIDITY = timedelta(days=2)
LOCATION_LEAD = timedelta(seconds=45)  # a device registers this long before its first session
IMEI_BREACH_AFTER = timedelta(seconds=15)  # a foreign device tries the SIM after registering
# No registration at all while disabled, expired or blocked by the network.
UNREGISTERED = ("disabled", "expired", "endpoint")
# Session refusals that v2 reports with a cause (disabled or expired SIMs do not register).
FAILURE_CAUSES = {"exhausted": "QUOTA_EXHAUSTED", "limit": "MONTHLY_USAGE_LIMIT_EXCEEDED"}
REJECTED = "Create PDP Context failed"


def midnight(day: date, like: datetime) -> datetime:
    """Start of `day` in the time zone of `like`."""
    return datetime.combine(day, datetime.min.time(), like.tzinfo)


class Activity(NamedTuple):
    """Something the device did on the network at `at`."""

    at: datetime
    # "location", "handover" (another network in the same second), "session" or "rejected"
    kind: str
    closed: datetime | None = None  # when a session ended
    volume: tuple[int, int] | None = None  # a session's planned (rx, tx) bytes
    failure_cause: str | None = None  # why a session was rejected


def day_activity(
    seed: int, sim: SimSeed, ledger: Ledger, day: date, anchor: datetime
) -> list[Activity]:
    """The day's location updates, PDP sessions and rejected sessions, oldest first."""
    start_of_day = midnight(day, anchor)
    plan = day_plan(seed, sim, day)
    sessions = plan.sessions(sim.session_second)
    activity = []
    for first, (start, end) in enumerate(sessions):
        opened = start_of_day + timedelta(seconds=start)
        if opened < sim.activated_at:
            continue
        # Each event is judged by the SIM's state at its own moment: a SIM disabled between
        # the location update and the session must not take back the update already seen.
        located = opened - LOCATION_LEAD
        if first == 0 and ledger.blocked_at(located) not in UNREGISTERED:
            activity += registration(seed, sim, ledger, day, located)
        reason = ledger.blocked_at(opened)
        if reason is None:
            closed = start_of_day + timedelta(seconds=end)
            volume = (plan.rx // len(sessions), plan.tx // len(sessions))
            activity.append(Activity(opened, "session", closed, volume))
        elif reason in FAILURE_CAUSES:
            activity.append(Activity(opened, "rejected", failure_cause=FAILURE_CAUSES[reason]))
    return sorted(activity, key=lambda item: item.at)


def registration(
    seed: int, sim: SimSeed, ledger: Ledger, day: date, located: datetime
) -> list[Activity]:
    """The day's first registration: a handover pair on some days, maybe a foreign device."""
    bits = identity.digest(seed, sim.index, day.toordinal(), 0x4A0)[0]
    found = [Activity(located, "location")]
    if sim.traits.handover and bits % 3 == 0:
        found.insert(0, Activity(located, "handover"))
    intruded = located + IMEI_BREACH_AFTER
    if sim.traits.imei_breach and bits % 5 == 1 and ledger.blocked_at(intruded) is None:
        found.append(Activity(intruded, "rejected", failure_cause="IMEI_LOCK_BREACHED"))
    return found


def recent_events(
    seed: int, sim: SimSeed, ledger: Ledger, now: datetime, anchor: datetime
) -> list[Event]:
    """Events of the last seven days, newest first (same-second ones in a stable order)."""
    since = now - EVENT_RETENTION
    home = NETWORKS[sim.network]
    events = [
        Event(notice.at, notice.text, notice.alert, "Warn" if notice.alert else "Info")
        for notice in ledger.notices
        if since < notice.at <= now
    ]
    day = since.date()
    # Up to tomorrow's plan when tomorrow's first registration falls just before midnight.
    while day <= (now + LOCATION_LEAD).date():
        for item in day_activity(seed, sim, ledger, day, anchor):
            events += activity_events(item, home, neighbour(sim))
        day += DAY
    events = [
        identified(seed, sim, event, home) for event in events if since < event.timestamp <= now
    ]
    events.sort(key=lambda event: (event.timestamp, event.id), reverse=True)
    return events


def activity_events(item: Activity, home: Network, away: Network) -> list[Event]:
    """The events one piece of activity writes."""
    if item.kind == "location":
        return [Event(item.at, "Update location", network=home)]
    if item.kind == "handover":
        return [Event(item.at, "Update location", network=away)]
    if item.kind == "rejected":
        return [Event(item.at, REJECTED, True, "Warn", failure_cause=item.failure_cause)]
    assert item.closed is not None, "a session has its end"
    return [
        Event(item.at, "Create PDP Context"),
        Event(item.closed, "Delete PDP Context", volume=item.volume),
    ]


def neighbour(sim: SimSeed) -> Network:
    """The network across the border a handover SIM also registers with."""
    return NETWORKS[(sim.network + 1) % len(NETWORKS)]


def identified(seed: int, sim: SimSeed, event: Event, home: Network) -> Event:
    """The event with its network (home unless set) and its stable id."""
    network = event.network or home
    key = identity.digest(
        seed,
        sim.index,
        int(event.timestamp.timestamp() * 1000),
        zlib.crc32(event.event_type.encode()),
        network.operator_id,
    )[0]
    # Below 2**53, so JSON readers that use doubles keep every id exact.
    return replace(event, network=network, id=key >> 11 or 1)


def connectivity(
    seed: int, sim: SimSeed, ledger: Ledger, now: datetime, anchor: datetime
) -> Connectivity:
    """Attachment state consistent with traffic: silent or disabled SIMs are offline."""
    located, gprs, session = last_activity(seed, sim, ledger, now, anchor)
    reset = last_reset(ledger, now)
    if reset is not None:
        located = max(located, reset)
        if session is not None and session.created < reset:
            session = None
    if ledger.blocked_at(now) == "disabled":
        status = "OFFLINE"
    elif "endpoint" in ledger.barred:
        status = "BLOCKED"
    elif now - located > OFFLINE_AFTER:
        status = "OFFLINE"
    elif session is not None:
        status = "ONLINE"
    else:
        status = "ATTACHED"
    return Connectivity(
        status=status,
        network=NETWORKS[sim.network],
        last_updated=located,
        last_updated_gprs=gprs,
        session=session if status == "ONLINE" else None,
        traffic_limit_reached="limit" in ledger.barred,
    )


def last_activity(
    seed: int, sim: SimSeed, ledger: Ledger, now: datetime, anchor: datetime
) -> tuple[datetime, datetime, Session | None]:
    """Latest location update, latest PDP creation and the session open at `now`, if any."""
    located = gprs = None
    session = None
    day = (now + LOCATION_LEAD).date()
    for _ in range(LOOKBACK_DAYS):
        if day < sim.activated_at.date():
            break
        for item in reversed(day_activity(seed, sim, ledger, day, anchor)):
            if item.at > now or item.kind in ("handover", "rejected"):
                continue
            if item.kind == "location":
                located = located or item.at
            else:
                gprs = gprs or item.at
                assert item.closed is not None, "a session has its end"
                if item.closed > now and session is None:
                    session = Session(item.at, sim.ip_address)
        if located and gprs:
            break
        day -= DAY
    return located or sim.activated_at, gprs or sim.activated_at, session


def last_reset(ledger: Ledger, now: datetime) -> datetime | None:
    """When the device last registered again after a connectivity reset."""
    registrations = [notice.at for notice in ledger.notices if notice.text == "Update location"]
    registrations = [moment for moment in registrations if moment <= now]
    return max(registrations) if registrations else None


def mo_messages(
    seed: int, sim: SimSeed, ledger: Ledger, now: datetime, anchor: datetime
) -> list[SmsMessage]:
    """Rated mobile-originated SMS of the last seven days."""
    messages = []
    day = (now - EVENT_RETENTION).date()
    while day <= now.date():
        count = ledger.day_usage(day)[2]
        sessions = day_plan(seed, sim, day).sessions(sim.session_second)
        for number in range(count if sessions else 0):
            sent = midnight(day, anchor) + timedelta(seconds=sessions[0][0] + 20 + 7 * number)
            pick = identity.digest(seed, sim.index, day.toordinal(), number)[0]
            messages.append(
                SmsMessage(
                    id=mo_message_id(sim.index, day, number),
                    direction="MO",
                    payload=MO_PAYLOADS[pick % len(MO_PAYLOADS)],
                    submitted_at=sent,
                    expires_at=sent + SMS_VALIDITY,
                    status=4,
                    delivered_at=sent + timedelta(seconds=1),
                    source_address=sim.msisdn,
                    source_address_type=145,
                )
            )
        day += DAY
    return [message for message in messages if now - EVENT_RETENTION < message.submitted_at <= now]


def mo_message_id(index: int, day: date, number: int) -> int:
    """A stable id for a derived MO SMS that encodes where it came from."""
    return ((index + 1) * 100_000 + day.toordinal() - MO_ID_DAY_BASE) * 10 + number
