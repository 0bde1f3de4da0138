"""Write routes: the JSON API's adapter to the SIM action service (webapp.sim_detail.actions).

1NCE applies writes asynchronously, so the API calls the client in the request and answers
202 with the change it asked for; a job confirms it later (the detail page shows the state).
"""

from webapp.api.auth import ApiCaller
from webapp.api.problems import ApiProblem, from_once_error
from webapp.api.representation import moment
from webapp.models import Sim
from webapp.sim_detail.actions import (
    ACTIONS,
    ActionFailed,
    ActionInvalid,
    ActionSpec,
    perform_action,
)

WRITE_ACTIONS = ACTIONS


def perform_write(*, sim: Sim, action: ActionSpec, body: dict, caller: ApiCaller) -> dict:
    """Send the change to 1NCE and audit it; the description of the pending change."""
    try:
        row, result = perform_action(
            sim=sim,
            spec=action,
            values=body,
            actor_label=caller.label,
            audit_action=f"api.sim.{action.name}",
            audit_details={"key_prefix": caller.prefix},
        )
    except ActionInvalid as exc:
        raise ApiProblem(
            422,
            f"{exc.field} {exc.message}",
            field=exc.field,
            errors=[{"field": exc.field, "message": exc.message}],
        ) from exc
    except ActionFailed as exc:
        raise from_once_error(exc.error) from exc
    return {
        "iccid": sim.iccid,
        "action": action.name,
        "state": "pending",
        "pending": dict(body),
        "requested_at": moment(row.requested_at),
        "requested_by": caller.label,
    } | result
