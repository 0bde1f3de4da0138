"""The bulk top-up's dry run says what the top-ups buy and what they cost in all."""

from datetime import UTC, datetime, timedelta

from simulator.catalog import PRODUCTS
from webapp.one_nce import Product
from webapp.products import Catalogue, store_catalogue


def preview_top_up(client, sims):
    return client.post(
        "/bulk/preview",
        data={"action": "topup", "scope": "selected", "iccid": [sim.iccid for sim in sims]},
    )


def test_the_preview_totals_the_price_of_every_top_up(client, login, make_sim):
    products = tuple(Product.from_wire(item) for item in PRODUCTS)
    store_catalogue(Catalogue(datetime.now(UTC) - timedelta(minutes=5), products))
    login("operator")
    text = preview_top_up(client, [make_sim() for _ in range(123)]).text
    assert (
        "Buys <strong>500 MB of data and 250 SMS</strong> for <strong>10.00 EUR</strong> net each: "
        '<strong class="topup-total">1,230.00 EUR</strong> net for 123 SIMs.'
    ) in text
    assert "1NCE product list, fetched" in text
    assert "Top up 123 SIMs<" in text


def test_without_the_product_list_the_total_is_not_known(client, login, make_sim):
    login("operator")
    text = preview_top_up(client, [make_sim(), make_sim()]).text
    assert "Price not known:" in text
    assert "EUR" not in text
    assert "Top up 2 SIMs<" in text  # the order can still be placed


def test_other_actions_say_nothing_of_prices(client, login, make_sim):
    products = tuple(Product.from_wire(item) for item in PRODUCTS)
    store_catalogue(Catalogue(datetime.now(UTC), products))
    login("operator")
    sim = make_sim(status="Disabled")
    response = client.post(
        "/bulk/preview", data={"action": "enable", "scope": "selected", "iccid": [sim.iccid]}
    )
    assert "topup-offer" not in response.text
