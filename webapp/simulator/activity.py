"""Network activity that follows from traffic: location updates, PDP contexts, status, MO SMS."""

from datetime import date, datetime, timedelta

from webapp.simulator import identity
from webapp.simulator.catalog import MO_PAYLOADS, NETWORKS
from webapp.simulator.ledger import Ledger
from webapp.simulator.records import Connectivity, Event, Session, SmsMessage
from webapp.simulator.seeding import DAY, SimSeed, day_plan

EVENT_RETENTION = timedelta(days=7)  # 1NCE keeps events and SMS for 7 days
OFFLINE_AFTER = timedelta(hours=26)  # no registration for longer than this: detached
LOOKBACK_DAYS = 60
MO_ID_DAY_BASE = 730_000
SMS_VALIDITY = timedelta(days=2)
LOCATION_LEAD = timedelta(seconds=45)  # a device registers this long before its first session


def midnight(day: date, like: datetime) -> datetime:
    """Start of `day` in the time zone of `like`."""
    return datetime.combine(day, datetime.min.time(), like.tzinfo)


def day_activity(seed: int, sim: SimSeed, ledger: Ledger, day: date, anchor: datetime):
    """(time, kind, session end) of the day's location update and PDP sessions, oldest first."""
    start_of_day = midnight(day, anchor)
    activity = []
    for first, (start, end) in enumerate(day_plan(seed, sim, day).sessions(sim.session_second)):
        opened = start_of_day + timedelta(seconds=start)
        if opened < sim.activated_at:
            continue
        # Each event is judged by the SIM's state at its own moment: a SIM disabled between
        # the location update and the session must not take back the update already seen.
        located = opened - LOCATION_LEAD
        if first == 0 and ledger.blocked_at(located) not in ("disabled", "expired"):
            activity.append((located, "location", None))
        if ledger.blocked_at(opened) is None:
            activity.append((opened, "session", start_of_day + timedelta(seconds=end)))
    return activity


def recent_events(
    seed: int, sim: SimSeed, ledger: Ledger, now: datetime, anchor: datetime
) -> list[Event]:
    """Events of the last seven days, newest first."""
    since = now - EVENT_RETENTION
    events = [
        Event(notice.at, notice.text, notice.alert, "Warn" if notice.alert else "Info")
        for notice in ledger.notices
        if since < notice.at <= now
    ]
    day = since.date()
    # Up to tomorrow's plan when tomorrow's first registration falls just before midnight.
    while day <= (now + LOCATION_LEAD).date():
        for moment, kind, closed in day_activity(seed, sim, ledger, day, anchor):
            if kind == "location":
                events.append(Event(moment, "Update location"))
                continue
            events.append(Event(moment, "Create PDP Context"))
            events.append(Event(closed, "Delete PDP Context"))
        day += DAY
    events = [event for event in events if since < event.timestamp <= now]
    events.sort(key=lambda event: event.timestamp, reverse=True)
    return events


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
    if ledger.blocked_at(now) == "disabled" or now - located > OFFLINE_AFTER:
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
    )


def last_activity(seed: int, sim: SimSeed, ledger: Ledger, now: datetime, anchor: datetime):
    """Latest location update, latest PDP creation and the session open at `now`, if any."""
    located = gprs = None
    session = None
    day = (now + LOCATION_LEAD).date()
    for _ in range(LOOKBACK_DAYS):
        if day < sim.activated_at.date():
            break
        for moment, kind, closed in reversed(day_activity(seed, sim, ledger, day, anchor)):
            if moment > now:
                continue
            if kind == "location":
                located = located or moment
            else:
                gprs = gprs or moment
                if closed > now and session is None:
                    session = Session(moment, sim.ip_address)
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
