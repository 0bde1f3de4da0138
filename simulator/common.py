"""Request helpers shared by the v1 and v2 views: app state, parameters, body validation."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Response, current_app, request

from simulator.fleet import SIM_STATUSES, Fleet
from simulator.gateway import Gateway
from simulator.records import SimRecord, UsageDay
from simulator.responses import gateway_message, json_response, paging_headers
from simulator.seeding import HISTORY_DAYS

API_PREFIX = "/management-api"
TOKEN_PATH = f"{API_PREFIX}/oauth/token"
V1_PREFIX = f"{API_PREFIX}/v1/"
V2_PREFIX = f"{API_PREFIX}/v2/"
# v1 and v2 SIM calls count against the same per-customer limit.
SIMS_PREFIXES = (f"{API_PREFIX}/v1/sims", f"{API_PREFIX}/v2/sims")
CATALOG_PREFIXES = (f"{API_PREFIX}/v1/orders", f"{API_PREFIX}/v1/products")
PAYMENT_METHODS = ("banktransfer", "creditcard", "monthlyinvoice", "boleto")
SOURCE_ADDRESS_TYPES = (145, 161, 208)
DEFAULT_USAGE_DAYS = 14
SEARCHABLE = ("imei", "ip_address")
EXPIRED_MESSAGE = (
    "The following SIMs are expired and cannot be modified via API. Only extensions are permitted"
)


@dataclass(frozen=True)
class Settings:
    """Per-app simulator settings the views need."""

    client_id: str
    client_secret: str
    unknown_iccid: str


class ApiError(Exception):
    """A backend error: a Spring Boot body on v1, the v2 error body on v2.

    `v2_message` replaces `message` on v2, whose backend words some errors differently.
    """

    def __init__(self, status: int, message: str, v2_message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.v2_message = v2_message or message


class ExpiredSim(Exception):
    """1NCE refuses to modify expired SIMs: v1 422 with an empty body, v2 409 Conflict."""


def fleet() -> Fleet:
    """The app's fleet."""
    return current_app.extensions["fleet"]


def gateway() -> Gateway:
    """The app's gateway state."""
    return current_app.extensions["simulator_gateway"]


def settings() -> Settings:
    """The app's simulator settings."""
    return current_app.extensions["simulator_settings"]


def api_version(path: str) -> str:
    """The API version of a path: "v1", "v2", or "" (token endpoint, other paths)."""
    if path.startswith(V1_PREFIX):
        return "v1"
    return "v2" if path.startswith(V2_PREFIX) else ""


# Parameters


def int_param(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within bounds, else a 400 worded as each backend does."""
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
            f'Cannot parse parameter {name} as Int: For Input String "{raw}"',
        ) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value


def paging(max_size: int, default_size: int = 10, size_name: str = "pageSize") -> tuple[int, int]:
    """(page, page size) from the query string; v2 SMS names the size `per_page`."""
    page = int_param("page", 1, 1, 10**9)
    return page, int_param(size_name, default_size, 1, max_size)


def page_of(items: list, page: int, page_size: int) -> list:
    """The items of one 1-based page."""
    return items[(page - 1) * page_size : page * page_size]


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


def parse_day(raw: str | None) -> date | None:
    """A `YYYY-MM-DD` parameter (ValueError if malformed)."""
    return None if raw is None else date.fromisoformat(raw)


# SIM list and usage


def listed_sims(render: Callable[[SimRecord], dict]) -> Response:
    """A page of SIMs rendered by `render(record)`, with the four X-* headers and q/sort."""
    page, page_size = paging(100)
    filters = parse_filters(request.args.get("q", ""))
    sort = [key for key in request.args.get("sort", "").split(",") if key]
    for key in sort:
        if key.lstrip("-") not in SEARCHABLE:
            raise ApiError(400, f"Sorting by '{key}' is not supported")
    if filters or sort:
        records, total = fleet().search(filters, sort, page, page_size)
    else:
        records, total = fleet().page(page, page_size)
    body = [garbled_or(render, record) for record in records]
    return json_response(body, headers=paging_headers(page, page_size, total))


def garbled_or(render: Callable[[SimRecord], dict], record: SimRecord) -> dict:
    """The rendered SIM, or a malformed copy for SIMs the `garbled_iccids` fault names."""
    item = render(record)
    return {**item, "iccid": "garbled"} if record.iccid in gateway().faults.garbled_iccids else item


def parse_filters(query: str) -> dict[str, str]:
    """`imei:4711,ip_address:10.0.0.1` as a dict; other fields are refused."""
    filters = {}
    for part in filter(None, query.split(",")):
        name, _, value = part.partition(":")
        if name not in SEARCHABLE:
            raise ApiError(400, f"Filtering by '{name}' is not supported")
        filters[name] = value
    return filters


def usage_days(iccid: str) -> list[UsageDay] | None:
    """Daily usage for `start_dt`..`end_dt`: 14 days by default, at most 6 months back.

    Nonsense dates give no days at all (only the TOTAL row), as recorded on v1.
    """
    today = fleet().now().date()
    try:
        end = parse_day(request.args.get("end_dt")) or today
        start = parse_day(request.args.get("start_dt")) or end - timedelta(
            days=DEFAULT_USAGE_DAYS - 1
        )
    except ValueError:
        start, end = today, today - timedelta(days=1)
    start = max(start, today - timedelta(days=HISTORY_DAYS))
    return fleet().usage(iccid, start, end)


# Writes


def known_sim_for_write(iccid: str) -> None:
    """Writes need an existing, unexpired SIM."""
    if fleet().sim(iccid) is None:
        raise ApiError(404, "SIM not found.", "Element not found")
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


def sms_request(iccid: str) -> int:
    """Validate an SMSMessage body (the same on v1 and v2) and queue it; returns its id."""
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
    return fleet().writes.request_sms(iccid, {**body, "source_address_type": address_type})


def payment_method_error() -> Response | None:
    """Top-ups accept only the documented payment methods."""
    if request.args.get("payment_method", "banktransfer") not in PAYMENT_METHODS:
        return gateway_message(400, "Payment method used is not valid.")
    return None


def order_location(version: str, order_number: int) -> dict[str, str]:
    """The `Location` header of a placed top-up order."""
    return {"Location": f"{request.host_url}management-api/{version}/orders/{order_number}"}
