"""The v1 Management API routes, the gateway checks in front of them, and /_sim controls."""

import time
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Flask, Response, current_app, request

from webapp.simulator import wire
from webapp.simulator.catalog import LIMIT_OPTIONS, PRODUCTS
from webapp.simulator.fleet import SIM_STATUSES, Fleet
from webapp.simulator.gateway import Gateway
from webapp.simulator.responses import (
    empty,
    gateway_message,
    html_503,
    json_response,
    paging_headers,
    spring_error,
)
from webapp.simulator.seeding import HISTORY_DAYS

API_PREFIX = "/management-api"
TOKEN_PATH = f"{API_PREFIX}/oauth/token"
SIMS_PREFIX = f"{API_PREFIX}/v1/sims"
CATALOG_PREFIXES = (f"{API_PREFIX}/v1/orders", f"{API_PREFIX}/v1/products")
PAYMENT_METHODS = ("banktransfer", "creditcard", "monthlyinvoice", "boleto")
SOURCE_ADDRESS_TYPES = (145, 161, 208)
DEFAULT_USAGE_DAYS = 14

api = Blueprint("management_api", __name__, url_prefix=API_PREFIX)
control = Blueprint("simulator_control", __name__, url_prefix="/_sim")


@dataclass(frozen=True)
class Settings:
    """Per-app simulator settings the views need."""

    client_id: str
    client_secret: str
    unknown_iccid: str


class ApiError(Exception):
    """Answer with a Spring Boot error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ExpiredSim(Exception):
    """1NCE refuses to modify expired SIMs: 422 with an empty body (as the spec declares)."""


def fleet() -> Fleet:
    """The app's fleet."""
    return current_app.extensions["fleet"]


def gateway() -> Gateway:
    """The app's gateway state."""
    return current_app.extensions["simulator_gateway"]


def settings() -> Settings:
    """The app's simulator settings."""
    return current_app.extensions["simulator_settings"]


def register(app: Flask) -> None:
    """Attach routes, gateway hooks and error handlers to the simulator app."""
    app.register_blueprint(api)
    app.register_blueprint(control)
    app.before_request(gateway_checks)
    app.after_request(count_status)
    app.register_error_handler(ApiError, lambda error: spring_error(error.status, error.message))
    app.register_error_handler(ExpiredSim, lambda error: empty(422))
    app.register_error_handler(404, lambda error: spring_error(404, "Not Found"))
    app.register_error_handler(405, lambda error: spring_error(405, "Method Not Allowed"))


# Gateway: stats, faults, rate limits and bearer tokens, in the order a request meets them


def gateway_checks() -> Response | None:
    """Count the request, inject faults, enforce rate limits and authentication."""
    path = request.path
    if not path.startswith(API_PREFIX):
        return None
    state = gateway()
    rule = request.url_rule.rule.removeprefix(API_PREFIX) if request.url_rule else "unmatched"
    state.record_request(
        f"{request.method} {rule}", path.startswith(SIMS_PREFIX), path == TOKEN_PATH
    )
    if state.faults.slow_ms:
        time.sleep(state.faults.slow_ms / 1000)
    fault = injected_fault(state)
    if fault is not None:
        return fault
    if path == TOKEN_PATH:
        allowed = state.oauth_limiter.allow(request.remote_addr or "")
        return None if allowed else gateway_message(429, "Too Many Requests")
    if request.url_rule is None:
        return None
    return authenticate(state, path)


def injected_fault(state: Gateway) -> Response | None:
    """The failure chosen for this request by the fault settings, if any."""
    fault = state.pick_fault()
    if fault == "error_rate":
        return spring_error(500, "Internal Server Error")
    if fault == "html_503_rate":
        return html_503()
    if fault == "empty_500_rate":
        return empty(500)
    return None


def authenticate(state: Gateway, path: str) -> Response | None:
    """Bearer check, then the per-customer /sims limit or the per-IP catalog limit."""
    header = request.headers.get("Authorization", "")
    if not header:
        return Response(b"", 401)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return spring_error(401, "The token is invalid: Illegal base64 character 20")
    client_id, problem = state.tokens.client_of(token.strip())
    if client_id is None:
        return spring_error(401, problem)
    if path.startswith(SIMS_PREFIX):
        allowed = state.sims_limiter.allow(client_id)
    elif path.startswith(CATALOG_PREFIXES):
        allowed = state.catalog_limiter.allow(request.remote_addr or "")
    else:
        allowed = True
    return None if allowed else gateway_message(429, "Too Many Requests")


def count_status(response: Response) -> Response:
    """Count the response status of API requests."""
    if request.path.startswith(API_PREFIX):
        gateway().record_status(response.status_code)
    return response


# OAuth


def token_error(code: str, message: str) -> Response:
    """A token endpoint error: HTTP 400 with camelCase keys."""
    return json_response({"statusCode": 400, "errorCode": code, "message": message}, 400)


@api.post("/oauth/token")
def oauth_token() -> Response:
    """Client-credentials grant with HTTP Basic; JSON or form body."""
    content_type = request.mimetype
    if content_type == "application/json":
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
    elif content_type == "application/x-www-form-urlencoded":
        body = request.form.to_dict()
    else:
        return token_error("UnsupportedContentTypeError", "Content-Type not supported")
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return token_error(
            "AuthValidationError", "Auth header validation error: Missing attributes 'username'"
        )
    if not auth.password:
        return token_error(
            "AuthValidationError", "Auth header validation error: Missing attributes 'password'"
        )
    if body.get("grant_type") != "client_credentials":
        return token_error(
            "BodyValidationError", "Request body validation error: Missing attributes 'grant_type'"
        )
    config = settings()
    if auth.username != config.client_id:
        return token_error("BadCredentials", "User does not exist.")
    if auth.password != config.client_secret:
        return token_error("BadCredentials", "Incorrect username or password.")
    tokens = gateway().tokens
    return json_response(
        {
            "status_code": 200,
            "access_token": tokens.issue(auth.username),
            "token_type": "bearer",
            "expires_in": tokens.ttl,
            "userId": auth.username,
            "scope": "all",
        }
    )


# Parameters


def int_param(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within bounds, else a Spring-style 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            400,
            "Failed to convert value of type 'java.lang.String' to required type 'int'; "
            f'nested exception is java.lang.NumberFormatException: For input string: "{raw}"',
        ) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value


def paging(max_size: int, default_size: int = 10) -> tuple[int, int]:
    """(page, pageSize) from the query string."""
    page = int_param("page", 1, 1, 10**9)
    return page, int_param("pageSize", default_size, 1, max_size)


def bool_param(name: str, default: bool) -> bool:
    """A boolean query parameter (`true`/`false`)."""
    raw = request.args.get(name)
    return default if raw is None else raw.lower() == "true"


def json_body() -> object:
    """The parsed JSON body, or a 400 when it is not JSON."""
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "Required request body is missing")
    return body


def unknown_sim() -> Response:
    """Reading an unknown ICCID: 200 with an empty body as recorded, or 404 if configured."""
    if settings().unknown_iccid == "404":
        return spring_error(404, "SIM not found")
    return empty(200)


def known_sim_for_write(iccid: str) -> None:
    """Writes need an existing, unexpired SIM."""
    if fleet().sim(iccid) is None:
        raise ApiError(404, "SIM not found.")
    if fleet().is_expired(iccid):
        raise ExpiredSim()


def sim_changes(body: object) -> dict[str, object]:
    """The editable fields of a SIM update body, validated."""
    if not isinstance(body, dict):
        raise ApiError(400, "JSON parse error: expected an object")
    changes: dict[str, object] = {}
    if "status" in body:
        if body["status"] not in SIM_STATUSES:
            raise ApiError(400, f"Invalid status '{body['status']}', use Enabled or Disabled")
        changes["status"] = body["status"]
    if "label" in body:
        if body["label"] is not None and not isinstance(body["label"], str):
            raise ApiError(400, "label must be a string")
        changes["label"] = body["label"]
    if "imei_lock" in body:
        if not isinstance(body["imei_lock"], bool):
            raise ApiError(400, "imei_lock must be a boolean")
        changes["imei_lock"] = body["imei_lock"]
    return changes


# SIMs


@api.get("/v1/sims")
def list_sims() -> Response:
    """SIMs, paged, with the four X-* paging headers; `q` and `sort` on imei/ip_address."""
    page, page_size = paging(100)
    filters = parse_filters(request.args.get("q", ""))
    sort = [key for key in request.args.get("sort", "").split(",") if key]
    for key in sort:
        if key.lstrip("-") not in ("imei", "ip_address"):
            raise ApiError(400, f"Sorting by '{key}' is not supported")
    if filters or sort:
        records, total = fleet().search(filters, sort, page, page_size)
    else:
        records, total = fleet().page(page, page_size)
    garbled = set(gateway().faults.garbled_iccids)
    body = [
        {**wire.sim(record), "iccid": "garbled"} if record.iccid in garbled else wire.sim(record)
        for record in records
    ]
    return json_response(body, headers=paging_headers(page, page_size, total))


def parse_filters(query: str) -> dict[str, str]:
    """`imei:4711,ip_address:10.0.0.1` as a dict; other fields are refused."""
    filters = {}
    for part in filter(None, query.split(",")):
        name, _, value = part.partition(":")
        if name not in ("imei", "ip_address"):
            raise ApiError(400, f"Filtering by '{name}' is not supported")
        filters[name] = value
    return filters


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
        fleet().request_update(iccid, changes)
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
    fleet().request_update(iccid, changes)
    return empty(200)


@api.get("/v1/sims/<iccid>/status")
def sim_status(iccid: str) -> Response:
    """Connectivity: ONLINE, ATTACHED or OFFLINE, with the last location."""
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
    fleet().request_reset(iccid)
    return empty(201)


@api.get("/v1/sims/<iccid>/usage")
def usage(iccid: str) -> Response:
    """Daily usage, newest first, plus TOTAL; 14 days by default, at most 6 months back."""
    today = fleet().now().date()
    try:
        end = parse_day(request.args.get("end_dt")) or today
        start = parse_day(request.args.get("start_dt")) or end - timedelta(
            days=DEFAULT_USAGE_DAYS - 1
        )
    except ValueError:
        start, end = today, today - timedelta(days=1)
    start = max(start, today - timedelta(days=HISTORY_DAYS))
    days = fleet().usage(iccid, start, end)
    if iccid in gateway().faults.garbled_iccids:
        return json_response({"stats": "garbled"})
    return unknown_sim() if days is None else json_response(wire.usage(days))


def parse_day(raw: str | None) -> date | None:
    """A `YYYY-MM-DD` parameter (ValueError if malformed)."""
    return None if raw is None else date.fromisoformat(raw)


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
    state = fleet().connectivity(iccid)
    if record is None or items is None or state is None:
        return unknown_sim()
    if request.args.get("sort", "-timestamp").split(",")[0] == "timestamp":
        items.reverse()
    chosen = items[(page - 1) * page_size : page * page_size]
    headers = paging_headers(page, page_size, len(items))
    body = {
        "events": [wire.event(record, state, item) for item in chosen],
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
    chosen = messages[(page - 1) * page_size : page * page_size]
    body = [wire.sms(record, message) for message in chosen]
    return json_response(body, headers=paging_headers(page, page_size, len(messages)))


@api.post("/v1/sims/<iccid>/sms")
def send_sms(iccid: str) -> Response:
    """Queue an MT SMS: 201, empty body, Location pointing at 1NCE's internal host."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("payload"), str):
        raise ApiError(400, "payload is required")
    if not body["payload"] or len(body["payload"]) > 1600:
        raise ApiError(400, "payload must have 1 to 1600 characters")
    address_type = body.get("source_address_type")
    if isinstance(address_type, dict):
        address_type = address_type.get("id")
    if address_type is not None and address_type not in SOURCE_ADDRESS_TYPES:
        raise ApiError(400, "source_address_type must be 145, 161 or 208")
    known_sim_for_write(iccid)
    message = {**body, "source_address_type": address_type}
    message_id = fleet().request_sms(iccid, message)
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
    if not fleet().cancel_sms(iccid, message_id):
        raise ApiError(404, "SMS not found or already delivered")
    return empty(200)


def payment_method_error() -> Response | None:
    """Top-ups accept only the documented payment methods."""
    if request.args.get("payment_method", "banktransfer") not in PAYMENT_METHODS:
        return gateway_message(400, "Payment method used is not valid.")
    return None


def topup_response(iccids: list[str]) -> Response:
    """Place the order and answer 201 with the order's Location."""
    order_number = fleet().request_topup(iccids)
    location = f"{request.host_url}management-api/v1/orders/{order_number}"
    return empty(201, headers={"Location": location})


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
    fleet().request_limits(choices)
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
        orders.sort(key=lambda order, name=name: getattr(order, name), reverse=key[:1] == "-")
    page_orders = orders[(page - 1) * page_size : page * page_size]
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


# Simulator controls (unauthenticated; they exist only here)


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
    """Switch all faults off."""
    gateway().faults.update(
        {
            "error_rate": 0,
            "html_503_rate": 0,
            "empty_500_rate": 0,
            "slow_ms": 0,
            "garbled_iccids": [],
        }
    )
    return json_response(gateway().faults.as_dict())


@control.get("/stats")
def get_stats() -> Response:
    """Request counters."""
    return json_response(gateway().stats.as_dict())


@control.post("/stats/reset")
def reset_stats() -> Response:
    """Zero the request counters."""
    gateway().reset_stats()
    return json_response(gateway().stats.as_dict())
