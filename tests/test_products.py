"""1NCE's product list in Redis: fetching, failures, refreshes, and which product a top-up is."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rq import Queue

from simulator.catalog import PRODUCTS
from webapp.extensions import get_redis
from webapp.one_nce import Product
from webapp.products import (
    CATALOGUE_KEY,
    FAILURE_KEY,
    REFRESH_JOB,
    Catalogue,
    describe_topup,
    find_topup,
    get_topup_info,
    is_topup_product,
    refresh_catalogue,
    store_catalogue,
    topup_offer,
)
from worker import jobs

RATE = 50.0


def product(name, *, material=None, one_time=(("10.00", "EUR"),), recurring=(), pid=7):
    """A product as 1NCE sends it, parsed by the client."""
    return Product.from_wire(
        {
            "id": pid,
            "product": name,
            "material": material,
            "one_time_charges": [
                {"name": "x", "amount_net": amount, "currency": currency}
                for amount, currency in one_time
            ],
            "recurring_charges": [
                {"name": "y", "amount_net": amount, "currency": currency}
                for amount, currency in recurring
            ],
        }
    )


def catalogue(*products, age=timedelta(0)):
    return Catalogue(datetime.now(UTC) - age, tuple(products))


SIMULATOR_CATALOGUE = tuple(Product.from_wire(item) for item in PRODUCTS)


# --- the rule: which product a top-up orders, and what it says it holds ------------------


@pytest.mark.parametrize(
    ("name", "material", "expected"),
    [
        ("1NCE Top-up 500 MB / 250 SMS", None, True),
        ("Topup 1 GB", None, True),
        ("Data TOP UP", None, True),
        ("Refill 1 GB", None, True),
        ("Extra data", "1NCE-TOPUP", True),
        ("1NCE IoT FlexSIM - Standard", "1NCE-FLEX-STD", False),
        ("Stop upgrade", None, False),
        (None, None, False),
    ],
)
def test_the_top_up_is_the_product_whose_name_or_material_says_so(name, material, expected):
    assert is_topup_product(product(name, material=material)) is expected


def test_the_simulators_catalogue_names_one_top_up_of_500_mb_and_250_sms_for_10_eur():
    found = find_topup(catalogue(*SIMULATOR_CATALOGUE))
    assert found.state == "known"
    offer = found.offer
    assert offer is not None
    assert (offer.product_id, offer.name) == (2001, "1NCE Top-up 500 MB / 250 SMS")
    assert (offer.data_volume, offer.sms, offer.validity) == ("500 MB", 250, None)
    assert (offer.price, offer.currency) == (Decimal("10.00"), "EUR")
    assert offer.contents == "500 MB of data and 250 SMS"
    assert offer.total(123) == Decimal("1230.00")


def test_no_top_up_or_several_are_not_guessed_between():
    assert find_topup(catalogue(product("1NCE IoT FlexSIM - Standard"))).state == "no_product"
    found = find_topup(catalogue(product("Top-up 500 MB"), product("Refill 1 GB", pid=8)))
    assert (found.state, found.offer) == ("ambiguous", None)
    assert found.candidates == ("Top-up 500 MB", "Refill 1 GB")


@pytest.mark.parametrize(
    ("one_time", "recurring", "price"),
    [
        ((("10.00", "EUR"),), (), (Decimal("10.00"), "EUR")),
        ((("8.00", "EUR"), ("2.50", "EUR")), (), (Decimal("10.50"), "EUR")),
        ((("8.00", "EUR"), ("2.50", "USD")), (), (None, None)),
        ((("", "EUR"),), (), (None, None)),
        ((("10.00", None),), (), (None, None)),
        ((), (), (None, None)),
        ((("10.00", "EUR"),), (("1.00", "EUR"),), (None, None)),
    ],
)
def test_the_price_is_one_net_amount_in_one_currency_or_not_known(one_time, recurring, price):
    offer = topup_offer(product("Top-up", one_time=one_time, recurring=recurring))
    assert (offer.price, offer.currency) == price
    if price[0] is None:
        assert offer.total(5) is None


def test_what_the_name_does_not_say_is_not_stated():
    offer = topup_offer(product("Refill 1 GB, valid 12 months"))
    assert (offer.data_volume, offer.sms, offer.validity) == ("1 GB", None, "12 months")
    assert offer.contents == "1 GB of data, valid 12 months"
    bare = topup_offer(product("Top-up"))
    assert bare.contents == ""
    assert "its name states no data volume or SMS" in describe_topup(
        find_topup(catalogue(product("Top-up")))
    )


# --- the cache ------------------------------------------------------------------------------


@pytest.fixture
def v1_simulator(make_simulator):
    """A simulator that still serves v1, where 1NCE's product list lives."""
    return make_simulator(sims=2, seed=3, rps=RATE, v1_retired=False)


@pytest.fixture
def settings(settings, v1_simulator):
    """Point the app's 1NCE client at the simulator."""
    return settings | v1_simulator.app_settings(max_rps=RATE)


@pytest.fixture
def once(app, v1_simulator, redis):
    return v1_simulator.quick_client(redis=redis, max_rps=RATE)


def test_a_fetched_list_is_cached_for_a_month_and_read_without_calling_1nce(
    app, once, v1_simulator
):
    fetched = refresh_catalogue(client=once)
    assert fetched is not None and len(fetched.products) == len(PRODUCTS)
    redis = get_redis()
    assert timedelta(days=29) < timedelta(seconds=redis.ttl(CATALOGUE_KEY)) <= timedelta(days=30)
    v1_simulator.reset_stats()
    info = get_topup_info(refresh=False)
    assert v1_simulator.v1_requests() == 0
    assert info.state == "known" and info.offer is not None
    assert info.offer.price == Decimal("10.00")
    assert info.fetched_at == fetched.fetched_at
    sentence = describe_topup(info)
    assert "“1NCE Top-up 500 MB / 250 SMS” (product 2001): 500 MB of data and 250 SMS" in sentence
    assert "for 10.00 EUR net" in sentence
    assert f"1NCE product list, fetched {fetched.fetched_at:%Y-%m-%d %H:%M} UTC" in sentence


def test_a_failed_fetch_is_recorded_and_an_older_copy_still_shown(app, once, v1_simulator):
    v1_simulator.retire_v1()
    assert refresh_catalogue(client=once) is None
    redis = get_redis()
    assert 0 < redis.ttl(FAILURE_KEY) <= 15 * 60
    info = get_topup_info(refresh=False)
    assert (info.state, info.offer) == ("failed", None)
    assert info.failure is not None and "410" in info.failure.error
    assert describe_topup(info).startswith("Price not known: 1NCE's product list could not")

    store_catalogue(catalogue(*SIMULATOR_CATALOGUE, age=timedelta(days=3)))
    assert not redis.exists(FAILURE_KEY)  # a good copy clears the failure
    assert refresh_catalogue(client=once) is None
    info = get_topup_info(refresh=False)
    assert info.state == "known" and info.failure is not None  # stale, and says why


def test_a_missing_or_stale_list_is_fetched_by_one_background_job(app, v1_simulator):
    queue = Queue("default", connection=get_redis())
    assert get_topup_info().state == "fetching"
    get_topup_info()
    assert [job.func_name for job in queue.jobs] == [REFRESH_JOB]  # one job, not one per look

    queue.empty()
    assert jobs.refresh_products() == len(PRODUCTS)
    assert get_topup_info().state == "known"
    assert queue.count == 0  # fresh: nothing to fetch

    store_catalogue(catalogue(*SIMULATOR_CATALOGUE, age=timedelta(hours=25)))
    assert get_topup_info().state == "known"  # a stale copy is shown while it is refreshed
    assert queue.count == 1


def test_no_refresh_within_a_quarter_hour_of_a_failure(app, v1_simulator):
    v1_simulator.retire_v1()
    queue = Queue("default", connection=get_redis())
    assert jobs.refresh_products() is None
    assert get_topup_info().state == "failed"
    assert queue.count == 0


def test_without_a_1nce_account_nothing_is_fetched(make_app):
    app = make_app(ONCE_CLIENT_ID=None, ONCE_CLIENT_SECRET=None)
    with app.app_context():
        get_redis().delete(CATALOGUE_KEY, FAILURE_KEY)
        assert get_topup_info().state == "unconfigured"
        assert Queue("default", connection=get_redis()).count == 0


def test_a_redis_outage_leaves_the_price_unknown_without_an_error(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        info = get_topup_info()
    assert info.state == "unavailable"
    assert describe_topup(info) == "Price not known: the cached product list cannot be read now."


def test_the_cache_holds_1nces_own_shape(app):
    store_catalogue(catalogue(*SIMULATOR_CATALOGUE))
    stored = json.loads(get_redis().get(CATALOGUE_KEY) or "{}")
    assert stored["products"][2]["product"] == "1NCE Top-up 500 MB / 250 SMS"
    assert stored["products"][2]["one_time_charges"][0]["amount_net"] == "10.00"


def test_an_unreadable_cached_list_counts_as_never_fetched(app):
    get_redis().set(CATALOGUE_KEY, '{"fetched_at": "yesterday", "products": []}')
    assert get_topup_info(refresh=False).state == "fetching"
