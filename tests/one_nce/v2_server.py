"""A local HTTP server answering as 1NCE's v2 reference describes, traps included.

The bodies follow the shapes and examples of the v2 reference note (SimsSim, SimsQuota,
SimsConnectivityDetail, Event, SimsSms, the v2 error body), not the simulator. Like a real
server it ignores query parameters it does not know and falls back to its own defaults (SMS
20 a page, events 10), so a client that sends v1's names gets short pages. Every request is
recorded, so tests can check what the client sent.
"""

import copy
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, request

from tests.helpers import serve_app

ICCID = "8988228066602306770"
ONLINE_ICCID = "8988228066602306771"
ODD_ICCID = "8988228066602306772"
CONFLICT_ICCID = "8988228066602306773"
EMPTY_ICCID = "8988228066602306774"
UNKNOWN_ICCID = "8988228000000000000"
JSON = "application/json;charset=UTF-8"
TOKEN_BODY = {"access_token": "v2" * 32, "token_type": "bearer", "expires_in": 3600}


def sim(iccid: str, label: str) -> dict:
    """A SimsSim as the spec lists it (the same fields as v1's SIM_card)."""
    return {
        "iccid": iccid,
        "iccid_with_luhn": iccid + "4",
        "imsi": "901405102306770",
        "current_imsi": "901405102306770",
        "msisdn": "882285102306770",
        "imei": "8682390510114404",
        "imei_lock": False,
        "status": "Enabled",
        "activation_date": "2018-03-09T07:59:09.000+0000",
        "ip_address": "10.210.176.1",
        "current_quota": 500,
        "quota_status": {"id": 0, "description": "More than 20% available"},
        "current_quota_SMS": 250,
        "quota_status_SMS": {"id": 1, "description": "Less than 20% available"},
        "label": label,
    }


SIMS = [
    sim(iccid, f"pump {number}")
    for number, iccid in enumerate((ICCID, ONLINE_ICCID, ODD_ICCID, CONFLICT_ICCID, EMPTY_ICCID))
]

PDP_CONTEXT = {
    "pdp_context_id": "1501",
    "endpoint_id": "77",
    "tariff_id": "3",
    "ratezone_id": "5",
    "organisation_id": "5",
    "imsi_id": "66",
    "imsi": "901405102306770",
    "sim_id": "55",
    "tx_teid_data_plane": "1234",
    "rx_teid": "4321",
    "sgsn_control_plane_ip_address": "92.60.128.122",
    "ggsn_data_plane_ip_address": "10.0.0.1",
    "gtp_version": "2",
    "nsapi": "5",
    "created": "2019-12-04T08:12:02.000Z",
    "ue_ip_address": "10.210.176.1",
    "imeisv": "8682390510114404",
    "mcc": "260",
    "mnc": "01",
    "operator_id": "90",
    "gtp_v2_uli": {"tac": 12, "eci": 34},
    "rat_type": {"rat_type_id": "8", "description": "NB-IoT"},
    "region": "us-east-1",
    "apn": "iot.1nce.net",
}

LOCATION = {
    "iccid": ICCID,
    "imsi": "901405102306770",
    "last_updated": "2023-08-06 09:59:05",
    "sgsn_number": "48601000738",
    "vlr_number": "48601000739",
    "operator_id": "90",
    "msc": "48601000740",
    "sgsn_ip_address": "92.60.128.122",
    "mme_name": "mme1",
    "mme_realm": "epc.mnc001.mcc260.3gppnetwork.org",
    "operator": {
        "id": 90,
        "name": "Plus",
        "mnc": "01",
        "country": {"id": 157, "name": "Poland", "iso_code": "pl"},
    },
    "country": {
        "country_id": "157",
        "name": "Poland",
        "country_code": "48",
        "mcc": "260",
        "iso_code": "pl",
    },
}

STATUSES = {
    ICCID: {
        "status": {"description": "BLOCKED"},
        "data_traffic_limit_state": {"description": "REACHED"},
        "location": LOCATION,
        "pdp_contexts": [],
        "services": ["GPRS"],
    },
    ONLINE_ICCID: {
        "status": {"description": "ONLINE"},
        "data_traffic_limit_state": {"description": "NOT_REACHED"},
        "location": LOCATION | {"iccid": ONLINE_ICCID},
        "pdp_contexts": [PDP_CONTEXT, PDP_CONTEXT | {"pdp_context_id": "1502", "apn": "other"}],
        "services": ["GPRS", "SMS"],
    },
    ODD_ICCID: {"status": {"description": "ROAMING_LIMITED"}, "services": []},
}

# The spec maps status.id 0 to EXHAUSTED yet its own example is {id: 0, description: ACTIVE}.
DATA_QUOTA = {
    "id": 17,
    "status": {"id": 0, "description": "ACTIVE"},
    "volume": 479.949998,
    "total_volume": 500,
    "accumulated_total_volume": 1000,
    "last_volume_added": 500,
    "service": "data",
    "threshold_percentage": 20,
    "threshold_volume": 100,
    "expiry_date": "2029-01-01T00:00:00.000Z",
    "created_at": "2024-08-24T13:13:21Z",
}
SMS_QUOTA = {
    "id": 18,
    "status": {"id": 1, "description": "EXHAUSTED"},
    "volume": -3,
    "total_volume": 250,
    "accumulated_total_volume": 500,
    "service": "sms",
    "threshold_percentage": 20,
    "expiry_date": "2029-01-01T00:00:00.000Z",
    "created_at": "2024-08-24T13:13:21Z",
}

COUNTRY = {"id": 157, "name": "Poland", "country_code": "48", "mcc": "260", "iso_code": "pl"}
EVENT_BASE = {
    "alert": False,
    "user": None,
    "event_source": {"id": 0, "description": "Network"},
    "event_severity": {"id": 0, "description": "INFO"},
    "organisation": {"id": 5, "name": "Acme"},
    "endpoint": {
        "id": 77,
        "name": "pump 0",
        "ip_address": "10.210.176.1",
        "imei": "8682390510114404",
    },
    "sim": {"id": 55, "iccid": ICCID, "msisdn": "882285102306770"},
    "imsi": {"id": 66, "imsi": "901405102306770"},
}
LOCATION_DETAIL = {
    "id": 3,
    "name": "Plus",
    "country": COUNTRY,
    "tapcode": [{"id": 1, "tapcode": "POLKM"}],
    "mnc": [{"id": 1, "mnc": "01"}],
    "update_location_failure_reason": "RAT_NOT_ALLOWED",
}
PDP_DETAIL = {
    "id": 4,
    "name": "Plus",
    "country": COUNTRY,
    "volume": {"tx": 0.1, "rx": 0.2, "total": 0.3},
    "data_service_failure_cause": "MONTHLY_USAGE_LIMIT_EXCEEDED",
    "pdp_context": {"tunnel_created": "2023-03-01T12:00:00.000Z", "apn": "iot.1nce.net"},
}
QUOTA_DETAIL = {
    "quota": {"id": 17, "volume": 0, "threshold": {"percentage": 20, "volume": 100}},
    "regional_pool": {"id": 1, "name": "EU"},
}
VPN_DETAIL = {
    "vpn_id": "vpn-1",
    "region": "eu-central-1",
    "client": {"version": "2.5", "private_ip": "10.8.0.2", "public_ip": "198.51.100.7"},
}
DETAILS = [
    ("Update location", LOCATION_DETAIL),
    ("Delete PDP Context", PDP_DETAIL),
    ("Quota threshold reached", QUOTA_DETAIL),
    ("VPN connected", VPN_DETAIL),
]


def event(number: int) -> dict:
    """The `number`-th event of ICCID, one minute apart, cycling through the detail shapes."""
    name, detail = DETAILS[number % len(DETAILS)]
    return EVENT_BASE | {
        "id": 9000 + number,
        "event_type": {"id": number % len(DETAILS) + 1, "description": name},
        "timestamp": f"2023-03-01T12:{number:02d}:09.000Z",
        "description": f"{name}.",
        "detail": detail,
    }


# Oldest first: v2 has no `sort` and its order is unknown, so the client must not assume one.
EVENTS = [event(number) for number in range(12)]
EVENTS[5]["event_severity"] = {"id": 1, "description": "WARN"}


def sms(number: int) -> dict:
    """The `number`-th SMS of ICCID as SimsSms: integer id, retry_count and msc."""
    return {
        "id": 7363280 + number,
        "submit_date": "2019-09-29T07:33:15.000Z",
        "delivery_date": "2019-09-29T07:33:16.000Z",
        "expiry_date": "2019-09-30T07:33:15.000Z",
        "final_date": "2019-09-29T07:33:16.000Z",
        "retry_date": None,
        "last_delivery_attempt": "2019-09-29T07:33:16.000Z",
        "retry_count": 1,
        "gsm_map_error": None,
        "dcs": 0,
        "pid": 0,
        "source_address": "1234",
        "endpoint": {"id": 77, "name": "pump 0"},
        "sim_id": 55,
        "iccid": ICCID,
        "msisdn": "882285102306770",
        "imsi": "901405102306770",
        "msc": 491770000000,
        "udh": "",
        "payload": f"message {number}",
        "status": {"id": 4, "description": "DELIVERED"},
        "sms_type": {"id": 1 + number % 2, "description": "MT" if number % 2 == 0 else "MO"},
        "source_address_type": {"id": 161, "description": "National"},
    }


# 25 SMS: more than the server's default page of 20. One has its id as a string, as the
# POST and DELETE answers give it, and an expiry with a `+00:00` offset.
SMS = [sms(number) for number in range(25)]
SMS[3] = SMS[3] | {"id": "7363283", "expiry_date": "2019-09-30T09:33:15.000+02:00"}

ZERO = {"volume": "0", "volume_tx": "0", "volume_rx": "0"}
USAGE_ROWS = [
    {
        "date": "2026-12-03",
        "data": {"volume": "0.014599", "volume_tx": "0.004879", "volume_rx": "0.00972"},
        "sms": {"volume": "2", "volume_tx": "1", "volume_rx": "1"},
    },
    {"date": "2026-12-02", "data": ZERO, "sms": ZERO},
    {"date": "TOTAL", "data": ZERO, "sms": ZERO},
]
USAGE_BODIES = {
    "stats": {"stats": USAGE_ROWS},
    "array": USAGE_ROWS,
    "other": {"usage": USAGE_ROWS, "sim": {"iccid": ICCID}},
}


@dataclass(frozen=True)
class Hit:
    """One request the server got."""

    method: str
    path: str
    args: dict[str, str]
    json: Any
    at: float


def error(status: int, token: str, message: str) -> Response:
    """v2's error body; every example in the spec uses error_code 1000."""
    body = {"error_code": 1000, "error_token": token, "message": message}
    return Response(json.dumps(body), status, content_type=JSON)


def answer(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer."""
    return Response(json.dumps(body), status, headers, content_type=JSON)


def int_arg(name: str, default: int, maximum: int) -> int:
    """A whole-number query parameter within 1..maximum, or a BadRequest as v2 words it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        message = f'Cannot parse parameter {name} as Int: For Input String "{raw}"'
        abort(error(400, "BadRequest", message))
    if not 1 <= value <= maximum:
        abort(error(400, "BadRequest", f"{name} must be between 1 and {maximum}"))
    return value


def page_of(items: list, size_param: str, default: int, maximum: int) -> tuple[list, int, int]:
    """The requested page of `items`, its number and size."""
    page = int_arg("page", 1, 10**6)
    size = int_arg(size_param, default, maximum)
    return items[(page - 1) * size : page * size], page, size


class V2Server:
    """The v2 reference server on a free local port; `url` is its Management API base URL."""

    client_id = "v2-client"
    client_secret = "v2-secret-value"

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.usage_shape = "stats"
        self.sims = {item["iccid"]: copy.deepcopy(item) for item in SIMS}
        self._orders = itertools.count(2000000001)
        app = Flask("v2-reference")
        app.before_request(self._record)
        self._route(app)
        self._served = serve_app(app)
        self.url = f"{self._served.url}/management-api"

    def requests(self, method: str, path: str) -> list[Hit]:
        """The recorded requests to `path` (below /management-api) with `method`."""
        full = "/management-api" + path
        return [hit for hit in self.hits if (hit.method, hit.path) == (method, full)]

    def api_hits(self) -> list[Hit]:
        """Every recorded request except token fetches."""
        return [hit for hit in self.hits if not hit.path.endswith("/oauth/token")]

    def stop(self) -> None:
        """Shut the server down."""
        self._served.stop()

    def _record(self) -> None:
        body = request.get_json(silent=True) if request.data else None
        hit = Hit(request.method, request.path, request.args.to_dict(), body, time.monotonic())
        self.hits.append(hit)

    def _route(self, app: Flask) -> None:
        sims = "/management-api/v2/sims"
        one = sims + "/<iccid>"
        routes = [
            ("/management-api/oauth/token", ["POST"], lambda: answer(TOKEN_BODY)),
            (sims, ["GET"], self._list_sims),
            (one, ["GET"], self._get_sim),
            (one, ["PUT"], self._put_sim),
            (one + "/status", ["GET"], lambda iccid: answer(self._known(iccid, STATUSES))),
            (one + "/quota/data", ["GET"], lambda iccid: self._for(iccid, DATA_QUOTA)),
            (one + "/quota/sms", ["GET"], lambda iccid: self._for(iccid, SMS_QUOTA)),
            (one + "/events", ["GET"], self._events),
            (one + "/sms", ["GET"], self._list_sms),
            (one + "/sms", ["POST"], self._send_sms),
            (one + "/sms/<sms_id>", ["DELETE"], self._cancel_sms),
            (one + "/reset", ["POST"], lambda iccid: self._for(iccid, None, 201)),
            (one + "/topup", ["POST"], self._top_up),
            (one + "/usage", ["GET"], self._usage),
            ("/management-api/v1/products", ["GET"], lambda: answer([{"id": 1001}])),
        ]
        for number, (rule, methods, view) in enumerate(routes):
            app.add_url_rule(rule, f"route{number}", view, methods=methods)

    def _known(self, iccid: str, table: dict) -> Any:
        if iccid not in table:
            abort(error(404, "NotFound", "Element not found"))
        return table[iccid]

    def _for(self, iccid: str, body: Any, status: int = 200) -> Response:
        self._known(iccid, self.sims)
        return Response(status=status) if body is None else answer(body, status)

    def _list_sims(self) -> Response:
        items = list(self.sims.values())
        chosen, page, size = page_of(items, "pageSize", 10, 100)
        headers = {
            "X-Count-Per-Page": str(size),
            "X-Current-Page": str(page),
            "X-Total-Count": str(len(items)),
            "X-Total-Pages": str(-(-len(items) // size)),
        }
        return answer(chosen, headers=headers)

    def _get_sim(self, iccid: str) -> Response:
        found = self._known(iccid, self.sims)
        return Response(status=200) if iccid == EMPTY_ICCID else answer(found)

    def _put_sim(self, iccid: str) -> Response:
        found = self._known(iccid, self.sims)
        if iccid == CONFLICT_ICCID:
            return error(409, "Conflict", "Resource is referenced by other resources")
        changes = request.get_json() or {}
        if changes.get("status") not in (None, "Enabled", "Disabled"):
            return error(400, "BadRequest", "status must be Enabled or Disabled")
        found.update({k: v for k, v in changes.items() if k in ("label", "imei_lock", "status")})
        return Response(status=200)

    def _events(self, iccid: str) -> Response:
        self._known(iccid, self.sims)
        return answer(page_of(EVENTS if iccid == ICCID else [], "pageSize", 10, 1000)[0])

    def _list_sms(self, iccid: str) -> Response:
        self._known(iccid, self.sims)
        return answer(page_of(SMS if iccid == ICCID else [], "per_page", 20, 1000)[0])

    def _send_sms(self, iccid: str) -> Response:
        self._known(iccid, self.sims)
        return answer({"id": "7363305"}, 201)

    def _cancel_sms(self, iccid: str, sms_id: str) -> Response:
        self._known(iccid, self.sims)
        return answer({"id": sms_id})

    def _usage(self, iccid: str) -> Response:
        return self._for(iccid, USAGE_BODIES[self.usage_shape])

    def _top_up(self, iccid: str) -> Response:
        if iccid not in self.sims:
            # The one v2 operation that keeps v1's empty error bodies.
            return Response(status=404)
        location = f"https://api.1nce.com/management-api/v2/orders/{next(self._orders)}"
        return Response(status=201, headers={"Location": location})
