"""The API's writes as 1NCE takes them: answered at once, in effect after the write delay."""

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from simulator.ledger import Change

if TYPE_CHECKING:
    from simulator.fleet import Fleet

FIRST_MT_SMS_ID = 10**12
TOPUP_PRODUCT = 2001


class Writes:
    """The writes made through the API and the queue that holds them until they are due."""

    def __init__(self, fleet: "Fleet", delay: float) -> None:
        self.delay = timedelta(seconds=delay)
        self._fleet = fleet
        self._pending: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._sequence = itertools.count()
        self._next_sms_id = itertools.count(FIRST_MT_SMS_ID)

    def continue_sms_ids_after(self, last: int) -> None:
        """Number the next MT SMS after `last` (a restored state's newest message)."""
        self._next_sms_id = itertools.count(max(last + 1, FIRST_MT_SMS_ID))

    def request_update(self, iccid: str, changes: dict[str, object]) -> None:
        """Queue a SIM update (status, label, imei_lock) like PUT /v1/sims/{iccid}."""
        self._later(lambda at: self._fleet.apply_update(iccid, changes, at))

    def request_reset(self, iccid: str) -> None:
        """Queue a connectivity reset."""
        self._later(lambda at: self._fleet.add_change(iccid, Change(at, "reset")))

    def request_sms(self, iccid: str, message: dict[str, object]) -> int:
        """Queue an MT SMS; returns its id (known at once, as in the Location header)."""
        message_id = next(self._next_sms_id)
        self._later(lambda at: self._fleet.deliver_sms(iccid, message_id, message, at))
        return message_id

    def request_topup(self, iccids: list[str]) -> int:
        """Place a top-up order for the SIMs; quotas grow after the write delay."""
        fleet = self._fleet
        with fleet.lock:
            now = self.settle()
            order_type = "TOPUP" if len(iccids) == 1 else "BULK_TOPUP"
            number = fleet.place_order(order_type, tuple(iccids), TOPUP_PRODUCT, now)
            for iccid in iccids:
                # mypy cannot type a lambda whose default argument binds the loop variable.
                self._later(lambda at, iccid=iccid: fleet.add_change(iccid, Change(at, "topup")))  # type: ignore[misc]
            return number

    def request_limits(self, choices: dict[str, int]) -> None:
        """Queue a change of the monthly limits."""
        self._later(lambda at: self._fleet.select_limits(choices))

    def cancel_sms(self, iccid: str, message_id: int) -> bool:
        """Cancel a buffered MT SMS at once; False if there is no such pending message."""
        with self._fleet.lock:
            self.settle()
            return self._fleet.cancel_buffered_sms(iccid, message_id)

    def pending(self) -> int:
        """Writes accepted but not yet in effect."""
        with self._fleet.lock:
            self.settle()
            return len(self._pending)

    def flush(self) -> None:
        """Let every accepted write take effect now."""
        with self._fleet.lock:
            now = self._fleet.now()
            while self._pending:
                _, _, apply = heapq.heappop(self._pending)
                apply(now)

    def settle(self) -> datetime:
        """Apply the writes that are due; returns the current time."""
        with self._fleet.lock:
            now = self._fleet.now()
            while self._pending and self._pending[0][0] <= now:
                due, _, apply = heapq.heappop(self._pending)
                apply(due)
            return now

    def _later(self, apply: Callable[[datetime], None]) -> None:
        with self._fleet.lock:
            due = self.settle() + self.delay
            heapq.heappush(self._pending, (due, next(self._sequence), apply))
