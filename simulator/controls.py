"""Simulator controls under /_sim: faults, request stats and the account's ground truth
(unauthenticated; only here)."""

from datetime import date

from flask import Blueprint, Response, request

from simulator.common import fleet, gateway
from simulator.responses import json_response
from simulator.truth import account_truth, default_range

control = Blueprint("simulator_control", __name__, url_prefix="/_sim")


@control.get("/faults")
def get_faults() -> Response:
    """Current fault settings."""
    return json_response(gateway().faults.as_dict())


@control.post("/faults")
def set_faults() -> Response:
    """Change fault settings; `invalidate_tokens: true` forgets all issued tokens at once."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_response({"error": "expected a JSON object"}, 400)
    try:
        gateway().faults.update(body)
    except (TypeError, ValueError) as error:
        return json_response({"error": str(error)}, 400)
    if body.get("invalidate_tokens"):
        gateway().tokens.invalidate_all()
    return json_response(gateway().faults.as_dict())


@control.delete("/faults")
def clear_faults() -> Response:
    """Switch all faults off (v1 stays retired if the app was started so)."""
    gateway().clear_faults()
    return json_response(gateway().faults.as_dict())


@control.get("/stats")
def get_stats() -> Response:
    """Request counters, with `v1_requests` and `v2_requests` per API version."""
    return json_response(gateway().stats.as_dict())


@control.post("/stats/reset")
def reset_stats() -> Response:
    """Zero the request counters."""
    gateway().reset_stats()
    return json_response(gateway().stats.as_dict())


@control.get("/truth")
def get_truth() -> Response:
    """The account as it is now: SIMs, usage from `usage_from` to `usage_through`, top-ups."""
    start, end = default_range(fleet())
    try:
        start = date.fromisoformat(request.args.get("usage_from", start.isoformat()))
        end = date.fromisoformat(request.args.get("usage_through", end.isoformat()))
    except ValueError as error:
        return json_response({"error": str(error)}, 400)
    return json_response(account_truth(fleet(), usage_from=start, usage_through=end))
