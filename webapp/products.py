"""1NCE's product list, cached in Redis, and what a top-up buys and costs.

1NCE's top-up (`POST /{v}/sims/{iccid}/topup`) takes no amount: it orders the plan's standard
top-up package. What that package holds and costs is only in the Product Information API
(`GET /v1/products`), which has no v2 counterpart and may not outlive v1. So pages read a copy
kept in Redis and never wait for 1NCE: a missing or day-old copy is fetched again by a job, and
until then a page says what it knows ("price not known").

Which product a top-up orders is not marked in 1NCE's data. The rule (TOPUP_NAME): the one
product whose name or material says "top-up", "topup" or "refill". None, or more than one,
means the top-up is not known; Simfleet never guesses between products.
"""

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from redis import RedisError

from webapp.extensions import get_redis
from webapp.one_nce import Charge, OneNceClient, OneNceError, Product
from webapp.tasks import enqueue

log = logging.getLogger("simfleet.products")

CATALOGUE_KEY = "simfleet:products:catalogue"
FAILURE_KEY = "simfleet:products:failure"
REFRESH_JOB = "worker.jobs.refresh_products"
REFRESH_JOB_ID = "products-refresh"
# Prices change rarely; 1NCE allows 100 product calls per 5 minutes per IP.
FRESH_FOR = timedelta(hours=24)
# A stale copy is still shown, with its date, while 1NCE cannot be read.
KEPT_FOR = timedelta(days=30)
# After a failed fetch, the next try waits this long (the page says why it knows nothing).
RETRY_AFTER = timedelta(minutes=15)

# Why nothing is known before the list was ever read, by TopUpInfo.state.
NOT_FETCHED = {
    "fetching": "1NCE's product list has not been fetched yet",
    "unconfigured": "no 1NCE account is configured",
    "unavailable": "the cached product list cannot be read now",
}

TOPUP_NAME = re.compile(r"\b(top[\s_-]?up|refill)\b", re.IGNORECASE)
# What a product's name says it holds: "500 MB", "1 GB", "250 SMS", "12 months".
DATA_VOLUME = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(KB|MB|GB|TB)\b", re.IGNORECASE)
SMS_COUNT = re.compile(r"\b(\d+)\s*SMS\b", re.IGNORECASE)
VALIDITY = re.compile(r"\b(\d+)\s*(day|week|month|year)s?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Catalogue:
    """1NCE's product list as last fetched."""

    fetched_at: datetime
    products: tuple[Product, ...]

    @property
    def stale(self) -> bool:
        """True when the list is older than FRESH_FOR and should be fetched again."""
        return datetime.now(UTC) - self.fetched_at > FRESH_FOR


@dataclass(frozen=True)
class FetchFailure:
    """The last failed fetch of the product list: when, and 1NCE's error."""

    at: datetime
    error: str


@dataclass(frozen=True)
class TopUpOffer:
    """The product a top-up orders: what its name says it holds and its one-time net price.

    Each of `data_volume` ("500 MB"), `sms` and `validity` ("12 months") is None when the
    product's name does not say it; `price` is None when its charges give no single one-time
    net price in one currency (see `topup_offer`).
    """

    product_id: int
    name: str
    data_volume: str | None
    sms: int | None
    validity: str | None
    price: Decimal | None
    currency: str | None

    @property
    def contents(self) -> str:
        """What the package holds, as its name says: "500 MB of data and 250 SMS, valid 1 year"
        ("" when its name says nothing of it)."""
        parts = []
        if self.data_volume:
            parts.append(f"{self.data_volume} of data")
        if self.sms is not None:
            parts.append(f"{self.sms:,} SMS")
        text = " and ".join(parts)
        if self.validity:
            text = f"{text}, valid {self.validity}" if text else f"valid {self.validity}"
        return text

    def total(self, count: int) -> Decimal | None:
        """The net price of `count` top-ups, or None when the price is not known."""
        return None if self.price is None else self.price * count


@dataclass(frozen=True)
class TopUpInfo:
    """What Simfleet knows about a top-up right now, and why it knows no more.

    `state` is "known" (an offer), "fetching" (the list was never fetched; a job is on its
    way), "failed" (the last fetch failed: `failure`), "no_product" or "ambiguous" (the list
    names no top-up product, or several: `candidates`), "unconfigured" (no 1NCE account) or
    "unavailable" (Redis cannot be read).
    """

    state: str
    offer: TopUpOffer | None = None
    catalogue: Catalogue | None = None
    failure: FetchFailure | None = None
    candidates: tuple[str, ...] = ()

    @property
    def fetched_at(self) -> datetime | None:
        """When the product list the offer comes from was fetched."""
        return self.catalogue.fetched_at if self.catalogue else None


def is_topup_product(product: Product) -> bool:
    """The rule: a product whose name or material says top-up, topup or refill."""
    return any(TOPUP_NAME.search(text or "") for text in (product.name, product.material))


def topup_offer(product: Product) -> TopUpOffer:
    """The offer of a top-up product: its contents as its name states them, and its price.

    The price is the sum of its one-time charges when every one has a net amount, all in one
    currency, and the product has no recurring charge; otherwise it is not known.
    """
    name = product.name or product.material or f"product {product.id}"
    data = DATA_VOLUME.search(name)
    sms = SMS_COUNT.search(name)
    validity = VALIDITY.search(name)
    price, currency = _one_time_price(product)
    return TopUpOffer(
        product_id=product.id,
        name=name,
        data_volume=f"{data[1]} {data[2].upper()}" if data else None,
        sms=int(sms[1]) if sms else None,
        validity=f"{validity[1]} {validity[2].lower()}{'s' if validity[1] != '1' else ''}"
        if validity
        else None,
        price=price,
        currency=currency,
    )


def _one_time_price(product: Product) -> tuple[Decimal | None, str | None]:
    charges = product.one_time_charges
    currencies = {charge.currency for charge in charges}
    if (
        not charges
        or product.recurring_charges
        or any(charge.amount_net is None for charge in charges)
        or len(currencies) != 1
        or None in currencies
    ):
        return None, None
    amounts = [charge.amount_net for charge in charges if charge.amount_net is not None]
    return sum(amounts, Decimal(0)), currencies.pop()


def find_topup(catalogue: Catalogue) -> TopUpInfo:
    """The top-up offer of a product list, or why there is none."""
    matches = [product for product in catalogue.products if is_topup_product(product)]
    if not matches:
        return TopUpInfo("no_product", catalogue=catalogue)
    if len(matches) > 1:
        names = tuple(p.name or p.material or f"product {p.id}" for p in matches)
        return TopUpInfo("ambiguous", catalogue=catalogue, candidates=names)
    return TopUpInfo("known", offer=topup_offer(matches[0]), catalogue=catalogue)


def get_topup_info(*, refresh: bool = True) -> TopUpInfo:
    """What a top-up buys and costs, from the cached product list; never calls 1NCE.

    With `refresh`, a missing or stale list is fetched again by a background job (at most one
    at a time, and not within RETRY_AFTER of a failed fetch).
    """
    try:
        catalogue = get_catalogue()
        failure = get_fetch_failure()
        if refresh and (catalogue is None or catalogue.stale) and failure is None:
            _request_refresh()
    except RedisError as exc:
        log.warning("product list cache unavailable: %s", exc)
        return TopUpInfo("unavailable")
    if catalogue is not None:
        found = find_topup(catalogue)
        return TopUpInfo(found.state, found.offer, catalogue, failure, found.candidates)
    if failure is not None:
        return TopUpInfo("failed", failure=failure)
    if not current_app.config["ONCE_CONFIGURED"]:
        return TopUpInfo("unconfigured")
    return TopUpInfo("fetching")


def _request_refresh() -> None:
    if current_app.config["ONCE_CONFIGURED"]:
        enqueue(REFRESH_JOB, dedupe_key=REFRESH_JOB_ID)


def get_catalogue() -> Catalogue | None:
    """The cached product list, or None when it was never fetched (or is older than KEPT_FOR)."""
    raw = get_redis().get(CATALOGUE_KEY)
    if raw is None:
        return None
    try:
        stored = json.loads(raw)
        products = tuple(Product.from_wire(item) for item in stored["products"])
        return Catalogue(datetime.fromisoformat(stored["fetched_at"]), products)
    except (ValueError, KeyError, TypeError) as exc:  # written by another release, say
        log.warning("ignoring an unreadable cached product list: %s", exc)
        return None


def get_fetch_failure() -> FetchFailure | None:
    """The last failed fetch, within RETRY_AFTER of it; None otherwise."""
    raw = get_redis().get(FAILURE_KEY)
    if raw is None:
        return None
    stored = json.loads(raw)
    return FetchFailure(datetime.fromisoformat(stored["at"]), stored["error"])


def refresh_catalogue(*, client: OneNceClient) -> Catalogue | None:
    """Fetch 1NCE's product list and cache it; on failure, record why and return None."""
    now = datetime.now(UTC)
    try:
        page = client.list_products()
    except OneNceError as exc:
        log.warning("could not fetch 1NCE's product list: %s", exc)
        failure = {"at": now.isoformat(), "error": str(exc)}
        get_redis().set(FAILURE_KEY, json.dumps(failure), ex=RETRY_AFTER)
        return None
    for reject in page.rejects:
        log.warning("skipping a product 1NCE sent: %s", reject.error)
    catalogue = Catalogue(now, tuple(page.records))
    store_catalogue(catalogue)
    return catalogue


def store_catalogue(catalogue: Catalogue) -> None:
    """Cache a product list for KEPT_FOR, and forget any failed fetch before it."""
    products = [_wire(product) for product in catalogue.products]
    stored = {"fetched_at": catalogue.fetched_at.isoformat(), "products": products}
    redis = get_redis()
    redis.set(CATALOGUE_KEY, json.dumps(stored), ex=KEPT_FOR)
    redis.delete(FAILURE_KEY)


def _wire(product: Product) -> dict[str, Any]:
    """A product in 1NCE's own shape, so the cache is read back by the client's parser."""
    return {
        "id": product.id,
        "product": product.name,
        "material": product.material,
        "package_size": product.package_size,
        "minQuantity": product.min_quantity,
        "maxQuantity": product.max_quantity,
        "min_contract_duration": product.min_contract_duration,
        "one_time_charges": [_charge(c) for c in product.one_time_charges],
        "recurring_charges": [_charge(c) for c in product.recurring_charges],
    }


def _charge(charge: Charge) -> dict[str, Any]:
    amount = None if charge.amount_net is None else str(charge.amount_net)
    return {"name": charge.name, "amount_net": amount, "currency": charge.currency}


def describe_topup(info: TopUpInfo) -> str:
    """What a top-up buys and costs, in one plain sentence with its source (the API docs)."""
    fetched = info.fetched_at.strftime("%Y-%m-%d %H:%M UTC") if info.fetched_at else None
    if info.offer is not None:
        offer = info.offer
        sentence = f"A top-up orders “{offer.name}” (product {offer.product_id})"
        sentence += (
            f": {offer.contents}" if offer.contents else " (its name states no data volume or SMS)"
        )
        if offer.price is None:
            sentence += "; price not known"
        else:
            sentence += f", for {offer.price:,.2f} {offer.currency} net"
        return f"{sentence}. Source: 1NCE product list, fetched {fetched}."
    if info.state == "no_product":
        return f"Price not known: 1NCE's product list (fetched {fetched}) names no top-up product."
    if info.state == "ambiguous":
        return (
            f"Price not known: 1NCE's product list (fetched {fetched}) names "
            f"{len(info.candidates)} top-up products and does not say which one a top-up orders."
        )
    if info.state == "failed" and info.failure is not None:
        return f"Price not known: 1NCE's product list could not be read ({info.failure.error})."
    return f"Price not known: {NOT_FETCHED[info.state]}."
