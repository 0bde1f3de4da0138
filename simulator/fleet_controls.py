"""Levers on the fleet for tests and demos: time travel and changes that apply at once.

(The HTTP controls under /_sim, faults and request stats, are in simulator/controls.py.)
"""

from datetime import timedelta
from typing import TYPE_CHECKING

from simulator.ledger import Change

if TYPE_CHECKING:
    from simulator.fleet import Fleet

EDITABLE_FIELDS = frozenset({"status", "label", "imei_lock", "imei"})


class FleetControls:
    """Changes a test or demo makes to the fleet directly, with no write delay."""

    def __init__(self, fleet: "Fleet") -> None:
        self._fleet = fleet

    def advance_clock(self, seconds: float) -> None:
        """Move the simulator's time forward (due writes then take effect)."""
        with self._fleet.lock:
            self._fleet.shift_clock(timedelta(seconds=seconds))

    def add_sims(self, count: int) -> list[str]:
        """Add SIMs activated now (a new order); returns their ICCIDs."""
        with self._fleet.lock:
            return self._fleet.activate_sims(count, self._fleet.writes.settle())

    def remove_sim(self, iccid: str) -> None:
        """Take a SIM out of the account (e.g. transferred to another organisation)."""
        with self._fleet.lock:
            if not self._fleet.drop_sim(iccid):
                raise KeyError(iccid)

    def update_sim(self, iccid: str, **changes: object) -> None:
        """Change status, label (None removes it), imei_lock or imei at once."""
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise TypeError(f"not editable: {sorted(unknown)}")
        with self._fleet.lock:
            now = self._fleet.writes.settle()
            if not self._fleet.has_sim(iccid):
                raise KeyError(iccid)
            self._fleet.apply_update(iccid, changes, now)

    def top_up(self, iccid: str) -> None:
        """Top the SIM's quotas up at once."""
        with self._fleet.lock:
            now = self._fleet.writes.settle()
            if not self._fleet.has_sim(iccid):
                raise KeyError(iccid)
            self._fleet.add_change(iccid, Change(now, "topup"))
