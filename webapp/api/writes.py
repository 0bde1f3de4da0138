"""Write routes: validate the body, send the change to 1NCE, audit it, describe what is pending.

1NCE applies writes asynchronously, so the API calls the client in the request and answers
202 with the change it asked for; the next sync shows the result.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.api.auth import ApiCaller
from webapp.api.problems import ApiProblem, from_once_error
from webapp.api.representation import moment
from webapp.audit import record_audit
from webapp.extensions import db
from webapp.models import Sim
from webapp.models.base import utcnow
from webapp.onece import OnceClient, OnceError, get_client
from webapp.onece.client import PAYMENT_METHODS, SIM_STATUSES

MAX_LABEL = 255
MAX_SMS_PAYLOAD = 1600


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


@dataclass(frozen=True)
class WriteAction:
    """A write route: its fields (name: check), which are required, and the 1NCE call."""

    name: str
    fields: dict[str, Callable[[Any], str | None]]
    required: tuple[str, ...]
    send: Callable[[OnceClient, str, dict], dict]
    needs_one_field: bool = False


def _update(client: OnceClient, iccid: str, values: dict) -> dict:
    client.update_sim(iccid, **values)
    return {}


def _reset(client: OnceClient, iccid: str, values: dict) -> dict:
    client.reset_connectivity(iccid)
    return {}


def _topup(client: OnceClient, iccid: str, values: dict) -> dict:
    return {"order_number": client.top_up(iccid, **values)}


def _sms(client: OnceClient, iccid: str, values: dict) -> dict:
    return {"sms_id": client.send_sms(iccid, payload=values["payload"])}


WRITE_ACTIONS = {
    "update": WriteAction(
        "update",
        {"status": _choice(*SIM_STATUSES), "label": _label, "imei_lock": _boolean},
        (),
        _update,
        needs_one_field=True,
    ),
    "reset": WriteAction("reset", {}, (), _reset),
    "topup": WriteAction("topup", {"payment_method": _choice(*PAYMENT_METHODS)}, (), _topup),
    "sms": WriteAction("sms", {"payload": _payload}, ("payload",), _sms),
}


def validate_write(action: WriteAction, body: dict) -> dict:
    """The body's values for `action`, or a 422 problem naming the first bad field."""
    for field in body:
        if field not in action.fields:
            raise _invalid(field, "is not a field of this request")
    for field in action.required:
        if field not in body:
            raise _invalid(field, "is required")
    if action.needs_one_field and not body:
        raise _invalid("body", f"give at least one of {', '.join(action.fields)}")
    for field, value in body.items():
        message = action.fields[field](value)
        if message:
            raise _invalid(field, message)
    return body


def perform_write(*, sim: Sim, action: WriteAction, body: dict, caller: ApiCaller) -> dict:
    """Send the change to 1NCE and audit it; the description of the pending change."""
    values = validate_write(action, body)
    requested_at = utcnow()
    audited = {"key_prefix": caller.prefix, "request": _audited_values(values)}
    try:
        result = action.send(get_client(), sim.iccid, values)
    except OnceError as exc:
        _audit(action, sim, caller, audited | {"outcome": "failed", "error": str(exc)})
        raise from_once_error(exc) from exc
    _audit(action, sim, caller, audited | {"outcome": "accepted"} | result)
    return {
        "iccid": sim.iccid,
        "action": action.name,
        "state": "pending",
        "pending": values,
        "requested_at": moment(requested_at),
        "requested_by": caller.label,
    } | result


def _audited_values(values: dict) -> dict:
    # The audit log keeps that an SMS was sent and how long it was, not what it said.
    if "payload" in values:
        return {"payload_length": len(values["payload"])}
    return values


def _audit(action: WriteAction, sim: Sim, caller: ApiCaller, details: dict) -> None:
    record_audit(
        f"api.sim.{action.name}", actor_label=caller.label, target=sim.iccid, details=details
    )
    db.session.commit()


def _invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(
        422, f"{field} {message}", field=field, errors=[{"field": field, "message": message}]
    )
