"""The 1NCE v1 wire format, quirks included, as recorded in real traffic."""

from datetime import datetime, timedelta
from decimal import Decimal

from simulator.catalog import Network
from simulator.records import (
    Connectivity,
    Event,
    Order,
    Quota,
    Session,
    SimRecord,
    SmsMessage,
    UsageDay,
)

QUOTA_DESCRIPTIONS = {
    0: "More than 20% available",
    1: "Less than 20% available",
    2: "No volume available",
}
SMS_STATUSES = {2: "PENDING", 4: "DELIVERED", 5: "FAILED", 6: "EXPIRED"}
SOURCE_ADDRESS_TYPES = {145: "International", 161: "National", 208: "Alphanumeric"}
RAT_TYPES = {6: "4G"}
REPLY_DELAY = timedelta(milliseconds=202)
SHIPPING_ADDRESS = {
    "salutation": "1",
    "first_name": "Fleet",
    "last_name": "Manager",
    "company": "Simfleet Demo GmbH",
    "street": "Hafenstraße",
    "house_number": "1",
    "zip": "20457",
    "city": "Hamburg",
    "country": "DE",
}


def iso_millis(moment: datetime) -> str:
    """`2021-08-26T12:13:06.000+0000`: how 1NCE writes activation dates and event times."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def iso_zulu(moment: datetime) -> str:
    """`2021-08-26T12:13:06.000Z`: the SMS date style of the spec."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def plain_time(moment: datetime) -> str:
    """`2021-08-26 12:13:22`: quota and location dates (no T, no zone)."""
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def decimal_text(value: Decimal) -> str:
    """An exact decimal as 1NCE writes volumes in usage: `0`, `0.004879`, `12.5`."""
    return format(value.normalize(), "f")


def float_text(value: float) -> str:
    """A float summed the way 1NCE sums TOTAL rows, floating noise included."""
    if value == int(value):
        return str(int(value))
    text = repr(value)
    return text if "e" not in text else f"{value:.6f}".rstrip("0")


def json_number(value: Decimal) -> int | float:
    """A JSON number: integral values without a fraction (`500`), others as floats."""
    return int(value) if value == value.to_integral_value() else float(value)


def quota_status(value: Quota) -> dict:
    """The `quota_status` object of a SIM (dates only once a threshold was passed)."""
    body: dict[str, object] = {"id": value.status, "description": QUOTA_DESCRIPTIONS[value.status]}
    if value.status >= 1 and value.threshold_reached_date is not None:
        body["threshold_reached_date"] = plain_time(value.threshold_reached_date)
    if value.status == 2 and value.quota_exceeded_date is not None:
        body["quota_exceeded_date"] = plain_time(value.quota_exceeded_date)
    return body


def sim(record: SimRecord) -> dict:
    """A SIM object; `imei` and `label` keys are left out when unset, as 1NCE does."""
    body: dict[str, object] = {
        "iccid": record.iccid,
        "imsi": record.imsi,
        "msisdn": record.msisdn,
    }
    if record.imei is not None:
        body["imei"] = record.imei
    body.update(
        {
            "imei_lock": record.imei_lock,
            "status": record.status,
            "activation_date": iso_millis(record.activation_date),
            "ip_address": record.ip_address,
            "current_quota": record.current_quota,
            "quota_status": quota_status(record.data_quota),
            "current_quota_SMS": record.current_quota_sms,
            "quota_status_SMS": quota_status(record.sms_quota),
        }
    )
    if record.label is not None:
        body["label"] = record.label
    return body


def quota(value: Quota) -> dict:
    """A data or SMS quota; dates as `YYYY-MM-DD HH:MM:SS`, not ISO as the spec claims.

    v1 never showed a negative volume, so a quota overrun reads as 0 left.
    """
    body: dict[str, object] = {
        "volume": json_number(value.v1_volume.quantize(Decimal("0.000001"))),
        "total_volume": json_number(value.total_volume),
        "expiry_date": plain_time(value.expiry_date),
    }
    if value.peak_throughput is not None:
        body["peak_throughput"] = value.peak_throughput
    body.update(
        {
            "last_volume_added": json_number(value.last_volume_added),
            "last_status_change_date": plain_time(value.last_status_change_date),
            "threshold_percentage": value.threshold_percentage,
        }
    )
    return body


def usage(days: list[UsageDay]) -> dict:
    """Usage rows newest first, volumes as decimal strings, and a trailing TOTAL row."""
    rows = [
        usage_row(
            day.day.isoformat(),
            decimal_text(day.data_volume),
            decimal_text(day.data_tx),
            decimal_text(day.data_rx),
            (day.sms_volume, day.sms_mt, day.sms_mo),
        )
        for day in sorted(days, key=lambda day: day.day, reverse=True)
    ]
    total_tx = sum(float(day.data_tx) for day in days)
    total_rx = sum(float(day.data_rx) for day in days)
    rows.append(
        usage_row(
            "TOTAL",
            float_text(total_tx + total_rx),
            float_text(total_tx),
            float_text(total_rx),
            (
                sum(day.sms_volume for day in days),
                sum(day.sms_mt for day in days),
                sum(day.sms_mo for day in days),
            ),
        )
    )
    return {"stats": rows}


def usage_row(label: str, volume: str, tx: str, rx: str, sms: tuple[int, int, int]) -> dict:
    """One usage row; SMS rx counts MO messages, tx counts MT ones."""
    return {
        "date": label,
        "data": {"volume": volume, "volume_tx": tx, "volume_rx": rx},
        "sms": {"volume": str(sms[0]), "volume_tx": str(sms[1]), "volume_rx": str(sms[2])},
    }


def status(record: SimRecord, state: Connectivity, now: datetime) -> dict:
    """The /status object as recorded: `iso_code` with underscore, int operator ids."""
    network = state.network
    body: dict[str, object] = {
        "status": state.v1_status,
        "location": {
            "iccid": record.iccid,
            "imsi": record.imsi,
            "last_updated": plain_time(state.last_updated),
            "last_updated_gprs": plain_time(state.last_updated_gprs),
            "sgsn_number": network.sgsn_number,
            "sgsn_number_np": "1",
            "operator_id": str(network.operator_id),
            "operator": {
                "id": network.operator_id,
                "name": network.operator,
                "country": {
                    "id": network.country_id,
                    "name": network.country,
                    "iso_code": network.iso_code,
                },
            },
            "country": {
                "country_id": str(network.country_id),
                "name": network.country,
                "country_code": network.country_code,
                "mcc": network.mcc,
                "iso_code": network.iso_code,
                "latitude": network.latitude,
                "longitude": network.longitude,
            },
            "sgsn_ip_address": network.sgsn_ip_address,
        },
        "services": ["GPRS"],
    }
    if state.session is not None:
        body["pdp_context"] = pdp_context(record, state, state.session, now)
    return body


def pdp_context(record: SimRecord, state: Connectivity, session: Session, now: datetime) -> dict:
    """The open PDP context of an ONLINE SIM (present only while a session is up)."""
    network = state.network
    seconds = max(0, int((now - session.created).total_seconds()))
    body: dict[str, object] = {
        "pdp_context_id": str(int(session.created.timestamp()) % 10**9),
        "created": plain_time(session.created),
        "imsi": record.imsi,
        "mcc": network.mcc,
        "mnc": network.mnc,
        "operator_id": str(network.operator_id),
        "sgsn_control_plane_ip_address": network.sgsn_ip_address,
        "sgsn_data_plane_ip_address": network.sgsn_ip_address,
        "ggsn_control_plane_ip_address": "185.119.76.10",
        "ggsn_data_plane_ip_address": "185.119.76.11",
        "ue_ip_address": session.ue_ip_address,
        "duration": f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        "rat_type": {"rat_type_id": 6, "description": RAT_TYPES[6]},
    }
    if record.imei is not None:
        body["imeisv"] = record.imei[:14] + "01"
    return body


def event(record: SimRecord, item: Event) -> dict:
    """A v1 event: free-text `event_type`, millisecond timestamp with `+0000`."""
    network = item.network
    assert network is not None, "events are served with their network"
    body: dict[str, object] = {
        "timestamp": iso_millis(item.timestamp),
        "event_type": item.event_type,
        "iccid": record.iccid,
        "imsi": record.imsi,
    }
    if record.imei is not None:
        body["imei"] = record.imei
    body.update(
        {
            "country": network.country,
            "operator": network.operator,
            "mcc": network.mcc,
            "mnc": network.mnc,
            "alert": item.alert,
            "event_severity": item.severity,
        }
    )
    return body


def sms(record: SimRecord, message: SmsMessage) -> dict:
    """A v1 SMS-Data object."""
    final = message.delivered_at or (message.expires_at if message.status == 6 else None)
    return {
        "id": message.id,
        "submit_date": iso_zulu(message.submitted_at),
        "delivery_date": iso_zulu(message.delivered_at) if message.delivered_at else None,
        "expiry_date": iso_zulu(message.expires_at),
        "final_date": iso_zulu(final) if final else None,
        "retry_date": None,
        "last_delivery_attempt": iso_zulu(message.delivered_at or message.submitted_at),
        "retry_count": "0",
        "source_address": message.source_address,
        "iccid": record.iccid,
        "msisdn": record.msisdn,
        "imsi": record.imsi,
        "msc": "491600190000",
        "dcs": message.dcs,
        "udh": message.udh,
        "payload": message.payload,
        "status": {"id": message.status, "description": SMS_STATUSES[message.status]},
        "sms_type": {"id": 1 if message.direction == "MT" else 2, "description": message.direction},
        "source_address_type": {
            "id": message.source_address_type,
            "description": SOURCE_ADDRESS_TYPES[message.source_address_type],
        },
    }


def order(item: Order, api_url: str) -> dict:
    """An order with its SIMs and products."""
    return {
        "order_number": item.order_number,
        "order_type": item.order_type,
        "order_date": iso_millis(item.order_date),
        "order_status": item.order_status,
        "invoice_number": f"INV{item.order_number}",
        "invoice_amount": f"{item.amount_cents // 100}.{item.amount_cents % 100:02d}",
        "currency": item.currency,
        "shipping_address": SHIPPING_ADDRESS,
        "sims": [
            {"iccid": iccid, "_links": [{"rel": "self", "href": f"{api_url}/v1/sims/{iccid}"}]}
            for iccid in item.iccids
        ],
        "products": [{"product_id": item.product_id, "quantity": item.quantity}],
    }


def connectivity_info(state: Connectivity, now: datetime, subscriber: bool, ussd: bool) -> dict:
    """The network-side location query answer (subscriber info and optional USSD info)."""
    body: dict[str, object] = {}
    if subscriber:
        body["subscriber_info"] = subscriber_info(state, now)
    if ussd:
        body["ussd_info"] = {"success": False, "error": "USSD not supported by the device"}
    body["request_timestamp"] = iso_millis(now)
    body["reply_timestamp"] = iso_millis(now + REPLY_DELAY)
    return body


def subscriber_info(state: Connectivity, now: datetime) -> dict:
    """MAP any-time-interrogation result: idle with a cell, or not reachable."""
    if state.v1_status == "OFFLINE":
        return {"success": True, "state": "net_det_not_reachable"}
    network = state.network
    minutes = max(0, int((now - state.last_updated).total_seconds() // 60))
    return {
        "success": True,
        "state": "assumed_idle",
        "location": {
            "current_location_retrieved": False,
            "age_of_location": minutes,
            "cell_global_id": {
                "mcc": network.mcc,
                "mnc": str(int(network.mnc)),
                "lac": location_area(network),
                "cid": cell_id(network),
            },
        },
    }


def location_area(network: Network) -> int:
    """The location area code of the network's simulated cell."""
    return 10_000 + network.operator_id * 331 % 50_000


def cell_id(network: Network) -> int:
    """The cell id of the network's simulated cell."""
    return 20_000 + network.country_id * 977 % 40_000


def spring_error(status: int, error: str, message: str, path: str, now: datetime) -> dict:
    """The Spring Boot error body of 1NCE's backend (`path` is the internal one)."""
    return {
        "timestamp": iso_millis(now),
        "status": status,
        "error": error,
        "message": message,
        "path": path.replace("/management-api", "/internal-global-api", 1),
    }
