"""The simulated 1NCE account: a deterministic fleet and its changes (ground truth).

`Fleet` holds the state and answers every read; the API's writes wait in `fleet.writes`
(simulator/writes.py) until due, and tests change the fleet at once through
`fleet.controls` (simulator/fleet_controls.py).
"""

import itertools
import math
import threading
from bisect import bisect_right, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from simulator import activity, identity
from simulator.fleet_controls import FleetControls
from simulator.ledger import Change, Ledger, QuotaState, replay, usage_before_epoch
from simulator.records import (
    Connectivity,
    Event,
    Order,
    Quota,
    SimRecord,
    SmsMessage,
    UsageDay,
    megabytes,
)
from simulator.seeding import (
    DAY,
    HISTORY_DAYS,
    ORDER_BATCH,
    QUOTA_EPOCH_DAYS,
    SimSeed,
    derive_sim,
    first_serial,
    order_date,
)
from simulator.writes import Writes

Clock = Callable[[], datetime]
SIM_STATUSES = ("Enabled", "Disabled")
FIRST_ORDER_NUMBER = 2_000_000_001
PEAK_THROUGHPUT = 128_000
SIM_PRODUCT = 1001
PRICE_CENTS = 1000


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class Overlay:
    """What writes changed on one SIM; only changed SIMs have one."""

    fields: dict[str, object] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    messages: list[SmsMessage] = field(default_factory=list)


class Fleet:
    """A deterministic SIM fleet derived from `seed`, on a clock of its own.

    Writes through the API go to `writes` (in effect after `write_delay` seconds); tests and
    demos change the fleet at once through `controls`.
    """

    def __init__(
        self,
        *,
        sims: int = 1000,
        seed: int = 1,
        now: Clock | None = None,
        write_delay: float = 2.0,
    ) -> None:
        self.seed = seed
        self._clock = now or utc_now
        self._offset = timedelta(0)
        # Shared with `writes` and `controls`: a read, a write and its effect never interleave.
        self.lock = threading.RLock()
        started = self.now()
        self.anchor = datetime.combine(started.date(), datetime.min.time(), UTC)
        self.history_start = self.anchor - HISTORY_DAYS * DAY
        self.quota_epoch = self.anchor - QUOTA_EPOCH_DAYS * DAY
        self.initial_sims = sims
        self._size = sims
        self._removed: list[int] = []
        self._added: dict[int, datetime] = {}
        self._overlays: dict[int, Overlay] = {}
        self._orders: list[Order] = []
        self._limits = {"data": 4, "smsMO": 12, "smsMT": 22}
        self.writes = Writes(self, write_delay)
        self.controls = FleetControls(self)

    # Clock

    def now(self) -> datetime:
        """The simulator's current time (the injected clock plus any advance)."""
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC) + self._offset

    # Inventory

    def count(self) -> int:
        """Number of SIMs in the account."""
        with self.lock:
            return self._size - len(self._removed)

    def has_sim(self, iccid: str) -> bool:
        """Whether the SIM is in the account."""
        with self.lock:
            return self._index(iccid) is not None

    def iccids(self) -> list[str]:
        """All ICCIDs in the order the list endpoint pages them."""
        with self.lock:
            return [self._iccid(index) for index in self._live_indices()]

    def sim(self, iccid: str) -> SimRecord | None:
        """The SIM as the API reports it now, or None if it is not in the account."""
        with self.lock:
            now = self.writes.settle()
            index = self._index(iccid)
            return None if index is None else self._record(index, now)

    def page(self, page: int, page_size: int) -> tuple[list[SimRecord], int]:
        """One page of SIMs (1-based) and the total count."""
        with self.lock:
            now = self.writes.settle()
            indices = itertools.islice(self._live_indices((page - 1) * page_size), page_size)
            return [self._record(index, now) for index in indices], self.count()

    def search(
        self, filters: dict[str, str], sort: list[str], page: int, page_size: int
    ) -> tuple[list[SimRecord], int]:
        """A page of SIMs matching exact `imei`/`ip_address` filters, sorted by those fields."""
        with self.lock:
            now = self.writes.settle()
            candidates = self._candidates(filters.get("ip_address"))
            matches = [index for index in candidates if self._matches(index, filters)]
            for key in reversed(sort):
                descending = key.startswith("-")
                name = key.lstrip("-")
                matches.sort(key=partial(self._sort_key, name=name), reverse=descending)
            chosen = matches[(page - 1) * page_size : page * page_size]
            return [self._record(index, now) for index in chosen], len(matches)

    # Per-SIM data

    def usage(self, iccid: str, start: date, end: date) -> list[UsageDay] | None:
        """Rated usage per day from `start` to `end` (inclusive, not past today), oldest first."""
        with self.lock:
            now = self.writes.settle()
            found = self._sim_and_ledger(iccid, now)
            if found is None:
                return None
            sim, ledger = found
            days = []
            day = start
            while day <= min(end, now.date()):
                if day < ledger.first_day:
                    rx, tx, mo, mt = usage_before_epoch(self.seed, sim, ledger, day)
                else:
                    rx, tx, mo, mt = ledger.day_usage(day)
                days.append(UsageDay(day, megabytes(rx), megabytes(tx), mo, mt))
                day += DAY
            return days

    def data_quota(self, iccid: str) -> Quota | None:
        """The data quota (MB) now."""
        return self._quota(iccid, "data")

    def sms_quota(self, iccid: str) -> Quota | None:
        """The SMS quota (messages) now."""
        return self._quota(iccid, "sms")

    def events(self, iccid: str) -> list[Event] | None:
        """Events of the last seven days, newest first, each with its stable `id`."""
        with self.lock:
            now = self.writes.settle()
            found = self._sim_and_ledger(iccid, now)
            if found is None:
                return None
            return activity.recent_events(self.seed, *found, now, self.anchor)

    def connectivity(self, iccid: str) -> Connectivity | None:
        """Attachment now (ONLINE, ATTACHED, OFFLINE or BLOCKED; `v1_status` has no BLOCKED)."""
        with self.lock:
            now = self.writes.settle()
            found = self._sim_and_ledger(iccid, now)
            if found is None:
                return None
            return activity.connectivity(self.seed, *found, now, self.anchor)

    def sms(self, iccid: str) -> list[SmsMessage] | None:
        """SMS of the last seven days (MO and MT), newest first."""
        with self.lock:
            now = self.writes.settle()
            found = self._sim_and_ledger(iccid, now)
            if found is None:
                return None
            sim, ledger = found
            messages = activity.mo_messages(self.seed, sim, ledger, now, self.anchor)
            overlay = self._overlays.get(sim.index)
            for message in overlay.messages if overlay else ():
                if now - activity.EVENT_RETENTION < message.submitted_at <= now:
                    if message.status == 2 and message.expires_at <= now:
                        message.status = 6
                    messages.append(message)
            messages.sort(key=lambda message: (message.submitted_at, message.id), reverse=True)
            return messages

    def sms_message(self, iccid: str, message_id: int) -> SmsMessage | None:
        """One SMS of the SIM by id."""
        messages = self.sms(iccid) or []
        return next((message for message in messages if message.id == message_id), None)

    def is_expired(self, iccid: str) -> bool:
        """Whether the SIM's quota validity ended (1NCE then refuses modifications)."""
        with self.lock:
            now = self.writes.settle()
            found = self._sim_and_ledger(iccid, now)
            return found is not None and found[1].expired

    # Orders, limits

    def orders(self, *, include_sims: bool = True) -> list[Order]:
        """Purchase orders (seeded, for SIMs added later, top-ups) by order number.

        Without `include_sims` the seeded orders carry no ICCIDs, which keeps listing the
        orders of a 100,000-SIM fleet cheap.
        """
        with self.lock:
            self.writes.settle()
            batches = math.ceil(self.initial_sims / ORDER_BATCH)
            seeded = [self._seeded_order(batch, include_sims) for batch in range(batches)]
            return seeded + list(self._orders)

    def order(self, order_number: int) -> Order | None:
        """One order by number."""
        with self.lock:
            self.writes.settle()
            batch = order_number - FIRST_ORDER_NUMBER
            batches = math.ceil(self.initial_sims / ORDER_BATCH)
            if 0 <= batch < batches:
                return self._seeded_order(batch, include_sims=True)
            return next(
                (order for order in self._orders if order.order_number == order_number), None
            )

    def limits(self) -> dict[str, int]:
        """The selected monthly limit option id per service (data, smsMO, smsMT)."""
        with self.lock:
            self.writes.settle()
            return dict(self._limits)

    # Changes, applied by `writes` (when due) and `controls` (at once) with `lock` held

    def shift_clock(self, delta: timedelta) -> None:
        """Move the simulator's time by `delta`."""
        self._offset += delta

    def activate_sims(self, count: int, at: datetime) -> list[str]:
        """Add SIMs activated at `at`, in one new order; returns their ICCIDs."""
        indices = range(self._size, self._size + count)
        self._size += count
        for index in indices:
            self._added[index] = at
        iccids = tuple(self._iccid(index) for index in indices)
        self.place_order("ADDITIONAL_ORDER", iccids, SIM_PRODUCT, at)
        return list(iccids)

    def drop_sim(self, iccid: str) -> bool:
        """Take the SIM out of the account; False if it is not in it."""
        index = self._index(iccid)
        if index is None:
            return False
        insort(self._removed, index)
        self._overlays.pop(index, None)
        return True

    def apply_update(self, iccid: str, changes: dict[str, object], at: datetime) -> None:
        """Change SIM fields (a status change also enters the ledger); unknown SIMs are skipped."""
        index = self._index(iccid)
        if index is None:
            return
        overlay = self._overlay(index)
        for name, value in changes.items():
            if name == "status" and value != self._status(self._seed(index), at):
                overlay.changes.append(Change(at, "status", value))
            overlay.fields[name] = value

    def add_change(self, iccid: str, change: Change) -> None:
        """Enter a change (reset, top-up...) in the SIM's ledger; unknown SIMs are skipped."""
        index = self._index(iccid)
        if index is not None:
            self._overlay(index).changes.append(change)

    def deliver_sms(self, iccid: str, message_id: int, body: dict[str, Any], at: datetime) -> None:
        """Submit an MT SMS at `at`: delivered unless the SIM is offline, else buffered."""
        index = self._index(iccid)
        if index is None:
            return
        state = activity.connectivity(
            self.seed, self._seed(index), self._ledger(index, at), at, self.anchor
        )
        delivered = state.v1_status != "OFFLINE"
        message = SmsMessage(
            id=message_id,
            direction="MT",
            payload=str(body["payload"]),
            submitted_at=at,
            expires_at=at + activity.SMS_VALIDITY,
            status=4 if delivered else 2,
            delivered_at=at + timedelta(seconds=3) if delivered else None,
            source_address=str(body.get("source_address") or "1NCE"),
            source_address_type=int(body.get("source_address_type") or 208),
            dcs=int(body.get("dcs") or 0),
            udh=str(body.get("udh") or ""),
        )
        overlay = self._overlay(index)
        overlay.messages.append(message)
        if delivered:
            overlay.changes.append(Change(at, "sms_mt"))

    def cancel_buffered_sms(self, iccid: str, message_id: int) -> bool:
        """Drop a buffered MT SMS; False if there is no such pending message."""
        index = self._index(iccid)
        overlay = self._overlays.get(index) if index is not None else None
        messages = overlay.messages if overlay else []
        for message in messages:
            if message.id == message_id and message.status == 2:
                messages.remove(message)
                return True
        return False

    def place_order(
        self, order_type: str, iccids: tuple[str, ...], product: int, at: datetime
    ) -> int:
        """Record a purchase order placed at `at`; returns its number."""
        batches = math.ceil(self.initial_sims / ORDER_BATCH)
        number = FIRST_ORDER_NUMBER + batches + len(self._orders)
        quantity = len(iccids)
        order = Order(number, order_type, at, iccids, product, quantity, quantity * PRICE_CENTS)
        self._orders.append(order)
        return number

    def select_limits(self, choices: dict[str, int]) -> None:
        """Select monthly limit options (option id per service)."""
        self._limits.update(choices)

    # Internals

    def _index(self, iccid: str) -> int | None:
        serial = identity.serial_of(iccid)
        if serial is None:
            return None
        index = serial - first_serial(self.seed)
        if not 0 <= index < self._size or self._is_removed(index):
            return None
        return index

    def _is_removed(self, index: int) -> bool:
        position = bisect_right(self._removed, index)
        return position > 0 and self._removed[position - 1] == index

    def _live_indices(self, skip: int = 0) -> Iterator[int]:
        """Live SIM indices in order, starting after `skip` live ones."""
        index = skip
        for removed in self._removed:
            if removed <= index:
                index += 1
        while index < self._size:
            if not self._is_removed(index):
                yield index
            index += 1

    def _iccid(self, index: int) -> str:
        return identity.iccid_for(first_serial(self.seed) + index)

    def _seed(self, index: int) -> SimSeed:
        return derive_sim(self.seed, index, self.anchor, self.initial_sims, self._added.get(index))

    def _ledger(self, index: int, now: datetime) -> Ledger:
        overlay = self._overlays.get(index)
        changes = overlay.changes if overlay else []
        return replay(self.seed, self._seed(index), changes, self.quota_epoch, now)

    def _sim_and_ledger(self, iccid: str, now: datetime) -> tuple[SimSeed, Ledger] | None:
        index = self._index(iccid)
        if index is None:
            return None
        return self._seed(index), self._ledger(index, now)

    def _field(self, index: int, name: str, seeded: object) -> Any:
        overlay = self._overlays.get(index)
        if overlay is not None and name in overlay.fields:
            return overlay.fields[name]
        return seeded

    def _status(self, sim: SimSeed, now: datetime) -> str:
        seeded = "Disabled" if sim.disabled_at is not None and sim.disabled_at <= now else "Enabled"
        return str(self._field(sim.index, "status", seeded))

    def _record(self, index: int, now: datetime) -> SimRecord:
        sim = self._seed(index)
        ledger = self._ledger(index, now)
        serial_iccid = sim.iccid
        return SimRecord(
            iccid=serial_iccid,
            iccid_with_luhn=serial_iccid + identity.luhn_digit(serial_iccid),
            imsi=sim.imsi,
            msisdn=sim.msisdn,
            imei=self._field(index, "imei", sim.imei),
            imei_lock=bool(self._field(index, "imei_lock", sim.imei_lock)),
            status=self._status(sim, now),
            label=self._field(index, "label", sim.label),
            activation_date=sim.activated_at,
            ip_address=sim.ip_address,
            data_quota=quota_of(sim, ledger, "data"),
            sms_quota=quota_of(sim, ledger, "sms"),
            profile=sim.profile.value,
        )

    def _quota(self, iccid: str, kind: str) -> Quota | None:
        with self.lock:
            now = self.writes.settle()
            found = self._sim_and_ledger(iccid, now)
            return None if found is None else quota_of(*found, kind)

    def _candidates(self, ip_address: str | None) -> list[int]:
        if ip_address is None:
            return list(self._live_indices())
        index = identity.index_of_ip(ip_address)
        if index is None or index >= self._size or self._is_removed(index):
            return []
        return [index]

    def _matches(self, index: int, filters: dict[str, str]) -> bool:
        return all(self._field_text(index, name) == value for name, value in filters.items())

    def _field_text(self, index: int, name: str) -> str:
        if name == "ip_address":
            return identity.ip_address_for(index)
        return str(self._field(index, "imei", self._seed(index).imei) or "")

    def _sort_key(self, index: int, name: str) -> tuple:
        # Addresses sort numerically; SIMs without an IMEI sort first.
        if name == "ip_address":
            return tuple(int(part) for part in identity.ip_address_for(index).split("."))
        return (self._field_text(index, name),)

    def _overlay(self, index: int) -> Overlay:
        return self._overlays.setdefault(index, Overlay())

    def _seeded_order(self, batch: int, include_sims: bool) -> Order:
        first = batch * ORDER_BATCH
        last = min(first + ORDER_BATCH, self.initial_sims)
        indices = range(first, last) if include_sims else range(0)
        iccids = tuple(self._iccid(index) for index in indices if not self._is_removed(index))
        return Order(
            order_number=FIRST_ORDER_NUMBER + batch,
            order_type="FIRST_ORDER" if batch == 0 else "ADDITIONAL_ORDER",
            order_date=order_date(batch, self.anchor, self.initial_sims),
            iccids=iccids,
            product_id=SIM_PRODUCT,
            quantity=last - first,
            amount_cents=(last - first) * PRICE_CENTS,
        )


def quota_of(sim: SimSeed, ledger: Ledger, kind: str) -> Quota:
    """The data (MB) or SMS quota of a replayed ledger."""
    state: QuotaState = getattr(ledger, kind)
    scale = megabytes if kind == "data" else Decimal
    return Quota(
        volume=scale(state.remaining),
        total_volume=scale(state.total),
        last_volume_added=scale(state.last_added),
        expiry_date=ledger.expires_at,
        last_status_change_date=state.changed_at,
        status=state.status,
        peak_throughput=PEAK_THROUGHPUT if kind == "data" else None,
        threshold_reached_date=state.threshold_at,
        quota_exceeded_date=state.exceeded_at,
        id=2 * sim.index + (1 if kind == "data" else 2),
        accumulated_total_volume=scale(state.accumulated),
        created_at=state.created_at,
        expired=ledger.expired,
    )
