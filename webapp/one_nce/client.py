"""The 1NCE Management API client: typed methods over paced, retried, token-sharing HTTP.

It speaks v2 by default and v1 on request, until 1NCE retires v1 at the end of 2026. What
differs between the two is the `API_VERSIONS` table; what v2 lacks, and what the client
assumes about it, is in docs/one-nce-client.md.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

import redis as redis_lib
import requests

from webapp.one_nce.errors import (
    OneNceAuthError,
    OneNceError,
    OneNceMalformedResponse,
    OneNceRejected,
    OneNceUnexpectedShape,
    OneNceUnsupported,
)
from webapp.one_nce.metrics import REJECTED_RECORDS, UNEXPECTED_SHAPES
from webapp.one_nce.pacing import RedisPacer
from webapp.one_nce.parsing import RecordError, ShapeError, as_object, is_iccid
from webapp.one_nce.records import (
    Connectivity,
    ConnectivityInfo,
    Event,
    Limit,
    Limits,
    ListPage,
    Order,
    Product,
    Quota,
    SimRecord,
    SimUpdate,
    Sms,
    UsageRecord,
    parse_items,
    parse_usage,
)
from webapp.one_nce.tokens import BasicAuth, BearerAuth, Grant, SharedToken
from webapp.one_nce.transport import (
    Call,
    RetryPolicy,
    Transport,
    decode_json,
    fill,
    header_int,
)

T = TypeVar("T")
R = TypeVar("R")
SIM_STATUSES = ("Enabled", "Disabled")
LIMIT_SERVICES = ("data", "smsMO", "smsMT")
PAYMENT_METHODS = ("banktransfer", "creditcard", "monthlyinvoice", "boleto")
REDIS_PREFIX = "onece"  # pacing and token keys (see OneNceClient.__init__)


@dataclass(frozen=True, slots=True)
class Paging:
    """How one list endpoint pages: the page-size parameter, its limit and default, fixed params."""

    size_param: str
    max_size: int
    default_size: int
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApiVersion:
    """What one API version does differently; the client's only switch on the version."""

    sims: Paging
    events: Paging
    sms: Paging
    # v1 sorts events newest first on request; v2 lost `sort` and its order is unknown, so a
    # v2 listing cannot stop at the first known event and reads every page instead.
    events_newest_first: bool
    # Bulk SIM update and bulk top-up: v2 has neither (the client loops per SIM instead).
    bulk_calls: bool
    # The self-set monthly limits: v2 has no such calls.
    limits: bool
    # v1 answers an unknown ICCID with 200 and an empty body; v2 with 404 NotFound.
    empty_is_not_found: bool


API_VERSIONS = {
    "v1": ApiVersion(
        sims=Paging("pageSize", max_size=100, default_size=100),
        events=Paging("pageSize", max_size=1000, default_size=100, params={"sort": "-timestamp"}),
        sms=Paging("pageSize", max_size=100, default_size=100),
        events_newest_first=True,
        bulk_calls=True,
        limits=True,
        empty_is_not_found=True,
    ),
    # v2's events and SMS send no paging headers: a short or empty page is the last.
    "v2": ApiVersion(
        sims=Paging("pageSize", max_size=100, default_size=100),
        events=Paging("pageSize", max_size=1000, default_size=1000),
        sms=Paging("per_page", max_size=1000, default_size=1000),
        events_newest_first=False,
        bulk_calls=False,
        limits=False,
        empty_is_not_found=False,
    ),
}
# Orders and products have no v2 group; whether /v1 keeps serving them after 2026 is unknown.
ORDER_PAGING = Paging("pageSize", max_size=10, default_size=10)

# ASSUMED, not known: v2's "Get daily usage for a single SIM" is listed by 1NCE, but its path,
# parameters and body were never read. Until a real answer confirms them, the client sends
# v1's request under /v2 and accepts v1's envelope or a bare array of v1's day rows; any other
# body raises OneNceUnexpectedShape and counts in simfleet_once_unexpected_shapes_total. The
# first real response confirms or corrects these three lines (and docs/one-nce-client.md).
USAGE_PATH = "/{iccid}/usage"
USAGE_PARAMS = ("start_dt", "end_dt")  # YYYY-MM-DD, v1's names
USAGE_ENVELOPE = "stats"  # {"stats": [day, ..., TOTAL]}, or the bare [day, ..., TOTAL]


class OneNceClient:
    """Typed access to the 1NCE Management API (v2, or v1); one instance is safe to share."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        redis: redis_lib.Redis,
        api_version: str = "v2",
        max_rps: float = 8.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        token_rps: float = 2.0,
        catalog_rps: float = 0.3,
        retry: RetryPolicy | None = None,
    ) -> None:
        if api_version not in API_VERSIONS:
            raise ValueError(f"api_version must be one of {', '.join(API_VERSIONS)}")
        retry = retry or RetryPolicy()
        base_url = base_url.rstrip("/")
        # The "onece" prefix predates the package's name; kept so that processes of two
        # releases share one pace (and one token) during a rolling upgrade.
        account_key = f"{REDIS_PREFIX}:{_digest(base_url, client_id)}"
        rates = {"sims": max_rps, "oauth": token_rps, "catalog": catalog_rps}
        self.base_url = base_url
        self.api_version = api_version
        self._version = API_VERSIONS[api_version]
        self._transport = Transport(
            base_url=base_url,
            pacers=_pacers(redis, base_url=base_url, account_key=account_key, rates=rates),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry,
        )
        self._basic = BasicAuth(client_id, client_secret)
        token = SharedToken(
            redis,
            key=f"{account_key}:token",
            fetch=self._fetch_token,
            # How long others wait for a refresh: a token call with all its retries.
            lock_timeout=(connect_timeout + read_timeout + retry.backoff_max) * (retry.retries + 1),
        )
        self._bearer = BearerAuth(token, client_secret)

    def __repr__(self) -> str:
        return f"OneNceClient({self.base_url!r}, {self.api_version!r})"

    @property
    def has_bulk_calls(self) -> bool:
        """Whether bulk update and bulk top-up are one call (v1) rather than one per SIM (v2)."""
        return self._version.bulk_calls

    # Inventory

    def list_sims(
        self, *, page_size: int | None = None, query: str | None = None
    ) -> Iterator[ListPage[SimRecord]]:
        """Stream the SIM inventory page by page, following X-Total-Pages; `query` is 1NCE's `q`."""
        call = self._sims("GET", params=fill({"q": query}))
        return self._pages(call, SimRecord.from_wire, self._version.sims, page_size)

    def get_sim(self, iccid: str) -> SimRecord:
        """One SIM; OneNceNotFound when 1NCE does not know the ICCID."""
        return self._get_record(self._sims("GET", "/{iccid}", _iccid(iccid)), SimRecord.from_wire)

    def update_sim(
        self,
        iccid: str,
        *,
        status: str | None = None,
        label: str | None = None,
        imei_lock: bool | None = None,
    ) -> None:
        """Change a SIM's status, label or IMEI lock, sending only what changes (applied later)."""
        self._put_sim(
            _checked_update(SimUpdate(iccid, status=status, label=label, imei_lock=imei_lock))
        )

    def update_sims(self, updates: Iterable[SimUpdate]) -> None:
        """Change many SIMs (applied later): one bulk call on v1, one paced PUT per SIM on v2.

        v2 has no bulk call, so its PUTs go in order, each through the shared pacer; the first
        failure stops them, and its exception note says how many SIMs were changed before.
        """
        checked = [_checked_update(update) for update in updates]
        if not self.has_bulk_calls:
            _one_per_sim(checked, self._put_sim)
            return
        wire = [update.to_wire() for update in checked]
        # Setting the same values twice is harmless, so this POST may be retried.
        self._send(self._sims("POST", json=wire, repeatable=True))

    # Per-SIM readings

    def get_connectivity(self, iccid: str) -> Connectivity:
        """Whether and where the SIM is attached, online or blocked (`/status`)."""
        call = self._sims("GET", "/{iccid}/status", _iccid(iccid))
        return self._get_record(call, Connectivity.from_wire)

    def get_connectivity_info(
        self, iccid: str, *, subscriber: bool = True, ussd: bool = False
    ) -> ConnectivityInfo:
        """Ask the network where the SIM is (`/connectivity_info`; on v2 assumed as v1)."""
        params = {"subscriber": str(subscriber).lower(), "ussd": str(ussd).lower()}
        call = self._sims("GET", "/{iccid}/connectivity_info", _iccid(iccid), params=params)
        return self._get_record(call, ConnectivityInfo.from_wire)

    def reset_connectivity(self, iccid: str) -> None:
        """Queue a connectivity reset (the device re-attaches)."""
        self._send(self._sims("POST", "/{iccid}/reset", _iccid(iccid)))

    def get_usage(
        self, iccid: str, *, start: date | None = None, end: date | None = None
    ) -> tuple[UsageRecord, ...]:
        """Daily usage, newest first, without the TOTAL row (on v2 as assumed in USAGE_PATH)."""
        params = fill(dict(zip(USAGE_PARAMS, (_day(start), _day(end)), strict=True)))
        call = self._sims("GET", USAGE_PATH, _iccid(iccid), params=params)
        return self._get(call, lambda body: parse_usage(_usage_rows(body)))

    def get_data_quota(self, iccid: str) -> Quota:
        """The data quota in MB: remaining volume, total, expiry."""
        call = self._sims("GET", "/{iccid}/quota/data", _iccid(iccid))
        return self._get_record(call, Quota.from_wire)

    def get_sms_quota(self, iccid: str) -> Quota:
        """The SMS quota in messages: remaining volume, total, expiry."""
        call = self._sims("GET", "/{iccid}/quota/sms", _iccid(iccid))
        return self._get_record(call, Quota.from_wire)

    def list_events(
        self,
        iccid: str,
        *,
        after_id: str | None = None,
        since: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[ListPage[Event]]:
        """Stream the SIM's events without the event `after_id` and those older than `since`.

        v1 lists newest first and stops at the first such event (so `after_id` also ends the
        listing). v2's order is unknown: every page is read and only those events are left out.
        Events exactly at `since` are returned again, so none sharing that second is lost.
        """
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")

        def is_known(event: Event) -> bool:
            return (after_id is not None and event.id == after_id) or (
                since is not None and event.timestamp < since
            )

        call = self._sims("GET", "/{iccid}/events", _iccid(iccid))
        paging = self._version.events
        if self._version.events_newest_first:
            return self._pages(call, Event.from_wire, paging, page_size, stop=is_known)
        pages = self._pages(call, Event.from_wire, paging, page_size)
        return (_without(page, is_known) for page in pages)

    # SMS

    def list_sms(self, iccid: str, *, page_size: int | None = None) -> Iterator[ListPage[Sms]]:
        """Stream the SIM's MT and MO SMS page by page."""
        call = self._sims("GET", "/{iccid}/sms", _iccid(iccid))
        return self._pages(call, Sms.from_wire, self._version.sms, page_size)

    def send_sms(
        self,
        iccid: str,
        *,
        payload: str,
        source_address: str | None = None,
        source_address_type: int | None = None,
        dcs: int | None = None,
        udh: str | None = None,
        expiry_date: datetime | None = None,
    ) -> str | None:
        """Queue an MT SMS to the device; returns 1NCE's SMS id when it names one.

        Not retried once it may have reached 1NCE: a repeat would send the SMS twice.
        """
        body = fill(
            {
                "payload": payload,
                "source_address": source_address,
                "source_address_type": fill({"id": source_address_type}) or None,
                "dcs": dcs,
                "udh": udh,
                "expiry_date": expiry_date.isoformat() if expiry_date else None,
            }
        )
        call = self._sims("POST", "/{iccid}/sms", _iccid(iccid), json=body)
        return _returned_id(self._send(call))

    def cancel_sms(self, iccid: str, sms_id: str) -> str:
        """Cancel a buffered, undelivered MT SMS; returns the id 1NCE confirms."""
        path_params = _iccid(iccid) | {"sms_id": str(sms_id)}
        call = self._sims("DELETE", "/{iccid}/sms/{sms_id}", path_params)
        return _returned_id(self._send(call)) or str(sms_id)

    # Money and limits

    def top_up(self, iccid: str, *, payment_method: str = "banktransfer") -> str | None:
        """Order the plan's standard top-up for a SIM; returns the order number when given.

        Not retried once it may have reached 1NCE: a repeat would order twice.
        """
        params = _payment(payment_method)
        call = self._sims("POST", "/{iccid}/topup", _iccid(iccid), params=params)
        return _returned_id(self._send(call))

    def top_up_sims(
        self, iccids: Iterable[str], *, payment_method: str = "banktransfer"
    ) -> str | None:
        """Order the standard top-up for many SIMs; returns the order number(s), ", "-joined.

        v1 places one bulk order, refused whole if one ICCID is unknown. v2 places one order
        per SIM in turn (its bulk top-up's body is unverified); the first failure stops them,
        and its exception note lists the orders already placed. Not retried once it may have
        reached 1NCE: a repeat would order twice.
        """
        body = [_iccid(iccid)["iccid"] for iccid in iccids]
        if not body:
            raise ValueError("a bulk top-up needs at least one ICCID")
        params = _payment(payment_method)
        if not self.has_bulk_calls:
            orders = _one_per_sim(body, partial(self.top_up, payment_method=payment_method))
            return ", ".join(order for order in orders if order) or None
        call = self._sims("POST", "/topup", params=params, json=body)
        return _returned_id(self._send(call))

    def get_limits(self) -> Limits:
        """The account-wide monthly limits for data, MT and MO SMS (v1 only)."""
        self._require_limits("get_limits")
        return self._get_record(self._sims("GET", "/limits"), Limits.from_wire)

    def set_limits(self, *, data_limit_id: int, sms_mt_limit_id: int, sms_mo_limit_id: int) -> None:
        """Choose the account-wide limits (ids of the options 1NCE offers; v1 only)."""
        self._require_limits("set_limits")
        body = {
            "dataLimitId": data_limit_id,
            "smsMtLimitId": sms_mt_limit_id,
            "smsMoLimitId": sms_mo_limit_id,
        }
        self._send(self._sims("POST", "/limits", json=body, repeatable=True))

    def list_limit_options(self, service: str) -> tuple[Limit, ...]:
        """The limits that can be chosen for `service` (data, smsMO or smsMT; v1 only)."""
        self._require_limits("list_limit_options")
        if service not in LIMIT_SERVICES:
            raise ValueError(f"service must be one of {', '.join(LIMIT_SERVICES)}")
        call = self._sims("GET", "/{service}/limits", {"service": service})
        return self._get(
            call, lambda body: tuple(map(Limit.from_wire, map(as_object, _items(body))))
        )

    # Orders and products (read-only, /v1 on both versions: there is no v2 group for them)

    def list_orders(self) -> Iterator[ListPage[Order]]:
        """Stream the account's orders page by page (1NCE allows 10 per page)."""
        call = Call("GET", "/v1/orders", group="catalog")
        return self._pages(call, Order.from_wire, ORDER_PAGING, None)

    def get_order(self, order_number: str) -> Order:
        """One order by its number."""
        call = Call("GET", "/v1/orders/{number}", {"number": str(order_number)}, group="catalog")
        return self._get_record(call, Order.from_wire)

    def list_products(self) -> ListPage[Product]:
        """The products that can be ordered (one unpaged list)."""
        call = Call("GET", "/v1/products", group="catalog")
        items, response = self._fetch(call, _items)
        records, rejects, _ = parse_items(items, Product.from_wire)
        return self._page(call, 1, response, records, rejects, total_pages=1)

    # Plumbing

    def _sims(
        self,
        method: str,
        path: str = "",
        path_params: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Call:
        """A call to `/{api_version}/sims{path}`, paced by the per-account `sims` limiter."""
        return Call(method, f"/{self.api_version}/sims{path}", path_params or {}, **options)

    def _put_sim(self, update: SimUpdate) -> None:
        """PUT one SIM's ICCID and the fields that change (v2 requires none of them)."""
        self._send(self._sims("PUT", "/{iccid}", _iccid(update.iccid), json=update.to_wire()))

    def _require_limits(self, method: str) -> None:
        """Refuse a limits call, before sending anything, on a version without them."""
        if not self._version.limits:
            raise OneNceUnsupported(
                f"{method}: API {self.api_version} has no limits calls (1NCE offers them on v1)"
            )

    def _send(self, call: Call) -> requests.Response:
        return self._transport.send(call, auth=self._bearer)

    def _fetch(self, call: Call, parse: Callable[[Any], T]) -> tuple[T, requests.Response]:
        """Send `call` and parse its JSON body; a body that does not parse is malformed."""
        response = self._send(call)
        empty_is_not_found = self._version.empty_is_not_found and "{iccid}" in call.endpoint
        body = decode_json(call, response, empty_is_not_found=empty_is_not_found)
        try:
            return parse(body), response
        except ShapeError as exc:
            UNEXPECTED_SHAPES.labels(endpoint=call.label).inc()
            raise OneNceUnexpectedShape(
                str(exc), endpoint=call.label, status=response.status_code, keys=exc.keys
            ) from None
        except RecordError as exc:
            raise OneNceMalformedResponse(
                str(exc), endpoint=call.label, status=response.status_code
            ) from None

    def _get(self, call: Call, parse: Callable[[Any], T]) -> T:
        return self._fetch(call, parse)[0]

    def _get_record(self, call: Call, parse: Callable[[Mapping[str, Any]], T]) -> T:
        return self._get(call, lambda body: parse(as_object(body)))

    def _pages(
        self,
        call: Call,
        parse: Callable[[Mapping[str, Any]], T],
        paging: Paging,
        page_size: int | None,
        *,
        stop: Callable[[T], bool] | None = None,
    ) -> Iterator[ListPage[T]]:
        """Fetch page after page until the last, a short or empty one, or a `stop` record.

        X-Total-Pages names the last page where 1NCE sends it; v2's events and SMS have no
        paging headers, so there a page shorter than asked for is the last.
        """
        size = min(page_size or paging.default_size, paging.max_size)
        fixed = {**paging.params, **(call.params or {})}
        number = 1
        while True:
            params = fixed | {"page": number, paging.size_param: size}
            items, response = self._fetch(replace(call, params=params), _items)
            records, rejects, stopped = parse_items(items, parse, stop)
            total_pages = header_int(response, "X-Total-Pages")
            yield self._page(call, number, response, records, rejects, total_pages=total_pages)
            if stopped or not items or _is_last(number, total_pages, len(items), size):
                return
            number += 1

    @staticmethod
    def _page(
        call: Call,
        number: int,
        response: requests.Response,
        records: list[T],
        rejects: list,
        *,
        total_pages: int | None,
    ) -> ListPage[T]:
        if rejects:
            REJECTED_RECORDS.labels(endpoint=call.label).inc(len(rejects))
        return ListPage(
            number=number,
            total_pages=total_pages,
            total_count=header_int(response, "X-Total-Count"),
            records=tuple(records),
            rejects=tuple(rejects),
        )

    def _fetch_token(self) -> Grant:
        """Ask the token endpoint for a new token with the client credentials."""
        call = Call(
            "POST",
            "/oauth/token",
            json={"grant_type": "client_credentials"},
            group="oauth",
            repeatable=True,
        )
        try:
            response = self._transport.send(call, auth=self._basic)
        except OneNceRejected as exc:
            # 1NCE answers bad credentials with 400 (BadCredentials), not 401.
            raise OneNceAuthError(exc.message, endpoint=exc.endpoint, status=exc.status) from None
        body = decode_json(call, response, empty_is_not_found=False)
        try:
            return Grant.from_wire(as_object(body, "token response"))
        except RecordError as exc:
            raise OneNceMalformedResponse(
                str(exc), endpoint=call.label, status=response.status_code
            ) from None


def _pacers(
    redis: redis_lib.Redis, *, base_url: str, account_key: str, rates: Mapping[str, float]
) -> dict[str, RedisPacer]:
    """One pacer per limit group, keyed the way 1NCE counts: per account or per client IP."""
    # /sims is limited per customer account; /oauth and /orders, /products per client IP.
    keys = {
        "sims": f"{account_key}:pace",
        "oauth": f"{REDIS_PREFIX}:{_digest(base_url)}:pace:oauth",
        "catalog": f"{REDIS_PREFIX}:{_digest(base_url)}:pace:catalog",
    }
    return {
        group: RedisPacer(redis, key=key, rate=rates[group], group=group)
        for group, key in keys.items()
    }


def _digest(*parts: str) -> str:
    """A short stable id for Redis keys (keeps the client id out of key names)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _iccid(iccid: str) -> dict[str, str]:
    """Path parameters for one SIM; refuses anything that is not an ICCID."""
    if not is_iccid(iccid):
        raise ValueError(f"not an ICCID: {iccid!r}")
    return {"iccid": iccid}


def _payment(method: str) -> dict[str, str]:
    """The query of a top-up order; refuses payment methods 1NCE does not take."""
    if method not in PAYMENT_METHODS:
        raise ValueError(f"payment_method must be one of {', '.join(PAYMENT_METHODS)}")
    return {"payment_method": method}


def _checked_update(update: SimUpdate) -> SimUpdate:
    _iccid(update.iccid)
    if update.status is not None and update.status not in SIM_STATUSES:
        raise ValueError(f"status must be one of {', '.join(SIM_STATUSES)}")
    return update


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _items(body: Any) -> list[Any]:
    """The items of a page: a plain array, or v1 events' `{events: [...]}`."""
    if isinstance(body, Mapping) and isinstance(body.get("events"), list):
        return body["events"]
    if isinstance(body, list):
        return body
    raise ShapeError("a list", body)


def _usage_rows(body: Any) -> list[Any]:
    """The day rows of a usage body: `{USAGE_ENVELOPE: [...]}` or the bare array."""
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping) and isinstance(body.get(USAGE_ENVELOPE), list):
        return body[USAGE_ENVELOPE]
    raise ShapeError(f'{{"{USAGE_ENVELOPE}": [...]}} or a list of days', body)


def _one_per_sim(items: Sequence[T], send: Callable[[T], R]) -> list[R]:
    """Send one call per SIM in order; a failure notes what was done before it."""
    done: list[R] = []
    for item in items:
        try:
            done.append(send(item))
        except OneNceError as exc:
            results = ", ".join(str(result) for result in done if result is not None)
            exc.add_note(
                f"{len(done)} of {len(items)} SIMs were done before this failure"
                + (f"; their results: {results}" if results else "")
            )
            raise
    return done


def _without(page: ListPage[T], drop: Callable[[T], bool]) -> ListPage[T]:
    """The page without the records `drop` picks."""
    return replace(page, records=tuple(record for record in page.records if not drop(record)))


def _is_last(number: int, total_pages: int | None, count: int, page_size: int) -> bool:
    if total_pages is not None:
        return number >= total_pages
    return count < page_size


def _returned_id(response: requests.Response) -> str | None:
    """The id a POST or DELETE answers with: v2's `{"id": ...}` body or the Location's end."""
    if response.content.strip():
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping) and body.get("id") is not None:
            return str(body["id"])
    location = response.headers.get("Location", "").rstrip("/")
    return location.rsplit("/", 1)[-1] if location else None
