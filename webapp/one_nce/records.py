"""Typed, immutable records of what 1NCE returns, parsed from the real (quirky) wire format.

One parser per record reads both API versions: v1's flat strings and v2's nested objects.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Self, TypeVar

from webapp.one_nce.parsing import (
    RecordError,
    as_object,
    read_bool,
    read_date,
    read_decimal,
    read_int,
    read_label,
    read_list,
    read_nested,
    read_object,
    read_text,
    read_timestamp,
    require,
)

T = TypeVar("T")
Wire = Mapping[str, Any]
# v2's `data_traffic_limit_state.description`; anything else is read as unknown.
LIMIT_STATES = {"REACHED": True, "NOT_REACHED": False}


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """How much of a quota is left, as 1NCE buckets it (0: >20 %, 1: <20 %, 2: none)."""

    id: int | None
    description: str | None
    threshold_reached_date: datetime | None
    quota_exceeded_date: datetime | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a `quota_status` object."""
        return cls(
            id=read_int(data, "id"),
            description=read_text(data, "description"),
            threshold_reached_date=read_timestamp(data, "threshold_reached_date"),
            quota_exceeded_date=read_timestamp(data, "quota_exceeded_date"),
        )


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One SIM of the inventory; optional fields are None when 1NCE omits them."""

    iccid: str
    status: str | None
    label: str | None
    imsi: str | None
    msisdn: str | None
    imei: str | None
    imei_lock: bool | None
    ip_address: str | None
    activation_date: datetime | None
    iccid_with_luhn: str | None
    imsi_2: str | None
    current_imsi: str | None
    current_quota: Decimal | None
    quota_status: QuotaStatus | None
    current_quota_sms: Decimal | None
    quota_status_sms: QuotaStatus | None

    @property
    def enabled(self) -> bool:
        """Whether 1NCE reports the SIM as usable ("Enabled", or the legacy "Activated")."""
        return self.status in ("Enabled", "Activated")

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a SIM object; only the ICCID is required."""
        iccid = require(read_text(data, "iccid"), "iccid")
        if not iccid.isdigit():
            raise RecordError(f"iccid: not digits: {iccid[:30]!r}")
        return cls(
            iccid=iccid,
            status=read_label(data, "status"),
            label=read_text(data, "label"),
            imsi=read_text(data, "imsi"),
            msisdn=read_text(data, "msisdn"),
            imei=read_text(data, "imei"),
            imei_lock=read_bool(data, "imei_lock"),
            ip_address=read_text(data, "ip_address"),
            activation_date=read_timestamp(data, "activation_date"),
            iccid_with_luhn=read_text(data, "iccid_with_luhn"),
            imsi_2=read_text(data, "imsi_2"),
            current_imsi=read_text(data, "current_imsi"),
            current_quota=read_decimal(data, "current_quota"),
            quota_status=read_nested(data, "quota_status", QuotaStatus.from_wire),
            current_quota_sms=read_decimal(data, "current_quota_SMS"),
            quota_status_sms=read_nested(data, "quota_status_SMS", QuotaStatus.from_wire),
        )


@dataclass(frozen=True, slots=True)
class SimUpdate:
    """A change to one SIM for a bulk update; None leaves a field as it is."""

    iccid: str
    status: str | None = None
    label: str | None = None
    imei_lock: bool | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON object 1NCE expects, without the fields left unchanged."""
        changes = {"status": self.status, "label": self.label, "imei_lock": self.imei_lock}
        return {"iccid": self.iccid} | {k: v for k, v in changes.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Quota:
    """A data (MB) or SMS (count) quota: what is left, of how much, until when.

    `volume` may be negative (v2 says so); it is kept as sent. `total_volume` restarts at each
    top-up, `accumulated_total_volume` (v2) is the lifetime total. `state` is v2's ACTIVE,
    EXHAUSTED or EXPIRED; `peak_throughput` and `last_status_change_date` are v1 only.
    """

    volume: Decimal
    total_volume: Decimal | None
    expiry_date: datetime | None
    last_volume_added: Decimal | None
    last_status_change_date: datetime | None
    threshold_percentage: Decimal | None
    peak_throughput: int | None
    id: int | None
    state: str | None
    accumulated_total_volume: Decimal | None
    threshold_volume: Decimal | None
    service: str | None
    created_at: datetime | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse `/quota/data` or `/quota/sms`; the remaining volume is required."""
        return cls(
            volume=require(read_decimal(data, "volume"), "volume"),
            total_volume=read_decimal(data, "total_volume"),
            expiry_date=read_timestamp(data, "expiry_date"),
            last_volume_added=read_decimal(data, "last_volume_added"),
            last_status_change_date=read_timestamp(data, "last_status_change_date"),
            threshold_percentage=read_decimal(data, "threshold_percentage"),
            peak_throughput=read_int(data, "peak_throughput"),
            id=read_int(data, "id"),
            # The spec's ids for this status contradict its own example: only the text counts.
            state=read_label(data, "status"),
            accumulated_total_volume=read_decimal(data, "accumulated_total_volume"),
            threshold_volume=read_decimal(data, "threshold_volume"),
            service=read_text(data, "service"),
            created_at=read_timestamp(data, "created_at"),
        )


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One day of a SIM's usage: data in MB (rx/tx), SMS counts (MO = rx, MT = tx)."""

    day: date
    data_mb: Decimal | None
    data_rx_mb: Decimal | None
    data_tx_mb: Decimal | None
    sms: int | None
    sms_mo: int | None
    sms_mt: int | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse one `stats` row (not the TOTAL row)."""
        traffic = read_object(data, "data") or {}
        sms = read_object(data, "sms") or {}
        return cls(
            day=require(read_date(data, "date"), "date"),
            data_mb=read_decimal(traffic, "volume"),
            data_rx_mb=read_decimal(traffic, "volume_rx"),
            data_tx_mb=read_decimal(traffic, "volume_tx"),
            sms=read_int(sms, "volume"),
            sms_mo=read_int(sms, "volume_rx"),
            sms_mt=read_int(sms, "volume_tx"),
        )


def parse_usage(rows: Iterable[Any]) -> tuple[UsageRecord, ...]:
    """Parse the day rows of a `/usage` body (newest first, as sent), dropping the TOTAL row."""
    return tuple(
        UsageRecord.from_wire(as_object(row, "stats row"))
        for row in rows
        if not (isinstance(row, Mapping) and str(row.get("date", "")).upper() == "TOTAL")
    )


@dataclass(frozen=True, slots=True)
class PdpSession:
    """An open data session of a SIM (`duration` is v1 only)."""

    ue_ip_address: str | None
    rat_type: str | None
    created: datetime | None
    duration: str | None
    imeisv: str | None
    mcc: str | None
    mnc: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a v1 `pdp_context` object or one of v2's `pdp_contexts`."""
        return cls(
            ue_ip_address=read_text(data, "ue_ip_address"),
            rat_type=read_nested(data, "rat_type", lambda rat: read_text(rat, "description")),
            created=read_timestamp(data, "created"),
            duration=read_text(data, "duration"),
            imeisv=read_text(data, "imeisv"),
            mcc=read_text(data, "mcc"),
            mnc=read_text(data, "mnc"),
        )


@dataclass(frozen=True, slots=True)
class Connectivity:
    """Where and how a SIM is attached (`/status`); unknown status strings are kept.

    `status` is ONLINE, ATTACHED, OFFLINE or (v2) BLOCKED. `data_traffic_limit_reached` and
    `mnc` are v2 only, `last_updated_gprs` and the coordinates v1 only. `session` is the first
    open data session.
    """

    status: str
    services: tuple[str, ...]
    last_updated: datetime | None
    last_updated_gprs: datetime | None
    operator_id: int | None
    operator_name: str | None
    country_name: str | None
    country_iso: str | None
    mcc: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    sgsn_ip_address: str | None
    session: PdpSession | None
    mnc: str | None
    data_traffic_limit_reached: bool | None

    @property
    def online(self) -> bool:
        """Whether the SIM has an open data session."""
        return self.status == "ONLINE"

    @property
    def blocked(self) -> bool:
        """Whether 1NCE has blocked the endpoint (v2 reports it; v1 cannot)."""
        return self.status == "BLOCKED"

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a v1 (or v2: status object, pdp_contexts list) `/status` body."""
        location = read_object(data, "location") or {}
        operator = read_object(location, "operator") or {}
        country = read_object(location, "country") or {}
        return cls(
            status=require(read_label(data, "status"), "status"),
            services=tuple(str(service) for service in read_list(data, "services")),
            last_updated=read_timestamp(location, "last_updated"),
            last_updated_gprs=read_timestamp(location, "last_updated_gprs"),
            operator_id=_first(read_int(operator, "id"), read_int(location, "operator_id")),
            operator_name=read_text(operator, "name"),
            country_name=read_text(country, "name"),
            country_iso=_first(read_text(country, "iso_code"), read_text(country, "iso-code")),
            mcc=read_text(country, "mcc"),
            latitude=read_decimal(country, "latitude"),
            longitude=read_decimal(country, "longitude"),
            sgsn_ip_address=read_text(location, "sgsn_ip_address"),
            session=_read_session(data),
            mnc=read_text(operator, "mnc"),
            data_traffic_limit_reached=LIMIT_STATES.get(
                read_label(data, "data_traffic_limit_state") or ""
            ),
        )


def _first(*values: T | None) -> T | None:
    """The first value that is not None."""
    return next((value for value in values if value is not None), None)


def _read_inner(data: Wire, key: str, inner: str) -> str | None:
    """`data[key]` as text, or its `inner` field when it is a v2 object (`sim.iccid`)."""
    nested = data.get(key)
    return read_text(nested, inner) if isinstance(nested, Mapping) else read_text(data, key)


def _read_session(data: Wire) -> PdpSession | None:
    """The v1 `pdp_context` object, or the first of v2's `pdp_contexts`."""
    contexts = read_list(data, "pdp_contexts")
    if contexts:
        return PdpSession.from_wire(as_object(contexts[0], "pdp_contexts"))
    return read_nested(data, "pdp_context", PdpSession.from_wire)


@dataclass(frozen=True, slots=True)
class ConnectivityInfo:
    """The network's answer to a location query (`/connectivity_info`)."""

    success: bool | None
    state: str | None
    location_retrieved: bool | None
    age_of_location: int | None
    mcc: str | None
    mnc: str | None
    lac: int | None
    cell_id: int | None
    requested_at: datetime | None
    replied_at: datetime | None
    ussd_success: bool | None
    ussd_error: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a `/connectivity_info` body."""
        subscriber = read_object(data, "subscriber_info") or {}
        location = read_object(subscriber, "location") or {}
        cell = read_object(location, "cell_global_id") or {}
        ussd = read_object(data, "ussd_info") or {}
        return cls(
            success=read_bool(subscriber, "success"),
            state=read_text(subscriber, "state"),
            location_retrieved=read_bool(location, "current_location_retrieved"),
            age_of_location=read_int(location, "age_of_location"),
            mcc=read_text(cell, "mcc"),
            mnc=read_text(cell, "mnc"),
            lac=read_int(cell, "lac"),
            cell_id=read_int(cell, "cid"),
            requested_at=read_timestamp(data, "request_timestamp"),
            replied_at=read_timestamp(data, "reply_timestamp"),
            ussd_success=read_bool(ussd, "success"),
            ussd_error=read_text(ussd, "error"),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One SIM event; only the time and the type are guaranteed.

    `severity` is spelled the same for both versions ("Info", "Warn", ...; v2 sends "INFO").
    `id` (v2) is a string. `failure_cause` is v2's reason a data session or a location update
    failed, e.g. MONTHLY_USAGE_LIMIT_EXCEEDED or RAT_NOT_ALLOWED.
    """

    timestamp: datetime
    event_type: str
    id: str | None
    description: str | None
    severity: str | None
    alert: bool | None
    iccid: str | None
    imsi: str | None
    imei: str | None
    country: str | None
    operator: str | None
    mcc: str | None
    mnc: str | None
    failure_cause: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a v1 event (plain strings) or a v2 one (nested objects and a `detail`)."""
        # v2's detail is one of four shapes with no discriminator; only the location and
        # PDP context details name a country, and their `name` is the visited network's.
        detail = read_object(data, "detail") or {}
        place = read_object(detail, "country") or {}
        network = read_text(detail, "name") if place else None
        return cls(
            timestamp=require(read_timestamp(data, "timestamp"), "timestamp"),
            event_type=require(read_label(data, "event_type"), "event_type"),
            id=read_text(data, "id"),
            description=read_text(data, "description"),
            severity=_capitalized(read_label(data, "event_severity")),
            alert=read_bool(data, "alert"),
            iccid=_first(read_text(data, "iccid"), _read_inner(data, "sim", "iccid")),
            imsi=_read_inner(data, "imsi", "imsi"),
            imei=_first(read_text(data, "imei"), _read_inner(data, "endpoint", "imei")),
            country=_first(read_label(data, "country"), read_text(place, "name")),
            operator=_first(read_label(data, "operator"), network),
            mcc=_first(read_text(data, "mcc"), read_text(place, "mcc")),
            mnc=_first(read_text(data, "mnc"), _first_mnc(detail)),
            failure_cause=_first(
                read_text(detail, "data_service_failure_cause"),
                read_text(detail, "update_location_failure_reason"),
            ),
        )


def _capitalized(text: str | None) -> str | None:
    """One spelling for v1's "Info" and v2's "INFO"."""
    return text.strip().capitalize() if text else text


def _first_mnc(detail: Wire) -> str | None:
    """The first network code of a v2 location detail (`mnc: [{id, mnc}]`)."""
    codes = read_list(detail, "mnc")
    return read_text(as_object(codes[0], "mnc"), "mnc") if codes else None


@dataclass(frozen=True, slots=True)
class Sms:
    """One MT or MO SMS of a SIM; `id` and `msc` are text whether sent as numbers or strings."""

    id: str
    sms_type: str | None
    status: str | None
    status_id: int | None
    payload: str | None
    source_address: str | None
    source_address_type: int | None
    iccid: str | None
    msisdn: str | None
    submit_date: datetime | None
    delivery_date: datetime | None
    expiry_date: datetime | None
    final_date: datetime | None
    retry_count: int | None
    dcs: int | None
    udh: str | None
    msc: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a v1 or v2 SMS object; the id is required."""
        status = read_object(data, "status") or {}
        address_type = read_object(data, "source_address_type") or {}
        return cls(
            id=require(read_text(data, "id"), "id"),
            sms_type=read_label(data, "sms_type"),
            status=read_text(status, "description"),
            status_id=read_int(status, "id"),
            payload=read_text(data, "payload"),
            source_address=read_text(data, "source_address"),
            source_address_type=read_int(address_type, "id"),
            iccid=read_text(data, "iccid"),
            msisdn=read_text(data, "msisdn"),
            submit_date=read_timestamp(data, "submit_date"),
            delivery_date=read_timestamp(data, "delivery_date"),
            expiry_date=read_timestamp(data, "expiry_date"),
            final_date=read_timestamp(data, "final_date"),
            retry_count=read_int(data, "retry_count"),
            dcs=read_int(data, "dcs"),
            udh=read_text(data, "udh"),
            msc=read_text(data, "msc"),
        )


@dataclass(frozen=True, slots=True)
class Limit:
    """A self-set monthly limit (or one selectable option): `limit` in `unit`."""

    id: int
    limit: Decimal | None
    unit: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a `{id, limit, unit}` object."""
        return cls(
            id=require(read_int(data, "id"), "id"),
            limit=read_decimal(data, "limit"),
            unit=read_text(data, "unit"),
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """The account-wide monthly limits for data, MT and MO SMS."""

    data: Limit | None
    sms_mt: Limit | None
    sms_mo: Limit | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a `/sims/limits` body."""
        return cls(
            data=read_nested(data, "data", Limit.from_wire),
            sms_mt=read_nested(data, "smsMt", Limit.from_wire),
            sms_mo=read_nested(data, "smsMo", Limit.from_wire),
        )


@dataclass(frozen=True, slots=True)
class OrderedProduct:
    """A product line of an order."""

    product_id: int
    quantity: int | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a `{product_id, quantity}` object."""
        return cls(
            product_id=require(read_int(data, "product_id"), "product_id"),
            quantity=read_int(data, "quantity"),
        )


@dataclass(frozen=True, slots=True)
class Order:
    """An order (SIMs, top-ups, tariff changes) and its invoice."""

    order_number: str
    order_type: str | None
    order_status: str | None
    order_date: datetime | None
    invoice_number: str | None
    invoice_amount: Decimal | None
    currency: str | None
    iccids: tuple[str, ...]
    products: tuple[OrderedProduct, ...]

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse an order object; the order number is required."""
        return cls(
            order_number=require(read_text(data, "order_number"), "order_number"),
            order_type=read_text(data, "order_type"),
            order_status=read_text(data, "order_status"),
            order_date=read_timestamp(data, "order_date"),
            invoice_number=read_text(data, "invoice_number"),
            invoice_amount=read_decimal(data, "invoice_amount"),
            currency=read_text(data, "currency"),
            iccids=tuple(
                require(read_text(as_object(sim, "sims"), "iccid"), "sims.iccid")
                for sim in read_list(data, "sims")
            ),
            products=tuple(
                OrderedProduct.from_wire(as_object(line, "products"))
                for line in read_list(data, "products")
            ),
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """A one-time or recurring net price of a product."""

    name: str | None
    amount_net: Decimal | None
    currency: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a `{name, amount_net, currency}` object."""
        return cls(
            name=read_text(data, "name"),
            amount_net=read_decimal(data, "amount_net"),
            currency=read_text(data, "currency"),
        )


@dataclass(frozen=True, slots=True)
class Product:
    """A product that can be ordered."""

    id: int
    name: str | None
    material: str | None
    package_size: int | None
    min_quantity: int | None
    max_quantity: int | None
    min_contract_duration: int | None
    one_time_charges: tuple[Charge, ...]
    recurring_charges: tuple[Charge, ...]

    @classmethod
    def from_wire(cls, data: Wire) -> Self:
        """Parse a product object; the id is required."""
        return cls(
            id=require(read_int(data, "id"), "id"),
            name=read_text(data, "product"),
            material=read_text(data, "material"),
            package_size=read_int(data, "package_size"),
            min_quantity=read_int(data, "minQuantity"),
            max_quantity=read_int(data, "maxQuantity"),
            min_contract_duration=read_int(data, "min_contract_duration"),
            one_time_charges=_charges(data, "one_time_charges"),
            recurring_charges=_charges(data, "recurring_charges"),
        )


def _charges(data: Wire, key: str) -> tuple[Charge, ...]:
    return tuple(Charge.from_wire(as_object(item, key)) for item in read_list(data, key))


@dataclass(frozen=True, slots=True)
class Reject:
    """A list item that could not be parsed, kept raw so the caller can log it and move on."""

    raw: Any
    error: str

    @property
    def iccid(self) -> str | None:
        """The item's ICCID when it has a readable one, for the log line."""
        value = self.raw.get("iccid") if isinstance(self.raw, Mapping) else None
        return str(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class ListPage(Generic[T]):
    """One page of a list endpoint: the records that parsed, and the items that did not."""

    number: int
    total_pages: int | None
    total_count: int | None
    records: tuple[T, ...]
    rejects: tuple[Reject, ...]


def parse_items(
    items: Iterable[Any], parse: Callable[[Wire], T], stop: Callable[[T], bool] | None = None
) -> tuple[list[T], list[Reject], bool]:
    """Parse each list item on its own, so one bad item is rejected instead of the page.

    With `stop`, parsing ends before the first record it accepts; the flag says so.
    """
    records: list[T] = []
    rejects: list[Reject] = []
    for item in items:
        try:
            record = parse(as_object(item))
        except RecordError as exc:
            rejects.append(Reject(raw=item, error=str(exc)))
            continue
        if stop is not None and stop(record):
            return records, rejects, True
        records.append(record)
    return records, rejects, False
