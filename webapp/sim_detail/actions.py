"""Changes to one SIM, shared by the SIM page, the JSON API and the worker.

An action is validated, sent to 1NCE through the client, recorded as a `SimAction` and
audited in one place. 1NCE applies status, label and IMEI-lock changes asynchronously, so
those stay pending until a job re-reads the SIM and sees them; a reset, top-up or SMS is
settled by what 1NCE answers to the request itself.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from webapp.audit import record_audit
from webapp.extensions import db, get_client
from webapp.models import Sim, SimAction, User
from webapp.models.base import utcnow
from webapp.one_nce import OneNceClient, OneNceError, SimRecord
from webapp.one_nce.client import PAYMENT_METHODS, SIM_STATUSES
from webapp.tasks import enqueue

MAX_LABEL = 255
MAX_SMS_PAYLOAD = 1600
MAX_REASON = 500
# Seconds to wait before each re-read of the SIM: 1NCE usually applies a change within
# seconds, and about half a minute without it is worth telling the user.
SETTLE_DELAYS = (2.0, 4.0, 8.0, 16.0)
SETTLE_JOB = "worker.jobs.settle_sim_action"
RECENT_ACTIONS = 5
# Fields whose change 1NCE shows on the SIM itself, so a re-read can confirm it.
READBACK_FIELDS = ("status", "label", "imei_lock")


class ActionInvalid(ValueError):
    """A value of an action is invalid; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field} {message}")


class ActionFailed(Exception):
    """1NCE refused or could not take the change; the failed `SimAction` is recorded."""

    def __init__(self, action: SimAction, error: OneNceError) -> None:
        self.action = action
        self.error = error
        super().__init__(str(error))


def _choice(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _label(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_LABEL or "\x00" in value:
        return f"must be a string of at most {MAX_LABEL} characters"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _payload(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_SMS_PAYLOAD or "\x00" in value:
        return f"must be a string of 1 to {MAX_SMS_PAYLOAD} characters"
    return None


def _update(client: OneNceClient, iccid: str, values: dict) -> dict:
    client.update_sim(iccid, **values)
    return {}


def _reset(client: OneNceClient, iccid: str, values: dict) -> dict:
    client.reset_connectivity(iccid)
    return {}


def _topup(client: OneNceClient, iccid: str, values: dict) -> dict:
    return {"order_number": client.top_up(iccid, **values)}


def _sms(client: OneNceClient, iccid: str, values: dict) -> dict:
    return {"sms_id": client.send_sms(iccid, payload=values["payload"])}


@dataclass(frozen=True)
class ActionSpec:
    """An action: its fields (name: check), which are required, and the 1NCE call."""

    name: str
    fields: dict[str, Callable[[Any], str | None]]
    required: tuple[str, ...]
    send: Callable[[OneNceClient, str, dict], dict]
    needs_one_field: bool = False
    # True when 1NCE applies it later and only a re-read of the SIM can confirm it.
    settled_by_readback: bool = False


ACTIONS = {
    "update": ActionSpec(
        "update",
        {"status": _choice(*SIM_STATUSES), "label": _label, "imei_lock": _boolean},
        (),
        _update,
        needs_one_field=True,
        settled_by_readback=True,
    ),
    "reset": ActionSpec("reset", {}, (), _reset),
    "topup": ActionSpec("topup", {"payment_method": _choice(*PAYMENT_METHODS)}, (), _topup),
    "sms": ActionSpec("sms", {"payload": _payload}, ("payload",), _sms),
}


def validate_action(spec: ActionSpec, values: Mapping[str, Any]) -> dict:
    """The values of `spec`, or ActionInvalid naming the first bad field."""
    for field in values:
        if field not in spec.fields:
            raise ActionInvalid(field, "is not a field of this request")
    for field in spec.required:
        if field not in values:
            raise ActionInvalid(field, "is required")
    if spec.needs_one_field and not values:
        raise ActionInvalid("body", f"give at least one of {', '.join(spec.fields)}")
    for field, value in values.items():
        message = spec.fields[field](value)
        if message:
            raise ActionInvalid(field, message)
    return dict(values)


def validate_reason(reason: str | None, *, required: bool = False) -> str | None:
    """A reason given with an action (trimmed; None when empty), or ActionInvalid."""
    reason = (reason or "").strip()
    if required and not reason:
        raise ActionInvalid("reason", "is required")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise ActionInvalid("reason", f"must be at most {MAX_REASON} characters")
    return reason or None


def perform_action(
    *,
    sim: Sim,
    spec: ActionSpec,
    values: Mapping[str, Any],
    actor_label: str,
    audit_action: str,
    actor: User | None = None,
    reason: str | None = None,
    audit_details: dict | None = None,
) -> tuple[SimAction, dict]:
    """Send the change to 1NCE, record and audit it; the action row and 1NCE's answer.

    Raises ActionInvalid before anything is sent, and ActionFailed (after recording the
    failure) when 1NCE does not take the change.
    """
    values = validate_action(spec, values)
    requested = audited_values(values)
    action = SimAction(
        iccid=sim.iccid, action=spec.name, requested=requested, reason=reason, actor=actor_label
    )
    details = dict(audit_details or {}) | {"request": requested}
    if spec.name == "update":
        details["changes"] = sim_changes(sim, values)
        action.previous = {field: getattr(sim, field) for field in values}
    if reason:
        details["reason"] = reason
    try:
        result = spec.send(get_client(), sim.iccid, values)
    except OneNceError as exc:
        _settle(action, "failed", {"error": str(exc)})
        _record(action, audit_action, actor, details | {"outcome": "failed", "error": str(exc)})
        raise ActionFailed(action, exc) from exc
    if not spec.settled_by_readback:
        _settle(action, "applied", result)
    _record(action, audit_action, actor, details | {"outcome": "accepted"} | result)
    if action.state == "pending":
        enqueue(SETTLE_JOB, action.id)
    return action, result


def sim_changes(sim: Sim, values: Mapping[str, Any]) -> dict:
    """Each changed field's value before (as Simfleet last saw it) and after, for the audit."""
    return {field: {"before": getattr(sim, field), "after": new} for field, new in values.items()}


def audited_values(values: Mapping[str, Any]) -> dict:
    """What is kept of the values: an SMS keeps its length, not what it said."""
    if "payload" in values:
        return {"payload_length": len(values["payload"])}
    return dict(values)


def settle_action(
    *, action_id: int, client: OneNceClient, delays: tuple[float, ...] = SETTLE_DELAYS
) -> SimAction | None:
    """Re-read the SIM from 1NCE until it shows the pending change; applied or not confirmed."""
    action = db.session.get(SimAction, action_id)
    if action is None or action.state != "pending":
        return action
    iccid = action.iccid
    wanted = {k: v for k, v in action.requested.items() if k in READBACK_FIELDS}
    # No transaction stays open while waiting for 1NCE.
    db.session.rollback()
    attempts, seen, error = 0, {}, None
    for delay in delays:
        time.sleep(delay)
        attempts += 1
        try:
            remote = client.get_sim(iccid)
        except OneNceError as exc:
            error = str(exc)
            continue
        seen = {field: shown(field, getattr(remote, field)) for field in wanted}
        if all(seen[field] == shown(field, value) for field, value in wanted.items()):
            return _confirm(action_id, attempts, remote)
    action = db.session.get_one(SimAction, action_id)
    action.attempts = attempts
    outcome = {"error": "not confirmed", "seen": seen} if seen else {"error": "not confirmed"}
    if error and not seen:
        outcome["detail"] = error
    _settle(action, "failed", outcome)
    db.session.commit()
    return action


def list_recent_actions(*, iccid: str, limit: int = RECENT_ACTIONS) -> list[SimAction]:
    """The SIM's latest actions, newest first (pending ones always among them)."""
    pending = sa.select(SimAction).where(SimAction.iccid == iccid, SimAction.state == "pending")
    latest = (
        sa.select(SimAction)
        .where(SimAction.iccid == iccid)
        .order_by(SimAction.requested_at.desc(), SimAction.id.desc())
        .limit(limit)
    )
    rows = {a.id: a for a in db.session.scalars(latest)}
    rows.update({a.id: a for a in db.session.scalars(pending.limit(limit))})
    return sorted(rows.values(), key=lambda a: (a.requested_at, a.id), reverse=True)


def list_settled_actions(*, iccid: str, ids: list[int]) -> list[SimAction]:
    """The SIM's actions among `ids` that are no longer pending, oldest first."""
    if not ids:
        return []
    settled = sa.select(SimAction).where(
        SimAction.id.in_(ids), SimAction.iccid == iccid, SimAction.state != "pending"
    )
    return list(db.session.scalars(settled.order_by(SimAction.id)))


def shown(field: str, value: Any) -> Any:
    """A value as 1NCE shows it: an empty label left out, "Activated" meaning enabled."""
    if field == "label":
        return value or ""
    if field == "status" and value == "Activated":
        return "Enabled"
    return value


def _confirm(action_id: int, attempts: int, remote: SimRecord) -> SimAction:
    action = db.session.get_one(SimAction, action_id)
    action.attempts = attempts
    _settle(action, "applied", {})
    # The page shows the change at once instead of waiting for the next inventory sync.
    sim = db.session.get(Sim, action.iccid)
    if sim is not None:
        sim.status, sim.label, sim.imei_lock = remote.status, remote.label, remote.imei_lock
    db.session.commit()
    return action


def _settle(action: SimAction, state: str, outcome: dict) -> None:
    action.state = state
    action.outcome = outcome
    action.settled_at = utcnow()


def _record(action: SimAction, audit_action: str, actor: User | None, details: dict) -> None:
    db.session.add(action)
    db.session.flush()
    record_audit(
        audit_action,
        actor=actor,
        actor_label=action.actor,
        target=action.iccid,
        details=details | {"action_id": action.id},
    )
    db.session.commit()
