"""A real Chromium: the top-up's price on the SIM page and in its confirmation, this month's use."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from simulator.catalog import PRODUCTS
from webapp.extensions import db
from webapp.models import Sim, UsageDay
from webapp.one_nce import Product
from webapp.products import Catalogue, store_catalogue


def test_a_top_up_shows_its_price_through_to_the_order(app, live_url, page, iccid):
    today = datetime.now(UTC).date()
    db.session.add(
        UsageDay(iccid=iccid, day=today, data_rx_mb=Decimal("7"), data_tx_mb=Decimal("1.5"),
                 sms_mo=2, sms_mt=0)
    )  # fmt: skip
    db.session.execute(
        sa.update(Sim)
        .where(Sim.iccid == iccid)
        .values(usage_synced_from=today - timedelta(days=40), usage_synced_through=today)
    )
    db.session.commit()
    products = tuple(Product.from_wire(item) for item in PRODUCTS)
    store_catalogue(Catalogue(datetime.now(UTC) - timedelta(minutes=20), products))

    page.goto(f"{live_url}/sims/{iccid}")
    assert page.locator(".month-usage").first.inner_text().startswith("8.5 MB")
    assert page.locator(".month-usage").nth(1).inner_text().startswith("2 SMS")
    offer = page.locator("#sim-actions .topup-offer")
    assert "Buys 500 MB of data and 250 SMS for 10.00 EUR net." in offer.inner_text()
    assert "1NCE product list, fetched 20 min ago" in offer.inner_text()

    page.click("text=Top up…")
    page.wait_for_selector(".confirm >> text=Buys 500 MB of data and 250 SMS for 10.00 EUR net.")
    page.click(".confirm >> text=Confirm")
    page.wait_for_selector(".flash-success >> text=Top up requested: done.")
