"""The 1NCE v2 wire format, as the v2 OpenAPI spec describes it (no v2 traffic was recorded).

v2 nests what v1 sent flat, adds internal numeric ids (SIM, endpoint, IMSI, organisation,
quota) and uses five timestamp styles: `…000+0000` (activation), `…000Z` (SMS, events, PDP
`created`, quota expiry), `…Z` without milliseconds (quota `created_at`) and
`YYYY-MM-DD HH:MM:SS` (location). Where the spec leaves a value open (event type ids beyond
1 and 4, tunnel ids, MME names) the simulator makes up stable, plausible ones.
"""

from datetime import datetime
from decimal import Decimal

from simulator import identity, wire
from simulator.activity import REJECTED
from simulator.catalog import Network
from simulator.records import (
    Connectivity,
    Event,
    Quota,
    Session,
    SimRecord,
    SmsMessage,
    UsageDay,
    megabytes,
)

ORGANISATION = {"id": 1_000_017, "name": "Simfleet Demo GmbH"}
# SimsQuota.status as the schema text maps it (unlike the SIM's quota_status ids).
QUOTA_STATES = {0: "EXHAUSTED", 1: "ACTIVE", 2: "EXPIRED"}
SEVERITIES = {"Info": (0, "INFO"), "Warn": (1, "WARN")}
NETWORK_SOURCE = {"id": 0, "description": "Network"}
POLICY_SOURCE = {"id": 1, "description": "Policy"}
API_SOURCE = {"id": 2, "description": "API"}
# v1 event text -> (event type id, type, v2 description); 1 and 4 are the documented ids.
NETWORK_EVENTS = {
    "Update location": (1, "Update location", "Location updated."),
    "Purge location": (2, "Purge location", "Location purged."),
    "Create PDP Context": (3, "Create PDP Context", "PDP Context created."),
    "Delete PDP Context": (4, "Delete PDP Context", "PDP Context deleted."),
    REJECTED: (5, "Create PDP Context failed", "PDP Context request rejected."),
}
LOCATION_EVENTS = ("Update location", "Purge location")
STATUS_CHANGE = (6, "SIM status changed")
POLICY_NOTICE = (7, "Quota and limit notification")
DIVERGED_SUFFIX = " [v2]"
GGSN_ADDRESSES = ("185.119.76.10", "185.119.76.11")
REGION = "eu-central-1"
APN = "iot.1nce.net"
RAT_4G = {"rat_type_id": "6", "description": "4G"}


def iso_seconds(moment: datetime) -> str:
    """`2024-08-24T13:13:21Z`: quota `created_at`, without milliseconds."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}Z"


def internal_ids(record: SimRecord) -> tuple[int, int, int]:
    """(sim id, endpoint id, IMSI id): v2's internal numbers, stable per SIM."""
    serial = identity.serial_of(record.iccid) or 0
    return serial, 100_000_000 + serial, 200_000_000 + serial


def sim(record: SimRecord, diverged: bool = False) -> dict:
    """A SimsSim: v1's fields plus `iccid_with_luhn` and `current_imsi` (spec fields)."""
    body = {"iccid": record.iccid, "iccid_with_luhn": record.iccid_with_luhn}
    body.update(wire.sim(record))
    body["current_imsi"] = record.imsi
    if diverged:
        body["label"] = f"{record.label or ''}{DIVERGED_SUFFIX}"
    return body


def status(record: SimRecord, state: Connectivity) -> dict:
    """A SimsConnectivityDetail: status objects, v2 location, `pdp_contexts` array."""
    limit = "REACHED" if state.traffic_limit_reached else "NOT_REACHED"
    sessions = [] if state.session is None else [pdp_context(record, state.network, state.session)]
    return {
        "status": {"description": state.status},
        "data_traffic_limit_state": {"description": limit},
        "location": location(record, state),
        "pdp_contexts": sessions,
        "services": ["GPRS"],
    }


def realm(network: Network) -> str:
    """The network's EPC realm."""
    return f"epc.mnc{int(network.mnc):03d}.mcc{network.mcc}.3gppnetwork.org"


def location(record: SimRecord, state: Connectivity) -> dict:
    """v2 location: no `last_updated_gprs` or `*_np`, MME/SGSN names, `operator.mnc`."""
    network = state.network
    return {
        "iccid": record.iccid,
        "imsi": record.imsi,
        "last_updated": wire.plain_time(state.last_updated),
        "sgsn_number": network.sgsn_number,
        "vlr_number": network.sgsn_number[:-3] + "900",
        "operator_id": str(network.operator_id),
        "msc": network.sgsn_number[:-3] + "901",
        "sgsn_ip_address": network.sgsn_ip_address,
        "mme_name": f"mme01.{realm(network)}",
        "mme_realm": realm(network),
        "sgsn_name": f"sgsn01.{realm(network)}",
        "sgsn_realm": realm(network),
        "operator": {
            "id": network.operator_id,
            "name": network.operator,
            "mnc": network.mnc,
            "country": {
                "id": network.country_id,
                "name": network.country,
                "iso_code": network.iso_code,
            },
        },
        "country": country(network, "country_id"),
    }


def country(network: Network, id_key: str = "id") -> dict:
    """A country object; /status names its id `country_id` (a string), events `id` (an int)."""
    country_id = str(network.country_id) if id_key == "country_id" else network.country_id
    return {
        id_key: country_id,
        "name": network.country,
        "country_code": network.country_code,
        "mcc": network.mcc,
        "iso_code": network.iso_code,
    }


def user_location(network: Network) -> dict:
    """A GTPv2 user location (only one of gtp_v1_uli / gtp_v2_uli is ever sent)."""
    lac, ci = wire.location_area(network), wire.cell_id(network)
    return {
        "cgi": {"lac": lac, "ci": ci},
        "sai": {"lac": lac, "sac": ci},
        "rai": {"lac": lac, "rac": lac % 256},
        "tac": lac,
        "eci": ci * 256 + 1,
        "lac": lac,
        "menbi": ci,
        "emenbi": ci,
    }


def pdp_context(record: SimRecord, network: Network, session: Session) -> dict:
    """A SimsPdpContext: string ids, `tx_teid_*`, `created` as `…000Z`, `rat_type` object."""
    sim_id, endpoint_id, imsi_id = internal_ids(record)
    tunnel = int(session.created.timestamp()) % 10**9
    body: dict[str, object] = {
        "pdp_context_id": str(tunnel),
        "endpoint_id": str(endpoint_id),
        "tariff_id": "557",
        "ratezone_id": str(network.country_id),
        "organisation_id": str(ORGANISATION["id"]),
        "imsi_id": str(imsi_id),
        "imsi": record.imsi,
        "sim_id": str(sim_id),
        "tx_teid_data_plane": tunnel * 2 + 1,
        "tx_teid_control_plane": tunnel * 2,
        "rx_teid": tunnel + 7,
        "rx_teid_data_plane": tunnel * 3 + 1,
        "rx_teid_control_plane": tunnel * 3,
        "sgsn_control_plane_ip_address": network.sgsn_ip_address,
        "sgsn_data_plane_ip_address": network.sgsn_ip_address,
        "ggsn_control_plane_ip_address": GGSN_ADDRESSES[0],
        "ggsn_data_plane_ip_address": GGSN_ADDRESSES[1],
        "gtp_version": "2",
        "nsapi": 5,
        "created": wire.iso_zulu(session.created),
        "ue_ip_address": session.ue_ip_address,
        "mcc": network.mcc,
        "mnc": network.mnc,
        "operator_id": str(network.operator_id),
        "gtp_v2_uli": user_location(network),
        "rat_type": RAT_4G,
        "region": REGION,
        "apn": APN,
        "ipcan_session_id": f"{tunnel:x}",
    }
    if record.imei is not None:
        body["imeisv"] = record.imei[:14] + "01"
    return body


def quota_state(value: Quota) -> int:
    """The SimsQuota status id: 0 exhausted, 1 active, 2 expired."""
    if value.expired:
        return 2
    return 0 if value.volume <= 0 else 1


def quota(value: Quota, service: str) -> dict:
    """A SimsQuota: `volume` can be negative, `accumulated_total_volume` counts top-ups."""
    state = quota_state(value)
    return {
        "id": value.id,
        "status": {"id": state, "description": QUOTA_STATES[state]},
        "volume": wire.json_number(value.volume.quantize(Decimal("0.000001"))),
        "total_volume": wire.json_number(value.total_volume),
        "accumulated_total_volume": wire.json_number(value.accumulated_total_volume),
        "last_volume_added": wire.json_number(value.last_volume_added),
        "service": service,
        "threshold_percentage": value.threshold_percentage,
        "threshold_volume": wire.json_number(value.total_volume * value.threshold_percentage / 100),
        "expiry_date": wire.iso_zulu(value.expiry_date),
        "created_at": iso_seconds(value.created_at or value.expiry_date),
    }


def event_kind(item: Event) -> tuple[int, str, str, dict]:
    """(type id, type, description, source) of an event."""
    if item.event_type in NETWORK_EVENTS:
        return (*NETWORK_EVENTS[item.event_type], NETWORK_SOURCE)
    if item.event_type.startswith("Status of SIM"):
        return (*STATUS_CHANGE, item.event_type, API_SOURCE)
    return (*POLICY_NOTICE, item.event_type, POLICY_SOURCE)


def event(record: SimRecord, item: Event) -> dict:
    """A v2 Event: nested type, source, severity, organisation, endpoint, SIM and IMSI."""
    type_id, type_name, description, source = event_kind(item)
    severity_id, severity = SEVERITIES.get(item.severity, (0, item.severity.upper()))
    sim_id, endpoint_id, imsi_id = internal_ids(record)
    body = {
        "id": item.id,
        "event_type": {"id": type_id, "description": type_name},
        "timestamp": wire.iso_zulu(item.timestamp),
        "alert": item.alert,
        "user": None,
        "description": description,
        "event_source": source,
        "event_severity": {"id": severity_id, "description": severity},
        "organisation": ORGANISATION,
        "endpoint": {
            "id": endpoint_id,
            "name": record.iccid,
            "ip_address": record.ip_address,
            "imei": record.imei,
        },
        "sim": {"id": sim_id, "iccid": record.iccid, "msisdn": record.msisdn},
        "imsi": {"id": imsi_id, "imsi": record.imsi},
    }
    if item.network is not None and source is NETWORK_SOURCE:
        body["detail"] = event_detail(item, item.network)
    return body


def event_detail(item: Event, network: Network) -> dict:
    """LocationDetail for location events, PdpContextDetail for PDP context events."""
    detail: dict[str, object] = {
        "id": network.operator_id,
        "name": network.operator,
        "country": country(network),
    }
    if item.event_type in LOCATION_EVENTS:
        tapcode = f"{network.iso_code.upper()}{network.operator[:3].upper()}"
        detail["tapcode"] = [{"id": network.operator_id, "tapcode": tapcode}]
        detail["mnc"] = [{"id": network.operator_id, "mnc": network.mnc}]
        return detail
    rx, tx = item.volume or (0, 0)
    detail["volume"] = {
        "tx": wire.json_number(megabytes(tx)),
        "rx": wire.json_number(megabytes(rx)),
        "total": wire.json_number(megabytes(rx + tx)),
    }
    if item.failure_cause is not None:
        detail["data_service_failure_cause"] = item.failure_cause
    detail["pdp_context"] = {
        "tunnel_created": wire.iso_zulu(item.timestamp),
        "gtp_v2_uli": user_location(network),
        "breakout_ip": GGSN_ADDRESSES[1],
        "region": REGION,
        "apn": APN,
    }
    return detail


def sms(record: SimRecord, message: SmsMessage) -> dict:
    """A v2 SimsSms: int `retry_count` and `msc`, `pid`, `gsm_map_error`, endpoint, sim_id."""
    sim_id, endpoint_id, _ = internal_ids(record)
    body = wire.sms(record, message)
    body.update(
        {
            "retry_count": int(body["retry_count"]),
            "gsm_map_error": None,
            "pid": 0,
            "endpoint": {"id": endpoint_id, "name": record.iccid},
            "sim_id": sim_id,
            "msc": int(body["msc"]),
        }
    )
    return body


def usage(days: list[UsageDay], shape: str) -> object:
    """Daily usage; assumed to keep v1's envelope ("stats"), or shaped by the fault setting."""
    rows = wire.usage(days)["stats"]
    if shape == "array":
        return rows[:-1]
    if shape == "unexpected":
        return {"usage_days": rows[:-1], "total": rows[-1]}
    return {"stats": rows}
