"""The v2 Management API routes (Platform 2.0), on the same fleet as v1.

Every ICCID-scoped read or write of an unknown SIM answers 404 with the v2 error body
(`{"error_code": 1000, "error_token": "NotFound", "message": "Element not found"}`); writes
to an expired SIM answer 409 Conflict. v1-only operations (bulk update, limits, extension)
have no route here, so they are not found either.
"""

from flask import Blueprint, Response, request

from simulator import wire, wire_v2
from simulator.common import (
    API_PREFIX,
    ApiError,
    bool_param,
    fleet,
    gateway,
    known_sim_for_write,
    listed_sims,
    order_location,
    page_of,
    paging,
    payment_method_error,
    sim_changes,
    sms_request,
    usage_days,
)
from simulator.records import SimRecord
from simulator.responses import empty, json_response

api = Blueprint("management_api_v2", __name__, url_prefix=f"{API_PREFIX}/v2")


def not_found() -> ApiError:
    """The v2 NotFound error."""
    return ApiError(404, "Element not found")


def known_sim(iccid: str) -> SimRecord:
    """The SIM, or NotFound."""
    record = fleet().sim(iccid)
    if record is None:
        raise not_found()
    return record


def render_sim(record: SimRecord) -> dict:
    """A SimsSim, with the label the `diverged_iccids` fault makes v2 report differently."""
    return wire_v2.sim(record, diverged=record.iccid in gateway().faults.diverged_iccids)


@api.get("/sims")
def list_sims() -> Response:
    """SIMs, paged (`pageSize` 1 to 100, default 10) with the four X-* headers; `q`, `sort`."""
    return listed_sims(render_sim)


@api.get("/sims/<iccid>")
def get_sim(iccid: str) -> Response:
    """One SimsSim."""
    return json_response(render_sim(known_sim(iccid)))


@api.put("/sims/<iccid>")
def update_sim(iccid: str) -> Response:
    """Queue a SIM update; no field (nor the body) is required: 200, empty body."""
    body = request.get_json(silent=True) if request.get_data() else {}
    if body is None:
        raise ApiError(400, "Malformed JSON request body")
    changes = sim_changes(body)
    if body.get("iccid", iccid) != iccid:
        raise ApiError(400, "iccid in the body does not match the path")
    known_sim_for_write(iccid)
    fleet().writes.request_update(iccid, changes)
    return empty(200)


@api.get("/sims/<iccid>/status")
def sim_status(iccid: str) -> Response:
    """SimsConnectivityDetail: ONLINE, ATTACHED, OFFLINE or BLOCKED, traffic limit state."""
    record, state = known_sim(iccid), fleet().connectivity(iccid)
    assert state is not None, "a known SIM has a state"
    return json_response(wire_v2.status(record, state))


@api.get("/sims/<iccid>/connectivity_info")
def connectivity_info(iccid: str) -> Response:
    """Network-side subscriber query, as on v1."""
    known_sim(iccid)
    state = fleet().connectivity(iccid)
    assert state is not None, "a known SIM has a state"
    body = wire.connectivity_info(
        state,
        fleet().now(),
        bool_param("subscriber", True),
        bool_param("ussd", False),
    )
    return json_response(body)


@api.post("/sims/<iccid>/reset")
def reset(iccid: str) -> Response:
    """Queue a connectivity reset: 201, empty body."""
    known_sim_for_write(iccid)
    fleet().writes.request_reset(iccid)
    return empty(201)


@api.get("/sims/<iccid>/usage")
def usage(iccid: str) -> Response:
    """Daily usage with v1's `start_dt`/`end_dt`, answered in v1's `{"stats": [...]}` envelope.

    ASSUMPTION: 1NCE documents a v2 "daily usage for a single SIM" operation but has not
    published its path, parameters or body; this mirrors v1 until they do. The
    `v2_usage_shape` fault answers other shapes to test clients against a change.
    """
    known_sim(iccid)
    faults = gateway().faults
    if iccid in faults.garbled_iccids:
        return json_response({"stats": "garbled"})
    days = usage_days(iccid)
    assert days is not None, "a known SIM has usage"
    return json_response(wire_v2.usage(days, faults.v2_usage_shape))


@api.get("/sims/<iccid>/quota/data")
def data_quota(iccid: str) -> Response:
    """The data SimsQuota (MB)."""
    known_sim(iccid)
    quota = fleet().data_quota(iccid)
    assert quota is not None, "a known SIM has quotas"
    return json_response(wire_v2.quota(quota, "data"))


@api.get("/sims/<iccid>/quota/sms")
def sms_quota(iccid: str) -> Response:
    """The SMS SimsQuota (messages)."""
    known_sim(iccid)
    quota = fleet().sms_quota(iccid)
    assert quota is not None, "a known SIM has quotas"
    return json_response(wire_v2.quota(quota, "sms"))


@api.get("/sims/<iccid>/events")
def events(iccid: str) -> Response:
    """A plain array of Events, newest first; `pageSize` 1 to 1000; no sort, no paging headers."""
    page, page_size = paging(1000)
    record, found = known_sim(iccid), fleet().events(iccid)
    assert found is not None, "a known SIM has events"
    items = page_of(found, page, page_size)
    return json_response([wire_v2.event(record, item) for item in items])


@api.get("/sims/<iccid>/sms")
def list_sms(iccid: str) -> Response:
    """A plain array of SimsSms, newest first; `per_page` (not `pageSize`) 1 to 1000, default 20."""
    page, per_page = paging(1000, 20, "per_page")
    record, found = known_sim(iccid), fleet().sms(iccid)
    assert found is not None, "a known SIM has messages"
    messages = page_of(found, page, per_page)
    return json_response([wire_v2.sms(record, message) for message in messages])


@api.post("/sims/<iccid>/sms")
def send_sms(iccid: str) -> Response:
    """Queue an MT SMS: 201 with its id as a string."""
    return json_response({"id": str(sms_request(iccid))}, 201)


@api.get("/sims/<iccid>/sms/<int:message_id>")
def get_sms(iccid: str, message_id: int) -> Response:
    """One SimsSms."""
    record = known_sim(iccid)
    message = fleet().sms_message(iccid, message_id)
    if message is None:
        raise not_found()
    return json_response(wire_v2.sms(record, message))


@api.delete("/sims/<iccid>/sms/<int:message_id>")
def cancel_sms(iccid: str, message_id: int) -> Response:
    """Cancel a buffered MT SMS: 200 with its id as a string."""
    if not fleet().writes.cancel_sms(iccid, message_id):
        raise not_found()
    return json_response({"id": str(message_id)})


@api.post("/sims/<iccid>/topup")
def topup(iccid: str) -> Response:
    """Top up with the standard package: 201 with the order's v2 Location, empty body.

    The only v2 operation that keeps v1-style errors: 404 with an empty body, 400 message.
    """
    if fleet().sim(iccid) is None:
        return empty(404)
    error = payment_method_error()
    if error is not None:
        return error
    return empty(201, headers=order_location("v2", fleet().writes.request_topup([iccid])))
