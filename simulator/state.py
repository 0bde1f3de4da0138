"""The simulated account's changes on disk, so a restarted simulator keeps them.

The fleet itself derives from its seed; what a state file holds is what happened to it since:
SIM fields changed through the API (status, label, IMEI lock), the timeline points (status
flips, resets, top-ups, sent SMS), MT messages, orders, added and removed SIMs, the monthly
limits and the clock's advance. `python -m simulator serve --state-file PATH` loads the file
at start and writes it (atomically: a temporary file renamed over it) whenever the state
changed, and once more on the way out with every accepted write applied. The demo keeps its
file next to its database, so a change made in the demo survives `make demo` restarts as it
would at 1NCE.
"""

import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.ledger import Change
from simulator.records import Order, SmsMessage

if TYPE_CHECKING:
    from simulator.fleet import Fleet, Overlay

log = logging.getLogger("simulator.state")
FORMAT = 1
SAVE_EVERY = 1.0


def snapshot(fleet: "Fleet") -> dict[str, Any]:
    """What happened to the fleet since it was derived from its seed, as JSON values."""
    with fleet.lock:
        fleet.writes.settle()
        return {
            "format": FORMAT,
            "seed": fleet.seed,
            "sims": fleet.initial_sims,
            "size": fleet._size,
            "clock_offset_seconds": fleet._offset.total_seconds(),
            "removed": list(fleet._removed),
            "added": {str(index): at.isoformat() for index, at in fleet._added.items()},
            "overlays": {str(index): _overlay(o) for index, o in fleet._overlays.items()},
            "orders": [_jsonable(asdict(order)) for order in fleet._orders],
            "limits": dict(fleet._limits),
        }


def restore(fleet: "Fleet", state: dict[str, Any]) -> None:
    """Apply a snapshot to a fleet derived from the same seed and size; ValueError if not."""
    if state.get("format") != FORMAT:
        raise ValueError(f"unknown state format {state.get('format')!r}")
    if (state["seed"], state["sims"]) != (fleet.seed, fleet.initial_sims):
        raise ValueError(
            f"the state is of a fleet of {state['sims']} SIMs with seed {state['seed']}, "
            f"not {fleet.initial_sims} with seed {fleet.seed}"
        )
    from simulator.fleet import Overlay

    with fleet.lock:
        fleet._size = int(state["size"])
        fleet._offset = timedelta(seconds=float(state["clock_offset_seconds"]))
        fleet._removed = sorted(int(index) for index in state["removed"])
        fleet._added = {int(i): datetime.fromisoformat(at) for i, at in state["added"].items()}
        fleet._overlays = {
            int(index): Overlay(
                fields=dict(data["fields"]),
                changes=[Change(datetime.fromisoformat(c[0]), c[1], c[2]) for c in data["changes"]],
                messages=[_message(m) for m in data["messages"]],
            )
            for index, data in state["overlays"].items()
        }
        fleet._orders = [_order(order) for order in state["orders"]]
        fleet._limits = {key: int(value) for key, value in state["limits"].items()}
        ids = [m.id for o in fleet._overlays.values() for m in o.messages if m.direction == "MT"]
        if ids:
            fleet.writes.continue_sms_ids_after(max(ids))


def load(fleet: "Fleet", path: Path) -> bool:
    """Restore the fleet from `path` if it holds a state of this fleet; whether it did."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        log.warning("simulator state %s not read, starting from the seed: %s", path, exc)
        return False
    try:
        restore(fleet, state)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("simulator state %s not used, starting from the seed: %s", path, exc)
        return False
    return True


def save(fleet: "Fleet", path: Path, *, previous: str | None = None) -> str:
    """Write the fleet's state to `path` atomically unless it equals `previous`; its text."""
    text = json.dumps(snapshot(fleet), sort_keys=True)
    if text == previous:
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return text


class StateKeeper:
    """Writes the fleet's state to a file whenever it changed, from a daemon thread."""

    def __init__(self, fleet: "Fleet", path: Path, every: float = SAVE_EVERY) -> None:
        self.fleet = fleet
        self.path = path
        self.every = every
        self._written: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="simulator-state", daemon=True)

    def start(self) -> "StateKeeper":
        """Load the state file if there is one, then start saving."""
        if load(self.fleet, self.path):
            log.info("simulator state restored from %s", self.path)
        self._written = save(self.fleet, self.path)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop saving; the last save applies every write 1NCE accepted first."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.fleet.writes.flush()
        self._written = save(self.fleet, self.path, previous=self._written)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self._written = save(self.fleet, self.path, previous=self._written)
            except OSError as exc:
                log.warning("simulator state not written to %s: %s", self.path, exc)


def _overlay(overlay: "Overlay") -> dict[str, Any]:
    return {
        "fields": dict(overlay.fields),
        "changes": [[c.at.isoformat(), c.kind, c.value] for c in overlay.changes],
        "messages": [_jsonable(asdict(message)) for message in overlay.messages],
    }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
    }


def _message(data: dict[str, Any]) -> SmsMessage:
    moments = ("submitted_at", "expires_at", "delivered_at")
    values: dict[str, Any] = {
        k: datetime.fromisoformat(v) if k in moments and v else v for k, v in data.items()
    }
    return SmsMessage(**values)


def _order(data: dict[str, Any]) -> Order:
    values = dict(data, order_date=datetime.fromisoformat(data["order_date"]))
    return Order(**values | {"iccids": tuple(data["iccids"])})
