"""Derive each simulated SIM and its daily traffic plan from (seed, index), cheaply and lazily."""

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from simulator import identity
from simulator.catalog import AWKWARD_LABELS, LABEL_SITES, LABEL_THINGS, NETWORKS

DAY = timedelta(days=1)
DAY_SECONDS = 86_400
HISTORY_DAYS = 183
# Quotas are replayed from this many days before the fleet's start day; what a SIM had left
# then comes from the seed, and older traffic is reported as planned (never capped).
QUOTA_EPOCH_DAYS = 14
LIFETIME = timedelta(days=3652)
DATA_PACKAGE = 500_000_000  # bytes: 1NCE's 500 MB package, MB = 10**6 bytes
SMS_PACKAGE = 250
ORDER_BATCH = 200  # SIMs per simulated purchase order


class Profile(StrEnum):
    """How a device behaves on the network."""

    IDLE = "idle"
    REPORTER = "daily_reporter"
    STREAMER = "heavy_streamer"
    SILENT = "goes_silent"
    SPIKE = "sudden_spike"


@dataclass(frozen=True, slots=True)
class NetworkTraits:
    """Seeded network behaviour that Platform 2.0 (v2) makes visible.

    Drawn from a stream of their own, so adding them left every other seeded value as it was.
    """

    # The network blocked the endpoint from then on (v2 /status: BLOCKED; v1: OFFLINE).
    blocked_at: datetime | None
    # The account's monthly data limit stopped the SIM's traffic from then to the month's end.
    limit_reached_at: datetime | None
    # Data the session that drained the quota ran on for (v2 shows it as negative volume).
    overuse_bytes: int
    # Registers at a network border: some days bring two location updates in one second.
    handover: bool
    # IMEI-locked, and now and then another device tries the SIM (rejected sessions).
    imei_breach: bool
    # Automatic top-ups before the quota epoch (they count in the accumulated total volume).
    topups_before_epoch: int


NO_TRAITS = NetworkTraits(None, None, 0, False, False, 0)


@dataclass(frozen=True, slots=True)
class SimSeed:
    """Everything about one SIM that follows from the seed, before any write changes it."""

    index: int
    iccid: str
    imsi: str
    msisdn: str
    ip_address: str
    imei: str | None
    imei_lock: bool
    label: str | None
    activated_at: datetime
    expires_at: datetime
    disabled_at: datetime | None
    profile: Profile
    daily_bytes: int
    tx_permille: int
    sms_permille: int
    auto_topup: bool
    session_second: int
    silent_since: date | None
    spike_since: date | None
    spike_factor: int
    network: int
    start_data_remaining: int
    start_sms_remaining: int
    traits: NetworkTraits = NO_TRAITS


class DayPlan:
    """A SIM's full-day traffic if nothing stops it; sessions are worked out only when needed."""

    __slots__ = ("bits", "mo", "rx", "shape", "tx")

    def __init__(self, rx: int, tx: int, mo: int, shape: Profile | None, bits: int) -> None:
        self.rx = rx
        self.tx = tx
        self.mo = mo
        self.shape = shape
        self.bits = bits

    @property
    def active(self) -> bool:
        """Whether the device has any session this day."""
        return self.shape is not None

    def sessions(self, session_second: int) -> tuple[tuple[int, int], ...]:
        """(start, end) seconds of the day's sessions, which carry all of its traffic."""
        bits = self.bits
        if self.shape is None:
            return ()
        if self.shape is Profile.IDLE:
            start = (bits >> 20) % (DAY_SECONDS - 700)
            return ((start, start + 60 + (bits >> 40) % 540),)
        if self.shape is Profile.STREAMER:
            return streamer_sessions(bits)
        start = min(max(session_second + (bits >> 24) % 3600 - 1800, 0), DAY_SECONDS - 1300)
        return ((start, start + 300 + (bits >> 40) % 900),)

    def share_done(self, session_second: int, second: float) -> float:
        """Fraction of the day's traffic sent by `second` of the day (traffic flows in sessions)."""
        if second <= 0 or self.shape is None:
            return 0.0
        if second >= DAY_SECONDS:
            return 1.0
        sessions = self.sessions(session_second)
        done = 0.0
        for start, end in sessions:
            done += min(max((second - start) / (end - start), 0.0), 1.0)
        return done / len(sessions)

    def second_of_share(self, session_second: int, share: float) -> float:
        """The second of the day by which `share` of its traffic was sent (inverts share_done).

        Relies on the sessions being in order and disjoint, which all shapes guarantee.
        """
        sessions = self.sessions(session_second)
        left = max(share, 0.0) * len(sessions)
        for start, end in sessions:
            if left <= 1.0:
                return start + left * (end - start)
            left -= 1.0
        return float(sessions[-1][1])


class Draws:
    """Successive deterministic random numbers for one (seed, index, salt)."""

    def __init__(self, *key: int) -> None:
        self._state = identity.digest(*key)[0]

    def below(self, bound: int) -> int:
        """An integer in [0, bound)."""
        self._state = (self._state + identity.GOLDEN64) & identity.MASK64
        return identity.mix64(self._state) % bound

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + self.below(high - low + 1)

    def chance(self, percent: float) -> bool:
        """True with the given probability in percent."""
        return self.below(1_000_000) < percent * 10_000


@lru_cache(maxsize=8192)
def derive_sim(
    seed: int, index: int, anchor: datetime, initial_sims: int, added_at: datetime | None
) -> SimSeed:
    """The seeded SIM `index` of a fleet whose history ends at `anchor` (midnight UTC)."""
    draws = Draws(seed, index, 0x51A)
    serial = first_serial(seed) + index
    imei = identity.imei_for(seed, index) if draws.chance(88) else None
    activated_at = added_at or activation_time(draws, index, anchor, initial_sims)
    profile = pick_profile(draws)
    before_epoch = activated_at < anchor - QUOTA_EPOCH_DAYS * DAY
    sim = SimSeed(
        index=index,
        iccid=identity.iccid_for(serial),
        imsi=identity.imsi_for(serial),
        msisdn=identity.msisdn_for(serial),
        ip_address=identity.ip_address_for(index),
        imei=imei,
        imei_lock=imei is not None and draws.chance(30),
        label=pick_label(draws, index),
        activated_at=activated_at,
        expires_at=expiry_time(draws, activated_at, anchor, added_at is None),
        disabled_at=disabled_time(draws, activated_at, anchor, added_at is None),
        profile=profile,
        daily_bytes=typical_daily_bytes(draws, profile),
        tx_permille=uplink_permille(draws, profile),
        sms_permille={Profile.IDLE: 5, Profile.STREAMER: 10}.get(profile, draws.between(20, 150)),
        auto_topup=profile is Profile.STREAMER or draws.chance(25),
        session_second=draws.between(0, 23 * 3600),
        silent_since=later_day(activated_at, anchor, draws.between(2, 40))
        if profile is Profile.SILENT
        else None,
        spike_since=later_day(activated_at, anchor, draws.between(0, 10))
        if profile is Profile.SPIKE
        else None,
        spike_factor=draws.between(30, 100),
        network=0 if draws.chance(40) else draws.below(len(NETWORKS)),
        start_data_remaining=DATA_PACKAGE * draws.between(35, 100) // 100
        if before_epoch
        else DATA_PACKAGE,
        start_sms_remaining=SMS_PACKAGE * draws.between(60, 100) // 100
        if before_epoch
        else SMS_PACKAGE,
    )
    return replace(sim, traits=network_traits(seed, sim, anchor, added_at is None))


def network_traits(seed: int, sim: SimSeed, anchor: datetime, seeded: bool) -> NetworkTraits:
    """The SIM's v2-visible network behaviour (only seeded SIMs are blocked or limited)."""
    draws = Draws(seed, sim.index, 0x2B2)
    blocked_at = anchor - timedelta(days=draws.between(1, 20), seconds=draws.below(DAY_SECONDS))
    limit_reached_at = anchor - timedelta(seconds=draws.below(4 * DAY_SECONDS))
    # The network blocks endpoints that try to register, which disabled SIMs do not.
    blocked = draws.chance(1.5) and seeded and sim.disabled_at is None
    limited = draws.chance(2) and seeded
    overuse = draws.between(1_000, 400_000) if draws.chance(75) else 0
    handover, breach = draws.chance(6), draws.chance(25) and sim.imei_lock
    return NetworkTraits(
        blocked_at=max(blocked_at, sim.activated_at + timedelta(hours=1)) if blocked else None,
        # Within the month of the anchor, so the limit holds when the fleet starts.
        limit_reached_at=max(limit_reached_at, anchor.replace(day=1), sim.activated_at)
        if limited
        else None,
        # Auto top-ups refill the quota before a session can overrun it.
        overuse_bytes=0 if sim.auto_topup else overuse,
        handover=handover,
        imei_breach=breach,
        topups_before_epoch=topups_before(sim, anchor - QUOTA_EPOCH_DAYS * DAY),
    )


def topups_before(sim: SimSeed, epoch: datetime) -> int:
    """How many packages an auto-topping SIM used up before the epoch (as planned)."""
    if not sim.auto_topup or sim.activated_at >= epoch:
        return 0
    days = (epoch - sim.activated_at).days
    return days * sim.daily_bytes // DATA_PACKAGE


def first_serial(seed: int) -> int:
    """Where this fleet's ICCID serial range starts (leaves room for millions of SIMs)."""
    return 1_000_000 + identity.digest(seed, -1)[0] % 4_000_000


def activation_time(draws: Draws, index: int, anchor: datetime, initial_sims: int) -> datetime:
    """Activation a few weeks after the SIM's purchase order; orders spread over four years."""
    ordered = order_date(index // ORDER_BATCH, anchor, initial_sims)
    activated = ordered + timedelta(days=draws.between(1, 120), seconds=draws.below(DAY_SECONDS))
    return min(activated, anchor - DAY + timedelta(seconds=draws.below(DAY_SECONDS)))


def order_date(batch: int, anchor: datetime, initial_sims: int) -> datetime:
    """When the seeded purchase order `batch` was placed."""
    batches = max(1, math.ceil(initial_sims / ORDER_BATCH))
    return anchor - timedelta(days=1500) + timedelta(days=1470 * batch // batches, hours=9)


def expiry_time(draws: Draws, activated_at: datetime, anchor: datetime, seeded: bool) -> datetime:
    """Ten years after activation, except a few seeded SIMs whose quota ends around now."""
    if seeded and draws.chance(2):
        return anchor + timedelta(days=draws.between(-60, 60), hours=draws.below(24))
    return activated_at + LIFETIME


def disabled_time(
    draws: Draws, activated_at: datetime, anchor: datetime, seeded: bool
) -> datetime | None:
    """When a seeded SIM was disabled by its owner (about one in twenty), if ever."""
    if not seeded or not draws.chance(5):
        return None
    moment = anchor - timedelta(days=draws.between(1, 150), seconds=draws.below(DAY_SECONDS))
    return max(moment, activated_at + timedelta(hours=1))


def later_day(activated_at: datetime, anchor: datetime, days_back: int) -> date:
    """A day `days_back` before the anchor, but after the activation day."""
    return max(anchor.date() - timedelta(days=days_back), activated_at.date() + DAY)


def pick_profile(draws: Draws) -> Profile:
    """Mostly daily reporters, some idle, few streamers; some go silent or spike."""
    roll = draws.below(100)
    if roll < 20:
        return Profile.IDLE
    if roll < 80:
        return Profile.REPORTER
    if roll < 85:
        return Profile.STREAMER
    if roll < 95:
        return Profile.SILENT
    return Profile.SPIKE


def typical_daily_bytes(draws: Draws, profile: Profile) -> int:
    """Typical traffic per day: 20 kB to 1.5 MB for reporters, 5 to 30 MB for streamers."""
    if profile is Profile.STREAMER:
        return draws.between(5_000_000, 30_000_000)
    return int(20_000 * 75 ** (draws.below(1000) / 1000))


def uplink_permille(draws: Draws, profile: Profile) -> int:
    """Share of traffic the device sends: most devices report, streamers mostly receive."""
    if profile is Profile.STREAMER:
        return draws.between(200, 500)
    return draws.between(550, 900)


def pick_label(draws: Draws, index: int) -> str | None:
    """A readable label; some SIMs were never labelled and a few have awkward characters."""
    if draws.chance(15):
        return None
    if draws.chance(0.5):
        return AWKWARD_LABELS[draws.below(len(AWKWARD_LABELS))]
    thing = LABEL_THINGS[draws.below(len(LABEL_THINGS))]
    return f"{thing} {LABEL_SITES[draws.below(len(LABEL_SITES))]} #{index + 1:04d}"


def day_plan(seed: int, sim: SimSeed, day: date) -> DayPlan:
    """The SIM's traffic on `day`, from the hash of (seed, index, day)."""
    first, second = identity.digest(seed, sim.index, day.toordinal())
    if sim.silent_since is not None and day >= sim.silent_since:
        return DayPlan(0, 0, 0, None, second)
    if sim.profile is Profile.IDLE:
        if first % 100 >= 25:
            return DayPlan(0, 0, 0, None, second)
        shape = Profile.IDLE
        volume = 500 + second % 20_000
    elif sim.profile is Profile.STREAMER:
        shape = Profile.STREAMER
        volume = sim.daily_bytes * (500 + first % 1000) // 1000
    elif sim.spike_since is not None and day >= sim.spike_since:
        shape = Profile.STREAMER
        volume = sim.daily_bytes * sim.spike_factor * (700 + first % 600) // 1000
    else:
        shape = Profile.REPORTER
        volume = sim.daily_bytes * (700 + first % 600) // 1000
    tx = volume * sim.tx_permille // 1000
    mo = 1 if (first >> 32) % 1000 < sim.sms_permille else 0
    return DayPlan(volume - tx, tx, mo, shape, second)


def streamer_sessions(bits: int) -> tuple[tuple[int, int], ...]:
    """Three long sessions a day, in the night, morning and afternoon slots."""
    sessions = []
    for slot in range(3):
        start = slot * 28_800 + 1800 + (bits >> (slot * 12)) % 1800
        sessions.append((start, start + 10_800 + (bits >> (36 + slot * 8)) % 10_800))
    return tuple(sessions)
