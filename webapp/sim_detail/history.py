"""One SIM's change history: what Simfleet asked of 1NCE and what changed outside Simfleet.

Simfleet's own changes are `SimAction` rows; the inventory sync records in `sim_changes` every
difference it finds between 1NCE and Simfleet's copy. A difference that one of Simfleet's own
changes explains (the sync saw it before the change was confirmed) is not shown twice; any
other one was made elsewhere: in the 1NCE portal, by another tool, or by a simulator that
restarted from its seed. When such a change undoes one Simfleet recorded as applied, the page
says so instead of showing "applied" next to a value that contradicts it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Sim, SimAction, SimChange, SyncRun
from webapp.sim_detail.actions import READBACK_FIELDS, shown

# The changes of the inventory the history shows (quota buckets move with use, not by hand).
HISTORY_FIELDS = ("status", "label", "imei_lock", "imei", "added", "removed", "restored")
OUTSIDE_CHANGES = 5
# A difference the sync noticed this close to a Simfleet change asking for the same value is
# that change (the sync read 1NCE between the request and its confirmation).
OWN_CHANGE_WINDOW = timedelta(hours=1)
APPLIED_UPDATES = 20


@dataclass(frozen=True)
class FieldChange:
    """One field's value before and after (None: unknown or none)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryEntry:
    """A change of the SIM: requested through Simfleet (`action`), or noticed by the sync."""

    at: datetime
    changes: tuple[FieldChange, ...]
    action: SimAction | None = None

    @property
    def outside(self) -> bool:
        """Whether the change was made outside Simfleet."""
        return self.action is None


@dataclass(frozen=True)
class Contradiction:
    """A change recorded as applied whose value 1NCE no longer reports."""

    field: str
    wanted: Any
    now: Any
    action: SimAction
    noticed_at: datetime | None


def list_sim_history(*, sim: Sim, actions: list[SimAction]) -> list[HistoryEntry]:
    """Simfleet's recent `actions` and the recent changes made outside it, newest first."""
    entries = [HistoryEntry(a.requested_at, _action_changes(a), a) for a in actions]
    noticed = db.session.scalars(
        sa.select(SimChange)
        .where(SimChange.iccid == sim.iccid, SimChange.field.in_(HISTORY_FIELDS))
        .order_by(SimChange.changed_at.desc(), SimChange.id.desc())
        .limit(OUTSIDE_CHANGES)
    ).all()
    own = _own_values(sim.iccid, [c.changed_at for c in noticed])
    first_pass = _first_inventory_pass()
    for change in noticed:
        if change.field == "added" and (first_pass is None or change.changed_at <= first_pass):
            continue  # in the account before Simfleet first read it: not news
        after = _value(change.field, change.new_value)
        if not _is_own(change, after, own):
            found = FieldChange(change.field, _value(change.field, change.old_value), after)
            entries.append(HistoryEntry(change.changed_at, (found,)))
    return sorted(entries, key=lambda e: (e.at, e.action.id if e.action else 0), reverse=True)


def _first_inventory_pass() -> datetime | None:
    """When the first inventory pass that read the whole account ended."""
    return db.session.scalar(
        sa.select(sa.func.min(SyncRun.finished_at)).where(
            SyncRun.kind == "inventory", SyncRun.outcome == "success"
        )
    )


def find_contradictions(*, sim: Sim) -> list[Contradiction]:
    """Fields whose latest applied change 1NCE no longer shows, with when the sync saw that."""
    updates = db.session.scalars(
        sa.select(SimAction)
        .where(SimAction.iccid == sim.iccid, SimAction.action == "update")
        .order_by(SimAction.requested_at.desc(), SimAction.id.desc())
        .limit(APPLIED_UPDATES)
    ).all()
    found = []
    for field in READBACK_FIELDS:
        touching = [a for a in updates if field in a.requested]
        # A change in flight, or none yet: nothing to contradict.
        if not touching or any(a.state == "pending" for a in touching):
            continue
        applied = next((a for a in touching if a.state == "applied"), None)
        now = getattr(sim, field)
        if applied is None or now is None:
            continue
        wanted = applied.requested[field]
        if shown(field, wanted) != shown(field, now):
            noticed = _noticed_at(sim.iccid, field, applied.requested_at)
            found.append(Contradiction(field, wanted, now, applied, noticed))
    return found


def _action_changes(action: SimAction) -> tuple[FieldChange, ...]:
    if action.action != "update":
        return ()
    previous = action.previous or {}
    return tuple(FieldChange(f, previous.get(f), v) for f, v in action.requested.items())


def _value(field: str, text: str | None) -> Any:
    """A value of `sim_changes` (text) as the SIM holds it."""
    if field == "imei_lock" and text is not None:
        return text == "true"
    return text


def _own_values(iccid: str, moments: list[datetime]) -> list[tuple[datetime, str, Any]]:
    """(requested at, field, value) of the updates near the noticed changes."""
    if not moments:
        return []
    rows = db.session.scalars(
        sa.select(SimAction).where(
            SimAction.iccid == iccid,
            SimAction.action == "update",
            SimAction.requested_at >= min(moments) - OWN_CHANGE_WINDOW,
            SimAction.requested_at <= max(moments) + OWN_CHANGE_WINDOW,
        )
    )
    return [(a.requested_at, f, v) for a in rows for f, v in a.requested.items()]


def _is_own(change: SimChange, value: Any, own: list[tuple[datetime, str, Any]]) -> bool:
    return any(
        field == change.field
        and shown(field, wanted) == shown(field, value)
        and abs(at - change.changed_at) <= OWN_CHANGE_WINDOW
        for at, field, wanted in own
    )


def _noticed_at(iccid: str, field: str, since: datetime) -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(SimChange.changed_at)).where(
            SimChange.iccid == iccid, SimChange.field == field, SimChange.changed_at >= since
        )
    )
