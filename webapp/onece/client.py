"""The 1NCE Management API client: typed methods over paced, retried, token-sharing HTTP."""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar

import redis as redis_lib
import requests

from webapp.onece.errors import OnceAuthError, OnceMalformedResponse, OnceRejected
from webapp.onece.metrics import REJECTED_RECORDS
from webapp.onece.pacing import RedisPacer
from webapp.onece.parsing import RecordError, as_object
from webapp.onece.records import (
    Connectivity,
    ConnectivityInfo,
    Event,
    Limit,
    Limits,
    Order,
    Page,
    Product,
    Quota,
    Sim,
    SimUpdate,
    Sms,
    UsageDay,
    parse_items,
    parse_usage,
)
from webapp.onece.tokens import BasicAuth, BearerAuth, Grant, SharedToken
from webapp.onece.transport import (
    Call,
    RetryPolicy,
    Transport,
    decode_json,
    fill,
    header_int,
)

T = TypeVar("T")
SIM_STATUSES = ("Enabled", "Disabled")
LIMIT_SERVICES = ("data", "smsMO", "smsMT")
PAYMENT_METHODS = ("banktransfer", "creditcard", "monthlyinvoice", "boleto")
MAX_SIM_PAGE = 100
MAX_EVENT_PAGE = 1000
MAX_ORDER_PAGE = 10


class OnceClient:
    """Typed access to the 1NCE Management API (v1); one instance is safe to share by threads."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        redis: redis_lib.Redis,
        max_rps: float = 8.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        token_rps: float = 2.0,
        catalog_rps: float = 0.3,
        retry: RetryPolicy | None = None,
    ) -> None:
        retry = retry or RetryPolicy()
        base_url = base_url.rstrip("/")
        account_key = f"onece:{_digest(base_url, client_id)}"
        rates = {"sims": max_rps, "oauth": token_rps, "catalog": catalog_rps}
        self.base_url = base_url
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
            # Only a crash-safety expiry: long enough for a token call with all its retries.
            lock_timeout=(connect_timeout + read_timeout + retry.backoff_max) * (retry.retries + 1),
        )
        self._bearer = BearerAuth(token, client_secret)

    def __repr__(self) -> str:
        return f"OnceClient({self.base_url!r})"

    # Inventory

    def list_sims(
        self, *, page_size: int = MAX_SIM_PAGE, query: str | None = None
    ) -> Iterator[Page[Sim]]:
        """Stream the SIM inventory page by page, following X-Total-Pages; `query` is 1NCE's `q`."""
        call = Call("GET", "/v1/sims", params=fill({"q": query}))
        return self._pages(call, Sim.from_wire, page_size=min(page_size, MAX_SIM_PAGE))

    def get_sim(self, iccid: str) -> Sim:
        """One SIM; OnceNotFound when 1NCE does not know the ICCID."""
        return self._get_record(Call("GET", "/v1/sims/{iccid}", _iccid(iccid)), Sim.from_wire)

    def update_sim(
        self,
        iccid: str,
        *,
        status: str | None = None,
        label: str | None = None,
        imei_lock: bool | None = None,
    ) -> None:
        """Change a SIM's status, label or IMEI lock (1NCE applies it asynchronously)."""
        update = _checked_update(SimUpdate(iccid, status=status, label=label, imei_lock=imei_lock))
        self._send(Call("PUT", "/v1/sims/{iccid}", _iccid(iccid), json=update.to_wire()))

    def update_sims(self, updates: Iterable[SimUpdate]) -> None:
        """Queue changes to many SIMs in one call (bulk update, applied asynchronously)."""
        wire = [_checked_update(update).to_wire() for update in updates]
        # Setting the same values twice is harmless, so this POST may be retried.
        self._send(Call("POST", "/v1/sims", json=wire, repeatable=True))

    # Per-SIM readings

    def get_connectivity(self, iccid: str) -> Connectivity:
        """Whether and where the SIM is attached or online (`/status`)."""
        call = Call("GET", "/v1/sims/{iccid}/status", _iccid(iccid))
        return self._get_record(call, Connectivity.from_wire)

    def get_connectivity_info(
        self, iccid: str, *, subscriber: bool = True, ussd: bool = False
    ) -> ConnectivityInfo:
        """Ask the network where the SIM is (`/connectivity_info`)."""
        params = {"subscriber": str(subscriber).lower(), "ussd": str(ussd).lower()}
        call = Call("GET", "/v1/sims/{iccid}/connectivity_info", _iccid(iccid), params=params)
        return self._get_record(call, ConnectivityInfo.from_wire)

    def reset_connectivity(self, iccid: str) -> None:
        """Queue a connectivity reset (the device re-attaches)."""
        self._send(Call("POST", "/v1/sims/{iccid}/reset", _iccid(iccid)))

    def get_usage(
        self, iccid: str, *, start: date | None = None, end: date | None = None
    ) -> tuple[UsageDay, ...]:
        """Daily usage, newest first, without the TOTAL row; 1NCE's default is the last 14 days."""
        params = fill({"start_dt": _day(start), "end_dt": _day(end)})
        call = Call("GET", "/v1/sims/{iccid}/usage", _iccid(iccid), params=params)
        return self._get(call, parse_usage)

    def get_data_quota(self, iccid: str) -> Quota:
        """The data quota in MB: remaining volume, total, expiry."""
        call = Call("GET", "/v1/sims/{iccid}/quota/data", _iccid(iccid))
        return self._get_record(call, Quota.from_wire)

    def get_sms_quota(self, iccid: str) -> Quota:
        """The SMS quota in messages: remaining volume, total, expiry."""
        call = Call("GET", "/v1/sims/{iccid}/quota/sms", _iccid(iccid))
        return self._get_record(call, Quota.from_wire)

    def list_events(
        self,
        iccid: str,
        *,
        after_id: str | None = None,
        since: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[Page[Event]]:
        """Stream events newest first, stopping before `after_id` or at events older than `since`.

        Events exactly at `since` are returned again, so none sharing that second is lost.
        """

        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")

        def is_known(event: Event) -> bool:
            return (after_id is not None and event.id == after_id) or (
                since is not None and event.timestamp < since
            )

        call = Call("GET", "/v1/sims/{iccid}/events", _iccid(iccid), params={"sort": "-timestamp"})
        size = min(page_size, MAX_EVENT_PAGE)
        return self._pages(call, Event.from_wire, page_size=size, stop=is_known)

    # SMS

    def list_sms(self, iccid: str, *, page_size: int = MAX_SIM_PAGE) -> Iterator[Page[Sms]]:
        """Stream the SIM's MT and MO SMS page by page."""
        call = Call("GET", "/v1/sims/{iccid}/sms", _iccid(iccid))
        return self._pages(call, Sms.from_wire, page_size=min(page_size, MAX_SIM_PAGE))

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
        return _created_id(
            self._send(Call("POST", "/v1/sims/{iccid}/sms", _iccid(iccid), json=body))
        )

    # Money and limits

    def top_up(self, iccid: str, *, payment_method: str = "banktransfer") -> str | None:
        """Order the plan's standard top-up for a SIM; returns the order number when given.

        Not retried once it may have reached 1NCE: a repeat would order twice.
        """
        params = _payment(payment_method)
        call = Call("POST", "/v1/sims/{iccid}/topup", _iccid(iccid), params=params)
        return _created_id(self._send(call))

    def top_up_sims(
        self, iccids: Iterable[str], *, payment_method: str = "banktransfer"
    ) -> str | None:
        """Order the standard top-up for many SIMs in one bulk order; returns its number.

        1NCE refuses the whole order if one ICCID is unknown. Not retried once it may have
        reached 1NCE: a repeat would order twice.
        """
        body = [_iccid(iccid)["iccid"] for iccid in iccids]
        if not body:
            raise ValueError("a bulk top-up needs at least one ICCID")
        call = Call("POST", "/v1/sims/topup", params=_payment(payment_method), json=body)
        return _created_id(self._send(call))

    def get_limits(self) -> Limits:
        """The account-wide monthly limits for data, MT and MO SMS."""
        return self._get_record(Call("GET", "/v1/sims/limits"), Limits.from_wire)

    def set_limits(self, *, data_limit_id: int, sms_mt_limit_id: int, sms_mo_limit_id: int) -> None:
        """Choose the account-wide limits (ids of the options 1NCE offers)."""
        body = {
            "dataLimitId": data_limit_id,
            "smsMtLimitId": sms_mt_limit_id,
            "smsMoLimitId": sms_mo_limit_id,
        }
        self._send(Call("POST", "/v1/sims/limits", json=body, repeatable=True))

    def list_limit_options(self, service: str) -> tuple[Limit, ...]:
        """The limits that can be chosen for `service` (data, smsMO or smsMT)."""
        if service not in LIMIT_SERVICES:
            raise ValueError(f"service must be one of {', '.join(LIMIT_SERVICES)}")
        call = Call("GET", "/v1/sims/{service}/limits", {"service": service})
        return self._get(
            call, lambda body: tuple(map(Limit.from_wire, map(as_object, _items(body))))
        )

    # Orders and products (read-only)

    def list_orders(self) -> Iterator[Page[Order]]:
        """Stream the account's orders page by page (1NCE allows 10 per page)."""
        call = Call("GET", "/v1/orders", group="catalog")
        return self._pages(call, Order.from_wire, page_size=MAX_ORDER_PAGE)

    def get_order(self, order_number: str) -> Order:
        """One order by its number."""
        call = Call("GET", "/v1/orders/{number}", {"number": str(order_number)}, group="catalog")
        return self._get_record(call, Order.from_wire)

    def list_products(self) -> Page[Product]:
        """The products that can be ordered (one unpaged list)."""
        call = Call("GET", "/v1/products", group="catalog")
        items, response = self._fetch(call, _items)
        records, rejects, _ = parse_items(items, Product.from_wire)
        return self._page(call, 1, response, records, rejects, total_pages=1)

    # Plumbing

    def _send(self, call: Call) -> requests.Response:
        return self._transport.send(call, auth=self._bearer)

    def _fetch(self, call: Call, parse: Callable[[Any], T]) -> tuple[T, requests.Response]:
        """Send `call` and parse its JSON body; a body that does not parse is malformed."""
        response = self._send(call)
        body = decode_json(call, response, empty_is_not_found="{iccid}" in call.endpoint)
        try:
            return parse(body), response
        except RecordError as exc:
            raise OnceMalformedResponse(
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
        *,
        page_size: int,
        stop: Callable[[T], bool] | None = None,
    ) -> Iterator[Page[T]]:
        """Fetch page after page until the last one, an empty one, or a `stop` record."""
        number = 1
        while True:
            paged = replace(
                call, params={**(call.params or {}), "page": number, "pageSize": page_size}
            )
            items, response = self._fetch(paged, _items)
            records, rejects, stopped = parse_items(items, parse, stop)
            total_pages = header_int(response, "X-Total-Pages")
            yield self._page(call, number, response, records, rejects, total_pages=total_pages)
            if stopped or not items or _is_last(number, total_pages, len(items), page_size):
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
    ) -> Page[T]:
        if rejects:
            REJECTED_RECORDS.labels(endpoint=call.label).inc(len(rejects))
        return Page(
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
        except OnceRejected as exc:
            # 1NCE answers bad credentials with 400 (BadCredentials), not 401.
            raise OnceAuthError(exc.message, endpoint=exc.endpoint, status=exc.status) from None
        body = decode_json(call, response, empty_is_not_found=False)
        try:
            return Grant.from_wire(as_object(body, "token response"))
        except RecordError as exc:
            raise OnceMalformedResponse(
                str(exc), endpoint=call.label, status=response.status_code
            ) from None


def _pacers(
    redis: redis_lib.Redis, *, base_url: str, account_key: str, rates: Mapping[str, float]
) -> dict[str, RedisPacer]:
    """One pacer per limit group, keyed the way 1NCE counts: per account or per client IP."""
    # /sims is limited per customer account; /oauth and /orders, /products per client IP.
    keys = {
        "sims": f"{account_key}:pace",
        "oauth": f"onece:{_digest(base_url)}:pace:oauth",
        "catalog": f"onece:{_digest(base_url)}:pace:catalog",
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
    if not (isinstance(iccid, str) and iccid.isdigit() and 10 <= len(iccid) <= 22):
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
    raise RecordError(f"expected a list, got {type(body).__name__}")


def _is_last(number: int, total_pages: int | None, count: int, page_size: int) -> bool:
    if total_pages is not None:
        return number >= total_pages
    return count < page_size


def _created_id(response: requests.Response) -> str | None:
    """The id of what a POST created: v2's `{"id": ...}` body or the Location's last segment."""
    if response.content.strip():
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping) and body.get("id") is not None:
            return str(body["id"])
    location = response.headers.get("Location", "").rstrip("/")
    return location.rsplit("/", 1)[-1] if location else None
