"""The API's description of the top-up says what it buys and costs, and where that comes from."""

from datetime import UTC, datetime

from rq import Queue

from simulator.catalog import PRODUCTS
from webapp.api.openapi import build_openapi
from webapp.extensions import get_redis
from webapp.one_nce import Product
from webapp.products import Catalogue, store_catalogue

TOPUP = "/api/v1/sims/{iccid}/topup"


def test_the_openapi_document_describes_the_current_top_up(client):
    fetched = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    store_catalogue(Catalogue(fetched, tuple(Product.from_wire(item) for item in PRODUCTS)))
    description = client.get("/api/v1/openapi.json").json["paths"][TOPUP]["post"]["description"]
    assert description.startswith("1NCE's top-up takes no amount")
    assert description.endswith(
        "A top-up orders “1NCE Top-up 500 MB / 250 SMS” (product 2001): 500 MB of data and "
        "250 SMS, for 10.00 EUR net. Source: 1NCE product list, fetched 2026-12-04 09:30 UTC."
    )
    assert "description" not in build_openapi()["paths"][TOPUP]["post"]  # the cache is intact


def test_an_unknown_price_is_said_and_reading_the_document_sends_nothing_to_1nce(client):
    description = client.get("/api/v1/openapi.json").json["paths"][TOPUP]["post"]["description"]
    assert description.endswith("Price not known: no 1NCE account is configured.")
    assert Queue("default", connection=get_redis()).count == 0


def test_the_docs_page_shows_the_top_up_description(client, login):
    store_catalogue(Catalogue(datetime.now(UTC), tuple(Product.from_wire(i) for i in PRODUCTS)))
    login("viewer")
    page = client.get("/api/docs").text
    assert "500 MB of data and 250 SMS, for 10.00 EUR net. Source: 1NCE product list" in page
