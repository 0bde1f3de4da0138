"""Ground-truth records the fleet hands out (what the API reports, as typed values)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from simulator.catalog import Network

MEGABYTE = Decimal(1_000_000)


def megabytes(volume_bytes: int) -> Decimal:
    """Bytes as an exact decimal number of MB (1NCE reports MB with up to six decimals)."""
    return Decimal(volume_bytes) / MEGABYTE


@dataclass(frozen=True, slots=True)
class Quota:
    """A data quota (volumes in MB) or SMS quota (volumes in messages).

    `volume` is what is left, below zero when the session that used the quota up ran on.
    """

    volume: Decimal
    total_volume: Decimal
    last_volume_added: Decimal
    expiry_date: datetime
    last_status_change_date: datetime
    status: int
    threshold_percentage: int = 20
    peak_throughput: int | None = None
    threshold_reached_date: datetime | None = None
    quota_exceeded_date: datetime | None = None
    id: int = 1
    accumulated_total_volume: Decimal = Decimal(0)
    created_at: datetime | None = None
    expired: bool = False

    @property
    def v1_volume(self) -> Decimal:
        """The volume as v1 reports it: never below zero (v2 shows a session's overrun)."""
        return max(self.volume, Decimal(0))


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One SIM as `GET /v1/sims/{iccid}` reports it; label and imei are None when unset."""

    iccid: str
    iccid_with_luhn: str
    imsi: str
    msisdn: str
    imei: str | None
    imei_lock: bool
    status: str
    label: str | None
    activation_date: datetime
    ip_address: str
    data_quota: Quota
    sms_quota: Quota
    profile: str

    @property
    def current_quota(self) -> int:
        """Total data volume of the current quota, whole MB."""
        return int(self.data_quota.total_volume)

    @property
    def quota_status(self) -> int:
        """Data quota status id (0 more than 20 % left, 1 less, 2 none)."""
        return self.data_quota.status

    @property
    def current_quota_sms(self) -> int:
        """Total SMS of the current quota."""
        return int(self.sms_quota.total_volume)

    @property
    def quota_status_sms(self) -> int:
        """SMS quota status id."""
        return self.sms_quota.status


@dataclass(frozen=True, slots=True)
class UsageDay:
    """Rated traffic of one UTC day: data in MB (rx, tx), SMS counts (MO, MT)."""

    day: date
    data_rx: Decimal
    data_tx: Decimal
    sms_mo: int
    sms_mt: int

    @property
    def data_volume(self) -> Decimal:
        """Data in both directions, MB."""
        return self.data_rx + self.data_tx

    @property
    def sms_volume(self) -> int:
        """SMS in both directions."""
        return self.sms_mo + self.sms_mt


@dataclass(frozen=True, slots=True)
class Event:
    """A SIM event; `id` is stable (the same on every request, on v1's and v2's view)."""

    timestamp: datetime
    event_type: str
    alert: bool = False
    severity: str = "Info"
    id: int = 0
    # The network the event happened on (a handover puts one SIM on two in one second).
    network: Network | None = None
    # Why a data session was refused (v2's data_service_failure_cause), for failed ones.
    failure_cause: str | None = None
    # Bytes received and sent in the session, for "Delete PDP Context" events.
    volume: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """An open PDP context (data session)."""

    created: datetime
    ue_ip_address: str


@dataclass(frozen=True, slots=True)
class Connectivity:
    """Attachment now: ONLINE, ATTACHED, OFFLINE or BLOCKED (v2 only), and where."""

    status: str
    network: Network
    last_updated: datetime
    last_updated_gprs: datetime
    session: Session | None
    # The account's monthly data limit stops this SIM's traffic (v2 data_traffic_limit_state).
    traffic_limit_reached: bool = False

    @property
    def blocked(self) -> bool:
        """Whether the network blocked the endpoint."""
        return self.status == "BLOCKED"

    @property
    def v1_status(self) -> str:
        """The status as v1 reports it: v1 has no BLOCKED and calls such SIMs OFFLINE."""
        return "OFFLINE" if self.blocked else self.status


@dataclass(slots=True)
class SmsMessage:
    """An SMS to (MT) or from (MO) the device; status 2 pending, 4 delivered, 6 expired."""

    id: int
    direction: str
    payload: str
    submitted_at: datetime
    expires_at: datetime
    status: int
    delivered_at: datetime | None = None
    source_address: str = "1NCE"
    source_address_type: int = 208
    dcs: int = 0
    udh: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """A purchase or top-up order."""

    order_number: int
    order_type: str
    order_date: datetime
    iccids: tuple[str, ...]
    product_id: int
    quantity: int
    amount_cents: int
    order_status: str = "COMPLETED"
    currency: str = "EUR"
