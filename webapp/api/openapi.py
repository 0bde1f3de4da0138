"""The OpenAPI 3.1 description of `/api/v1`, kept next to the code it describes."""

from functools import cache

from webapp.api.problems import PROBLEM_TYPES, TYPE_PREFIX
from webapp.models.sim import QUOTA_STATES
from webapp.one_nce.parsing import ICCID_PATTERN
from webapp.sim_queries import CONNECTIVITY_STATES, DEFAULT_LIMIT, MAX_LIMIT, MAX_USAGE_DAYS

HTTP_METHODS = ("get", "post", "patch", "put", "delete")


def _nullable(kind: str, **extra: object) -> dict:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict, *, required: list[str] | None = None, **extra: object) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


NOT_SYNCED = "null until the first %s sync"
TIMESTAMP = _nullable("string", format="date-time", description="ISO 8601, UTC")
DATE = _nullable("string", format="date")
MB_NULLABLE = _nullable("number", description="Megabytes, at most 6 decimals")
MB = {"type": "number", "description": "Megabytes, at most 6 decimals"}
# Filters take an empty value as "no filter", as an HTML form sends an unset field.
OPTIONAL_BOOLEAN = {"type": "string", "enum": ["true", "false", ""]}
QUOTA_STATE = {"enum": [*QUOTA_STATES, None], "description": "ok: 20 % or more left"}
RATE_HEADERS = {
    name: {"schema": {"type": "integer"}, "description": description}
    for name, description in (
        ("X-RateLimit-Limit", "Requests allowed in the current window"),
        ("X-RateLimit-Remaining", "Requests left in the current window"),
        ("X-RateLimit-Reset", "When the window resets (Unix time)"),
    )
}

SCHEMAS = {
    "Problem": _object(
        {
            "type": {
                "type": "string",
                "enum": [TYPE_PREFIX + s for s, _ in PROBLEM_TYPES.values()],
            },
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "The parameter or body field at fault"},
            "errors": {
                "type": "array",
                "items": _object({"field": {"type": "string"}, "message": {"type": "string"}}),
            },
        },
        required=["type", "title", "status", "detail"],
    ),
    "Sim": _object(
        {
            "iccid": {"type": "string"},
            "imsi": _nullable("string"),
            "msisdn": _nullable("string"),
            "imei": _nullable("string", description="null when 1NCE has none"),
            "imei_lock": _nullable("boolean"),
            "status": _nullable("string", examples=["Enabled", "Disabled"]),
            "label": _nullable("string", description="null when 1NCE has none"),
            "ip_address": _nullable("string"),
            "activation_date": TIMESTAMP,
            "data_quota": _object(
                {
                    "remaining_mb": MB_NULLABLE,
                    "total_mb": MB_NULLABLE,
                    "lifetime_mb": {
                        **MB_NULLABLE,
                        "description": "Megabytes: initial volume plus every top-up"
                        " (1NCE API v2 only)",
                    },
                    "expiry_date": TIMESTAMP,
                    "state": QUOTA_STATE,
                }
            ),
            "sms_quota": _object(
                {
                    "remaining": _nullable("integer"),
                    "total": _nullable("integer"),
                    "expiry_date": TIMESTAMP,
                    "state": QUOTA_STATE,
                }
            ),
            "connectivity": _object(
                {
                    "status": _nullable("string"),
                    "online": _nullable("boolean"),
                    "last_seen_at": TIMESTAMP,
                    "operator": _nullable("string"),
                    "country": _nullable("string"),
                    "rat": _nullable("string"),
                    "data_limit_reached": _nullable(
                        "boolean",
                        description="the account's monthly traffic limit stops data"
                        " (1NCE API v2 only)",
                    ),
                }
            ),
            "forecast": _object(
                {
                    "ends_on": {
                        **DATE,
                        "description": "The day the data quota ends: the sooner of runs_out_on"
                        " and the expiry day (UTC); may be in the past",
                    },
                    "reason": {
                        "type": ["string", "null"],
                        "enum": ["runs_out", "expires", None],
                        "description": "runs_out: the volume runs out at the 7-day rate;"
                        " expires: the quota expires first, with unused_at_expiry_mb left",
                    },
                    "runs_out_on": {
                        **DATE,
                        "description": "The day the volume runs out at the 7-day rate",
                    },
                    "unused_at_expiry_mb": {
                        **MB_NULLABLE,
                        "description": "Megabytes expected to be left unused (and lost) when"
                        " the quota expires; null unless reason is expires",
                    },
                    "data_exhausted_on": {
                        **DATE,
                        "deprecated": True,
                        "description": "The same as ends_on",
                    },
                    "avg_daily_mb_7d": MB_NULLABLE,
                    "avg_daily_mb_30d": MB_NULLABLE,
                    "last_traffic_on": DATE,
                }
            ),
            "synced_at": _object(
                {k: TIMESTAMP for k in ("inventory", "usage", "quotas", "events", "connectivity")}
            ),
            "removed_at": TIMESTAMP,
        }
    ),
    "UsageDay": _object(
        {
            "date": {"type": "string", "format": "date"},
            "data_rx_mb": MB_NULLABLE,
            "data_tx_mb": MB_NULLABLE,
            "data_total_mb": MB_NULLABLE,
            "sms_mo": _nullable("integer"),
            "sms_mt": _nullable("integer"),
        },
        description=(
            "One day, every day of the range: 0 for a day Simfleet knows had no traffic, null"
            " (every figure) for a day it has no data for (before the SIM's usage was first"
            " fetched, pruned by USAGE_RETENTION_DAYS, or not synced yet). A fleet day adds up"
            " the SIMs whose usage is kept for it."
        ),
    ),
    "Event": _object(
        {
            "timestamp": {"type": "string", "format": "date-time"},
            "event_type": {"type": "string"},
            "severity": _nullable("string"),
            "alert": _nullable("boolean"),
            "country": _nullable("string"),
            "operator": _nullable("string"),
            "details": {"type": "object"},
        }
    ),
    "FleetSummary": _object(
        {
            "total_sims": {"type": "integer"},
            "sims_by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
            "online_now": _nullable("integer", description=NOT_SYNCED % "connectivity"),
            "data_used_today_mb": {**MB_NULLABLE, "description": NOT_SYNCED % "usage"},
            "data_used_this_month_mb": {**MB_NULLABLE, "description": NOT_SYNCED % "usage"},
            "sims_quota_low": {
                "type": "integer",
                "description": "Less than 20 % left (the SIMs of quota_state=low)",
            },
            "sims_quota_exhausted": {
                "type": "integer",
                "description": "No data left (the SIMs of quota_state=exhausted)",
            },
            "sims_quota_ending_30d": _nullable(
                "integer",
                description="The data quota runs out or expires within 30 days (the SIMs of"
                " quota_ends=30d); " + NOT_SYNCED % "quotas",
            ),
            "sims_silent": _nullable(
                "integer",
                description="Enabled SIMs with traffic before but none in the last 3 days (the"
                " SIMs of silent=3d); " + NOT_SYNCED % "usage",
            ),
            "generated_at": {"type": "string", "format": "date-time"},
        }
    ),
    "PendingChange": _object(
        {
            "iccid": {"type": "string"},
            "action": {"enum": ["update", "reset", "topup", "sms"]},
            "state": {"const": "pending"},
            "pending": {"type": "object", "description": "The change as sent to 1NCE"},
            "requested_at": {"type": "string", "format": "date-time"},
            "requested_by": {"type": "string"},
            "order_number": _nullable("string", description="topup only"),
            "sms_id": _nullable("string", description="sms only"),
        },
        required=["iccid", "action", "state", "pending", "requested_at", "requested_by"],
    ),
    "SimUpdate": {
        **_object(
            {
                "status": {"enum": ["Enabled", "Disabled"]},
                "label": {"type": "string", "maxLength": 255},
                "imei_lock": {"type": "boolean"},
            },
            required=[],
        ),
        "minProperties": 1,
        "additionalProperties": False,
    },
    "TopUp": {
        **_object(
            {
                "payment_method": {
                    "enum": ["banktransfer", "creditcard", "monthlyinvoice", "boleto"]
                }
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "Sms": {
        **_object({"payload": {"type": "string", "minLength": 1, "maxLength": 1600}}),
        "additionalProperties": False,
    },
}
for _item, _list in (("Sim", "SimList"), ("UsageDay", "UsageList"), ("Event", "EventList")):
    SCHEMAS[_list] = _object(
        {
            "data": {"type": "array", "items": _ref("schemas", _item)},
            "next_cursor": _nullable("string", description="Pass as `cursor` for the next page"),
        }
    )


def _text_param(name: str, description: str) -> dict:
    schema = {"type": "string", "maxLength": 100, "pattern": "^[^\\u0000]*$"}
    return {"name": name, "in": "query", "schema": schema, "description": description}


PARAMETERS = {
    "Iccid": {
        "name": "iccid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": f"^{ICCID_PATTERN.pattern}$"},
    },
    "Limit": {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    "Cursor": {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string"},
        "description": "The opaque `next_cursor` of the previous page",
    },
    "Start": {
        "name": "start",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": f"First day (default: 29 days before end); at most {MAX_USAGE_DAYS} days",
    },
    "End": {
        "name": "end",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "Last day, inclusive (default: today, UTC)",
    },
    "Q": _text_param("q", "Partial match on ICCID, IMSI, MSISDN, IMEI, IP address or label"),
    "Status": _text_param("status", "Exact status, e.g. Enabled or Disabled"),
    "Label": _text_param("label", "Partial match on the label (case-insensitive)"),
    "QuotaState": {
        "name": "quota_state",
        "in": "query",
        "schema": {"enum": [*QUOTA_STATES, ""]},
        "description": "ok (20 % or more left), low (less than 20 %) or exhausted; empty: all",
    },
    "Online": {
        "name": "online",
        "in": "query",
        "schema": OPTIONAL_BOOLEAN,
        "description": "true: online now; false: offline; empty: all",
    },
    "Connectivity": {
        "name": "connectivity",
        "in": "query",
        "schema": {"enum": [*CONNECTIVITY_STATES, ""]},
        "description": "The network state 1NCE reports: online, attached, offline or blocked"
        " (blocked: 1NCE's API v2 only); empty: all",
    },
    "Country": _text_param("country", "Exact country, e.g. Germany"),
    "Operator": _text_param("operator", "Exact network operator, e.g. Telekom"),
    "HasLabel": {
        "name": "has_label",
        "in": "query",
        "schema": OPTIONAL_BOOLEAN,
        "description": "true: only SIMs with a label; false: only SIMs without one; empty: all",
    },
    "Unseen": {
        "name": "unseen",
        "in": "query",
        "schema": {"type": "string", "pattern": "^([1-9][0-9]{0,3}[hd])?$"},
        "description": "Last seen on the network longer ago than this, or never: hours or"
        " days, e.g. 24h, 7d; empty: all",
    },
    "Silent": {
        "name": "silent",
        "in": "query",
        "schema": {"type": "string", "pattern": "^([1-9][0-9]{0,3}d)?$"},
        "description": "Silent for at least this many days: enabled SIMs whose last data or SMS"
        " traffic is that many days ago or more (the fleet summary's sims_silent is 3d);"
        " empty: all",
    },
    "QuotaEnds": {
        "name": "quota_ends",
        "in": "query",
        "schema": {"type": "string", "pattern": "^([1-9][0-9]{0,3}d)?$"},
        "description": "The data quota ends (forecast.ends_on: runs out or expires) from today"
        " to this many days ahead, e.g. 30d (the fleet summary's sims_quota_ending_30d);"
        " empty: all",
    },
}


def _problem(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("schemas", "Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
RESPONSES = {
    "BadRequest": _problem("A parameter is invalid; `field` names it"),
    "Unauthorized": _problem("Missing, unknown, revoked or expired API key"),
    "Forbidden": _problem("The key's scope does not allow this route"),
    "NotFound": _problem("No SIM has this ICCID"),
    "ValidationError": _problem("A body field is invalid; `field` names it"),
    "RateLimited": _problem("The key's rate limit is used up", RATE_HEADERS | RETRY_AFTER),
    "UpstreamError": _problem("1NCE refused or failed the change"),
    "UpstreamUnavailable": _problem("1NCE is unavailable or not configured", RETRY_AFTER),
    "NotModified": {"description": "The representation matches `If-None-Match`"},
}


def _ok(schema: str, description: str) -> dict:
    return {
        "description": description,
        "headers": RATE_HEADERS | {"ETag": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": _ref("schemas", schema)}},
    }


def _read(summary: str, schema: str, params: list[str], *, sim: bool = False) -> dict:
    responses = {
        "200": _ok(schema, summary),
        "304": _ref("responses", "NotModified"),
        "400": _ref("responses", "BadRequest"),
        "401": _ref("responses", "Unauthorized"),
        "429": _ref("responses", "RateLimited"),
    }
    if sim:
        responses["404"] = _ref("responses", "NotFound")
    return {
        "summary": summary,
        "parameters": [_ref("parameters", p) for p in params],
        "responses": responses,
    }


def _write(summary: str, body: str | None, *, required: bool = True) -> dict:
    operation = {
        "summary": summary,
        "parameters": [_ref("parameters", "Iccid")],
        "responses": {
            "202": {
                "description": "1NCE accepted the change; it applies it shortly",
                "content": {"application/json": {"schema": _ref("schemas", "PendingChange")}},
            },
            "400": _ref("responses", "BadRequest"),
            "401": _ref("responses", "Unauthorized"),
            "403": _ref("responses", "Forbidden"),
            "404": _ref("responses", "NotFound"),
            "422": _ref("responses", "ValidationError"),
            "429": _ref("responses", "RateLimited"),
            "502": _ref("responses", "UpstreamError"),
            "503": _ref("responses", "UpstreamUnavailable"),
        },
    }
    if body:
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref("schemas", body)}},
        }
    return operation


TOPUP_PATH = "/api/v1/sims/{iccid}/topup"
TOPUP_DESCRIPTION = (
    "1NCE's top-up takes no amount: it orders the plan's standard top-up package, an order "
    "1NCE invoices. What that package holds and costs is in 1NCE's product list (its Product "
    "Information API, v1 only), which Simfleet caches for a day: "
)


def with_topup_offer(spec: dict, offer: str) -> dict:
    """`spec` with the top-up described by the current offer (webapp.products.describe_topup).

    The cached document is left as it is: only the objects on the way to the operation are
    copied.
    """
    operation = spec["paths"][TOPUP_PATH]["post"] | {"description": TOPUP_DESCRIPTION + offer}
    paths = spec["paths"] | {TOPUP_PATH: spec["paths"][TOPUP_PATH] | {"post": operation}}
    return spec | {"paths": paths}


@cache
def build_openapi() -> dict:
    """The OpenAPI 3.1 document of `/api/v1`."""
    filters = [
        "Q", "Status", "QuotaState", "Online", "Connectivity", "Label", "Country", "Operator",
        "HasLabel",
    ]  # fmt: skip
    filters += ["Unseen", "Silent", "QuotaEnds", "Limit", "Cursor"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Simfleet API",
            "version": "1.0.0",
            "description": (
                "The SIM fleet for scripts. Send an API key as `Authorization: Bearer <key>` "
                "(or `X-API-Key`). Lists are keyset-paged: follow `next_cursor` until null. "
                "MB values are JSON numbers with at most 6 decimals; times are ISO 8601 UTC."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
        "paths": {
            "/api/v1/sims": {"get": _read("List SIMs", "SimList", filters)},
            "/api/v1/sims/{iccid}": {
                "get": _read("One SIM", "Sim", ["Iccid"], sim=True),
                "patch": _write("Change status, label or IMEI lock", "SimUpdate"),
            },
            "/api/v1/sims/{iccid}/usage": {
                "get": _read(
                    "A SIM's usage per day", "UsageList", ["Iccid", "Start", "End"], sim=True
                )
            },
            "/api/v1/sims/{iccid}/events": {
                "get": _read(
                    "A SIM's events, newest first",
                    "EventList",
                    ["Iccid", "Limit", "Cursor"],
                    sim=True,
                )
            },
            "/api/v1/sims/{iccid}/reset": {"post": _write("Reset connectivity", None)},
            TOPUP_PATH: {"post": _write("Order a top-up", "TopUp", required=False)},
            "/api/v1/sims/{iccid}/sms": {"post": _write("Send an SMS to the device", "Sms")},
            "/api/v1/fleet/summary": {"get": _read("Fleet KPIs", "FleetSummary", [])},
            "/api/v1/fleet/usage": {
                "get": _read("Fleet usage per day", "UsageList", ["Start", "End"])
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "sf_<prefix>_<secret>",
                },
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
        },
    }


def list_operations(spec: dict) -> list[dict]:
    """Every operation of `spec` with its method, path, scope and parameters, for the docs page."""
    operations = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = [
                spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                for p in operation.get("parameters", [])
            ]
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "scope": "write"
                    if method != "get"
                    else ("none" if operation.get("security") == [] else "read"),
                    "parameters": parameters,
                    "statuses": sorted(operation["responses"]),
                }
            )
    return operations


def schema_fields(spec: dict, name: str) -> list[dict]:
    """The fields of a schema of `spec`, nested objects flattened to dotted names, for the docs."""
    fields: list[dict] = []

    def walk(schema: dict, prefix: str) -> None:
        for field, definition in schema.get("properties", {}).items():
            kind = definition.get("type", "object")
            kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k != "null"]
            fields.append(
                {
                    "name": prefix + field,
                    "type": " or ".join(kinds) + (" or null" if kinds != [kind] else ""),
                    "description": definition.get("description", ""),
                }
            )
            if "properties" in definition:
                walk(definition, f"{prefix}{field}.")

    walk(spec["components"]["schemas"][name], "")
    return fields
