"""Replay one SIM's timeline: daily traffic as rated, quotas that deplete, expire and refill."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from simulator.seeding import (
    DATA_PACKAGE,
    DAY,
    LIFETIME,
    SMS_PACKAGE,
    DayPlan,
    SimSeed,
    day_plan,
)

# Traffic is rated (shows in usage and quotas) a little after it flows, so 1NCE keeps
# revising today's and, just after midnight, yesterday's numbers.
RATING_LAG = timedelta(minutes=15)
THRESHOLD_PERCENT = 20


@dataclass(frozen=True, slots=True)
class Change:
    """A point on a SIM's timeline: a status flip, top-up, sent SMS, reset or expiry."""

    at: datetime
    kind: str
    value: object = None


@dataclass(slots=True)
class QuotaState:
    """A data (bytes) or SMS (count) quota at some moment."""

    remaining: int
    total: int
    last_added: int
    status: int
    changed_at: datetime
    accumulated: int  # the first package plus every top-up
    created_at: datetime  # when the current package began (activation or the last top-up)
    threshold_at: datetime | None = None
    exceeded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A non-traffic event the network or API wrote for the SIM."""

    at: datetime
    text: str
    alert: bool = False


@dataclass(slots=True)
class Ledger:
    """The replayed state of one SIM at `now`."""

    first_day: date
    rx: list[int]
    tx: list[int]
    mo: list[int]
    mt: list[int]
    data: QuotaState
    sms: QuotaState
    expires_at: datetime
    enabled: bool
    expired: bool
    blocked: list[list] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # Why the network stops traffic besides status and expiry: "endpoint" (blocked), "limit".
    barred: set[str] = field(default_factory=set)

    def day_usage(self, day: date) -> tuple[int, int, int, int]:
        """Rated (rx bytes, tx bytes, MO SMS, MT SMS) of `day`; zeros outside the ledger."""
        offset = (day - self.first_day).days
        if 0 <= offset < len(self.rx):
            return self.rx[offset], self.tx[offset], self.mo[offset], self.mt[offset]
        return 0, 0, 0, 0

    def blocked_at(self, moment: datetime) -> str | None:
        """Why the SIM had no data service at `moment` (disabled, exhausted, expired), if so."""
        for start, end, reason in self.blocked:
            if start <= moment and (end is None or moment < end):
                return reason
        return None


def quota_status(remaining: int, total: int, expired: bool) -> int:
    """1NCE's quota status id: 0 more than 20 % left, 1 less than 20 %, 2 nothing left."""
    if expired or remaining <= 0:
        return 2
    if remaining * 100 < total * THRESHOLD_PERCENT:
        return 1
    return 0


def units_to_next_status(quota: QuotaState) -> int:
    """How much can be taken until the quota drops under the threshold, or else is used up."""
    below = (quota.total * THRESHOLD_PERCENT - 1) // 100  # the most that is under the threshold
    return quota.remaining - (below if 0 < below < quota.remaining else 0)


class Replay:
    """Walks a SIM's days from the quota epoch (or its activation) up to `now`."""

    def __init__(self, seed: int, sim: SimSeed, changes: list[Change], epoch: datetime) -> None:
        self.seed = seed
        self.sim = sim
        self.begin = max(epoch, sim.activated_at)
        self.points = sorted(seeded_points(sim) + changes, key=lambda change: change.at)
        self.next_point = 0
        self.cutoff = epoch
        fresh = sim.activated_at >= epoch
        packages = 1 + sim.traits.topups_before_epoch
        self.ledger = Ledger(
            first_day=self.begin.date(),
            rx=[],
            tx=[],
            mo=[],
            mt=[],
            data=QuotaState(
                sim.start_data_remaining,
                DATA_PACKAGE,
                DATA_PACKAGE,
                0,
                sim.activated_at,
                DATA_PACKAGE * packages,
                sim.activated_at,
            ),
            sms=QuotaState(
                sim.start_sms_remaining,
                SMS_PACKAGE,
                SMS_PACKAGE,
                0,
                sim.activated_at,
                SMS_PACKAGE * packages,
                sim.activated_at,
            ),
            expires_at=sim.expires_at,
            enabled=True,
            expired=False,
        )
        if fresh:
            self.notice(sim.activated_at, "Status of SIM changed from 'Issued' to 'Activated'")

    def run(self, now: datetime) -> Ledger:
        """Replay up to `now`, rating traffic only up to `now` minus the rating lag."""
        cutoff = now - RATING_LAG
        self.cutoff = cutoff
        self.apply_points(self.begin)
        day_start = datetime.combine(self.begin.date(), datetime.min.time(), self.begin.tzinfo)
        while day_start <= now:
            self.replay_day(day_start, max(day_start, self.begin), now, cutoff)
            day_start += DAY
        self.apply_points(now)
        return self.ledger

    def replay_day(
        self, day_start: datetime, start: datetime, now: datetime, cutoff: datetime
    ) -> None:
        """Rate one day, segment by segment between timeline points."""
        ledger = self.ledger
        for series in (ledger.rx, ledger.tx, ledger.mo, ledger.mt):
            series.append(0)
        plan = day_plan(self.seed, self.sim, day_start.date())
        day_end = day_start + DAY
        stop = min(day_end, now)
        if (
            start == day_start
            and day_end <= cutoff
            and self.upcoming_point_time(day_end) == day_end
        ):
            if plan.active:
                self.rate(plan, 0.0, 1.0, day_start, day_start)
            return
        moment = start
        while moment < stop:
            self.apply_points(moment)
            upcoming = self.upcoming_point_time(stop)
            if moment < cutoff < upcoming:
                upcoming = cutoff
            if moment < cutoff and plan.active:
                self.rate_between(plan, day_start, moment, upcoming)
            moment = upcoming

    def upcoming_point_time(self, stop: datetime) -> datetime:
        """The next timeline point before `stop`, else `stop`."""
        if self.next_point < len(self.points):
            return min(self.points[self.next_point].at, stop)
        return stop

    def apply_points(self, moment: datetime) -> None:
        """Apply every timeline point at or before `moment`."""
        while self.next_point < len(self.points) and self.points[self.next_point].at <= moment:
            point = self.points[self.next_point]
            self.next_point += 1
            getattr(self, f"on_{point.kind}")(point)

    def rate_between(
        self, plan: DayPlan, day_start: datetime, begin: datetime, end: datetime
    ) -> None:
        """Rate the part of the day's traffic that flows between `begin` and `end`."""
        session_second = self.sim.session_second
        before = plan.share_done(session_second, (begin - day_start).total_seconds())
        after = plan.share_done(session_second, (end - day_start).total_seconds())
        if after > before:
            self.rate(plan, before, after, day_start, begin)

    def rate(
        self, plan: DayPlan, before: float, after: float, day_start: datetime, begin: datetime
    ) -> None:
        """Rate the plan's traffic between two shares of the day, from `begin`, against quotas."""
        ledger = self.ledger
        if not ledger.enabled or ledger.expired or ledger.barred:
            return
        rx = int(plan.rx * after) - int(plan.rx * before)
        tx = int(plan.tx * after) - int(plan.tx * before)
        mo = int(plan.mo * after) - int(plan.mo * before)
        if rx + tx:
            flowed = int(plan.rx * before) + int(plan.tx * before)
            at = self.flow_clock(plan, plan.rx + plan.tx, flowed, day_start, begin)
            taken = self.consume(ledger.data, rx + tx, at, "Quota")
            tx_taken = tx * taken // (rx + tx)
            ledger.rx[-1] += taken - tx_taken
            ledger.tx[-1] += tx_taken
        if mo:
            at = self.flow_clock(plan, plan.mo, int(plan.mo * before), day_start, begin)
            ledger.mo[-1] += self.consume(ledger.sms, mo, at, "SMS Quota")

    def flow_clock(
        self, plan: DayPlan, volume: int, flowed: int, day_start: datetime, begin: datetime
    ) -> Callable[[int], datetime]:
        """When the segment's traffic had reached `taken` units, `flowed` having gone before it.

        Read off the day's plan, not the segment's length: segments end at the rating cutoff,
        which moves with the clock, and a quota event may not move once it was reported.
        """

        def at(taken: int) -> datetime:
            second = plan.second_of_share(self.sim.session_second, (flowed + taken) / volume)
            # Whole units are rated, so the plan can put a unit a hair before the segment.
            return max(begin, day_start + timedelta(seconds=second))

        return at

    def consume(
        self, quota: QuotaState, wanted: int, at: Callable[[int], datetime], name: str
    ) -> int:
        """Take up to `wanted` from the quota, topping up automatically when so configured.

        `at(taken)` tells when the segment had used `taken` units.
        """
        left = quota.remaining - wanted
        if left >= 0 and quota_status(left, quota.total, False) == quota.status:
            quota.remaining = left
            return wanted
        taken = 0
        while taken < wanted:
            if quota.remaining <= 0:
                if not self.sim.auto_topup:
                    return taken + self.overrun(quota, name)
                self.top_up(at(taken))
            # Stop at every status boundary, so a change is dated by the unit that caused it
            # however the traffic is cut into segments.
            step = min(wanted - taken, units_to_next_status(quota))
            quota.remaining -= step
            taken += step
            self.refresh_status(quota, at(taken), name)
        return taken

    def overrun(self, quota: QuotaState, name: str) -> int:
        """Data the session that used the quota up still carried before the network cut it.

        Its full seeded amount at once, however traffic is cut into segments, so the
        overrun never changes once reported; the quota's volume goes below zero by it.
        """
        if name != "Quota" or quota.remaining != 0:
            return 0
        quota.remaining -= self.sim.traits.overuse_bytes
        return self.sim.traits.overuse_bytes

    def refresh_status(self, quota: QuotaState, moment: datetime, name: str) -> None:
        """Record a status change of a quota, with the event 1NCE writes for it."""
        status = quota_status(quota.remaining, quota.total, self.ledger.expired)
        if status == quota.status:
            return
        quota.status = status
        quota.changed_at = moment
        if status == 1:
            quota.threshold_at = moment
            self.notice(moment, f"{name} threshold reached", alert=True)
        elif status == 2:
            quota.exceeded_at = moment
            if not self.ledger.expired:
                self.notice(moment, f"{name} used up", alert=True)
                if name == "Quota":
                    self.block(moment, "exhausted")
        if status != 2 and name == "Quota":
            self.unblock(moment, "exhausted")

    def top_up(self, moment: datetime) -> None:
        """Add the standard package (500 MB and 250 SMS); an expired quota starts anew."""
        ledger = self.ledger
        if ledger.expired:
            ledger.expired = False
            ledger.expires_at = moment + LIFETIME
            self.unblock(moment, "expired")
        for quota, package, name in (
            (ledger.data, DATA_PACKAGE, "Quota"),
            (ledger.sms, SMS_PACKAGE, "SMS Quota"),
        ):
            quota.total = quota.remaining + package
            quota.remaining += package
            quota.last_added = package
            quota.accumulated += package
            quota.created_at = moment
            self.refresh_status(quota, moment, name)

    def notice(self, moment: datetime, text: str, alert: bool = False) -> None:
        """Keep an event for the events endpoint."""
        self.ledger.notices.append(Notice(moment, text, alert))

    def block(self, moment: datetime, reason: str) -> None:
        """Open an interval without data service."""
        self.ledger.blocked.append([moment, None, reason])

    def unblock(self, moment: datetime, reason: str) -> None:
        """Close the open interval without data service for `reason`."""
        for interval in self.ledger.blocked:
            if interval[2] == reason and interval[1] is None:
                interval[1] = moment

    def on_status(self, point: Change) -> None:
        """The owner (or 1NCE) enabled or disabled the SIM."""
        enable = point.value == "Enabled"
        if enable == self.ledger.enabled:
            return
        self.ledger.enabled = enable
        old, new = ("Suspended", "Activated") if enable else ("Activated", "Suspended")
        self.notice(point.at, f"Status of SIM changed from '{old}' to '{new}'")
        if enable:
            self.unblock(point.at, "disabled")
        else:
            self.block(point.at, "disabled")

    def on_expiry(self, point: Change) -> None:
        """The quota's validity ends: what was left is gone."""
        ledger = self.ledger
        if ledger.expired or point.at != ledger.expires_at:
            return
        ledger.expired = True
        for quota in (ledger.data, ledger.sms):
            quota.remaining = 0
        self.notice(point.at, "Data Quota expired", alert=True)
        self.block(point.at, "expired")
        self.refresh_status(ledger.data, point.at, "Quota")
        self.refresh_status(ledger.sms, point.at, "SMS Quota")

    def on_topup(self, point: Change) -> None:
        """A top-up order was fulfilled."""
        self.top_up(point.at)

    def on_sms_mt(self, point: Change) -> None:
        """A mobile-terminated SMS was delivered (counted in usage, not against the quota)."""
        if self.ledger.mt and point.at <= self.cutoff:
            self.ledger.mt[-1] += 1

    def on_endpoint_block(self, point: Change) -> None:
        """The network blocked the endpoint: no more registrations or sessions."""
        self.bar(point.at, "endpoint", "Endpoint blocked")

    def on_limit_reached(self, point: Change) -> None:
        """The account's monthly data limit stops the SIM's traffic until the month ends."""
        self.bar(point.at, "limit", "Monthly data limit reached")

    def on_limit_reset(self, point: Change) -> None:
        """A new month: the monthly data limit no longer holds."""
        self.ledger.barred.discard("limit")
        self.unblock(point.at, "limit")

    def bar(self, moment: datetime, reason: str, text: str) -> None:
        """Stop traffic for `reason`, with the alert 1NCE writes for it."""
        self.ledger.barred.add(reason)
        self.notice(moment, text, alert=True)
        self.block(moment, reason)

    def on_reset(self, point: Change) -> None:
        """A connectivity reset purges the location; the device registers again shortly."""
        self.notice(point.at, "Purge location")
        self.notice(point.at + timedelta(seconds=30), "Update location")


def seeded_points(sim: SimSeed) -> list[Change]:
    """Timeline points from the seed: quota expiry, a disable, a block, a monthly limit."""
    points = [Change(sim.expires_at, "expiry")]
    if sim.disabled_at is not None:
        points.append(Change(sim.disabled_at, "status", "Disabled"))
    traits = sim.traits
    if traits.blocked_at is not None:
        points.append(Change(traits.blocked_at, "endpoint_block"))
    if traits.limit_reached_at is not None:
        points.append(Change(traits.limit_reached_at, "limit_reached"))
        points.append(Change(next_month(traits.limit_reached_at), "limit_reset"))
    return points


def next_month(moment: datetime) -> datetime:
    """Midnight at the start of the month after `moment`'s."""
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def replay(
    seed: int, sim: SimSeed, changes: list[Change], epoch: datetime, now: datetime
) -> Ledger:
    """The SIM's ledger at `now`, replayed from the quota epoch (or activation)."""
    return Replay(seed, sim, changes, epoch).run(now)


def usage_before_epoch(
    seed: int, sim: SimSeed, ledger: Ledger, day: date
) -> tuple[int, int, int, int]:
    """Traffic of a day before the ledger starts: as planned, while active and not blocked."""
    plan = day_plan(seed, sim, day)
    if not plan.active:
        return 0, 0, 0, 0
    day_start = datetime.combine(day, datetime.min.time(), sim.activated_at.tzinfo)
    share = 0.0
    for begin, end in open_periods(ledger, max(day_start, sim.activated_at), day_start + DAY):
        share += plan.share_done(sim.session_second, (end - day_start).total_seconds())
        share -= plan.share_done(sim.session_second, (begin - day_start).total_seconds())
    return int(plan.rx * share), int(plan.tx * share), int(plan.mo * share), 0


def open_periods(ledger: Ledger, begin: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [begin, end) in which the SIM had data service."""
    periods = [(begin, end)] if begin < end else []
    for start, stop, _ in ledger.blocked:
        stop = stop or end
        remaining = []
        for low, high in periods:
            if stop <= low or start >= high:
                remaining.append((low, high))
                continue
            if low < start:
                remaining.append((low, start))
            if stop < high:
                remaining.append((stop, high))
        periods = remaining
    return periods
