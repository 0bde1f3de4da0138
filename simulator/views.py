"""The v1 Management API routes (the token endpoint both versions share is in oauth.py)."""

from operator import attrgetter

from flask import Blueprint, Response, request

from simulator import wire
from simulator.catalog import LIMIT_OPTIONS, PRODUCTS
from simulator.common import (
    API_PREFIX,
    ApiError,
    ExpiredSim,
    bool_param,
    fleet,
    gateway,
    json_body,
    known_sim_for_write,
    listed_sims,
    order_location,
    page_of,
    paging,
    payment_method_error,
    settings,
    sim_changes,
    sms_request,
    usage_days,
)
from simulator.responses import (
    empty,
    gateway_message,
    json_response,
    paging_headers,
    spring_error,
)

api = Blueprint("management_api", __name__, url_prefix=API_PREFIX)


def unknown_sim() -> Response:
    """Reading an unknown ICCID: 200 with an empty body as recorded, or 404 if configured."""
    if settings().unknown_iccid == "404":
        return spring_error(404, "SIM not found")
    return empty(200)


# SIMs


@api.get("/v1/sims")
def list_sims() -> Response:
    """SIMs, paged, with the four X-* paging headers; `q` and `sort` on imei/ip_address."""
    return listed_sims(wire.sim)


@api.post("/v1/sims")
def bulk_update() -> Response:
    """Queue updates for many SIMs: 201, empty body."""
    body = json_body()
    if not isinstance(body, list):
        raise ApiError(400, "JSON parse error: expected an array")
    updates = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("iccid"), str):
            raise ApiError(400, "Every item needs an iccid")
        if fleet().is_expired(item["iccid"]):
            raise ExpiredSim()
        updates.append((item["iccid"], sim_changes(item)))
    for iccid, changes in updates:
        fleet().writes.request_update(iccid, changes)
    return empty(201)


@api.get("/v1/sims/<iccid>")
def get_sim(iccid: str) -> Response:
    """One SIM."""
    record = fleet().sim(iccid)
    return unknown_sim() if record is None else json_response(wire.sim(record))


@api.put("/v1/sims/<iccid>")
def update_sim(iccid: str) -> Response:
    """Queue a SIM update (partial bodies and `{}` are accepted): 200, empty body."""
    changes = sim_changes(json_body())
    known_sim_for_write(iccid)
    fleet().writes.request_update(iccid, changes)
    return empty(200)


@api.get("/v1/sims/<iccid>/status")
def sim_status(iccid: str) -> Response:
    """Connectivity: ONLINE, ATTACHED or OFFLINE (v1 has no BLOCKED), with the last location."""
    record, state = fleet().sim(iccid), fleet().connectivity(iccid)
    if record is None or state is None:
        return unknown_sim()
    return json_response(wire.status(record, state, fleet().now()))


@api.get("/v1/sims/<iccid>/connectivity_info")
def connectivity_info(iccid: str) -> Response:
    """Network-side subscriber query."""
    state = fleet().connectivity(iccid)
    if state is None:
        return unknown_sim()
    body = wire.connectivity_info(
        state, fleet().now(), bool_param("subscriber", True), bool_param("ussd", False)
    )
    return json_response(body)


@api.post("/v1/sims/<iccid>/reset")
def reset(iccid: str) -> Response:
    """Queue a connectivity reset: 201, empty body."""
    known_sim_for_write(iccid)
    fleet().writes.request_reset(iccid)
    return empty(201)


@api.get("/v1/sims/<iccid>/usage")
def usage(iccid: str) -> Response:
    """Daily usage, newest first, plus TOTAL; 14 days by default, at most 6 months back."""
    days = usage_days(iccid)
    if iccid in gateway().faults.garbled_iccids:
        return json_response({"stats": "garbled"})
    return unknown_sim() if days is None else json_response(wire.usage(days))


@api.get("/v1/sims/<iccid>/quota/data")
def data_quota(iccid: str) -> Response:
    """Data quota in MB."""
    value = fleet().data_quota(iccid)
    return unknown_sim() if value is None else json_response(wire.quota(value))


@api.get("/v1/sims/<iccid>/quota/sms")
def sms_quota(iccid: str) -> Response:
    """SMS quota in messages."""
    value = fleet().sms_quota(iccid)
    return unknown_sim() if value is None else json_response(wire.quota(value))


@api.get("/v1/sims/<iccid>/events")
def events(iccid: str) -> Response:
    """Events of the last 7 days, newest first (`sort=timestamp` for oldest first), paged."""
    page, page_size = paging(1000)
    record, items = fleet().sim(iccid), fleet().events(iccid)
    if record is None or items is None:
        return unknown_sim()
    if request.args.get("sort", "-timestamp").split(",")[0] == "timestamp":
        items.reverse()
    headers = paging_headers(page, page_size, len(items))
    body = {
        "events": [wire.event(record, item) for item in page_of(items, page, page_size)],
        "totalEvents": len(items),
        "totalPages": int(headers["X-Total-Pages"]),
    }
    return json_response(body, headers=headers)


@api.get("/v1/sims/<iccid>/sms")
def list_sms(iccid: str) -> Response:
    """SMS of the last 7 days (MO and MT), newest first, paged."""
    page, page_size = paging(100)
    record, messages = fleet().sim(iccid), fleet().sms(iccid)
    if record is None or messages is None:
        return unknown_sim()
    if request.args.get("sort", "").split(",")[0] == "submit_date":
        messages.reverse()
    body = [wire.sms(record, message) for message in page_of(messages, page, page_size)]
    return json_response(body, headers=paging_headers(page, page_size, len(messages)))


@api.post("/v1/sims/<iccid>/sms")
def send_sms(iccid: str) -> Response:
    """Queue an MT SMS: 201, empty body, Location pointing at 1NCE's internal host."""
    message_id = sms_request(iccid)
    location = f"{request.host_url}internal-global-api/v1/sims/{iccid}/sms/{message_id}"
    return empty(201, headers={"Location": location})


@api.get("/v1/sims/<iccid>/sms/<int:message_id>")
def get_sms(iccid: str, message_id: int) -> Response:
    """One SMS."""
    record = fleet().sim(iccid)
    if record is None:
        return unknown_sim()
    message = fleet().sms_message(iccid, message_id)
    if message is None:
        raise ApiError(404, "SMS not found")
    return json_response(wire.sms(record, message))


@api.delete("/v1/sims/<iccid>/sms/<int:message_id>")
def cancel_sms(iccid: str, message_id: int) -> Response:
    """Cancel a buffered (undelivered) MT SMS."""
    if not fleet().writes.cancel_sms(iccid, message_id):
        raise ApiError(404, "SMS not found or already delivered")
    return empty(200)


def topup_response(iccids: list[str]) -> Response:
    """Place the order and answer 201 with the order's Location."""
    return empty(201, headers=order_location("v1", fleet().writes.request_topup(iccids)))


@api.post("/v1/sims/<iccid>/topup")
def topup(iccid: str) -> Response:
    """Top up one SIM with the standard package."""
    if fleet().sim(iccid) is None:
        return gateway_message(404, "SIM not found.")
    return payment_method_error() or topup_response([iccid])


@api.post("/v1/sims/topup")
def bulk_topup() -> Response:
    """Top up many SIMs in one order; body is a JSON array of ICCIDs."""
    body = json_body()
    if not isinstance(body, list) or not body or not all(isinstance(i, str) for i in body):
        raise ApiError(400, "Body must be a non-empty array of ICCIDs")
    if any(fleet().sim(iccid) is None for iccid in body):
        return gateway_message(404, "SIM not found.")
    return payment_method_error() or topup_response(body)


@api.get("/v1/sims/limits")
def get_limits() -> Response:
    """The account's selected monthly limits."""
    chosen = fleet().limits()
    body = {
        "data": limit_option("data", chosen["data"]),
        "smsMt": limit_option("smsMT", chosen["smsMT"]),
        "smsMo": limit_option("smsMO", chosen["smsMO"]),
    }
    return json_response(body)


def limit_option(service: str, option_id: int) -> dict:
    """The limit option with that id."""
    return next(option for option in LIMIT_OPTIONS[service] if option["id"] == option_id)


@api.post("/v1/sims/limits")
def set_limits() -> Response:
    """Queue a change of the monthly limits: 201, empty body."""
    body = json_body()
    fields = {"dataLimitId": "data", "smsMoLimitId": "smsMO", "smsMtLimitId": "smsMT"}
    if not isinstance(body, dict):
        raise ApiError(400, "JSON parse error: expected an object")
    choices = {}
    for key, service in fields.items():
        if key in body:
            valid = {option["id"] for option in LIMIT_OPTIONS[service]}
            if body[key] not in valid:
                raise ApiError(400, f"{key} must be one of {sorted(valid)}")
            choices[service] = body[key]
    fleet().writes.request_limits(choices)
    return empty(201)


@api.get("/v1/sims/<service>/limits")
def limit_options(service: str) -> Response:
    """Selectable limits of one service (data, smsMO, smsMT)."""
    if service not in LIMIT_OPTIONS:
        raise ApiError(404, f"Unknown service '{service}'")
    return json_response(list(LIMIT_OPTIONS[service]))


# Orders and products (read-only)


@api.get("/v1/orders")
def list_orders() -> Response:
    """Orders, paged (at most 10 a page), sorted by order_number unless `sort` says otherwise."""
    page, page_size = paging(10)
    orders = fleet().orders(include_sims=False)
    for key in reversed(request.args.get("sort", "order_number").split(",")):
        name = key.lstrip("-")
        if name not in ("order_number", "order_status", "order_date"):
            raise ApiError(400, f"Sorting by '{name}' is not supported")
        orders.sort(key=attrgetter(name), reverse=key[:1] == "-")
    page_orders = page_of(orders, page, page_size)
    chosen = [fleet().order(order.order_number) for order in page_orders]
    api_url = request.host_url + API_PREFIX.lstrip("/")
    body = [wire.order(order, api_url) for order in chosen if order is not None]
    return json_response(body, headers=paging_headers(page, page_size, len(orders)))


@api.get("/v1/orders/<int:order_number>")
def get_order(order_number: int) -> Response:
    """One order."""
    order = fleet().order(order_number)
    if order is None:
        raise ApiError(404, "Order not found")
    return json_response(wire.order(order, request.host_url + API_PREFIX.lstrip("/")))


@api.get("/v1/products")
def list_products() -> Response:
    """The product catalogue."""
    return json_response(list(PRODUCTS))
