"""The SIM page's top-up says what it buys and costs; the quota panel shows this month's use."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from rq import Queue

from simulator.catalog import PRODUCTS
from webapp.extensions import db, get_redis
from webapp.models import UsageDay
from webapp.one_nce import Product
from webapp.products import REFRESH_JOB, Catalogue, store_catalogue
from webapp.sim_detail.services import get_month_usage
from worker import jobs

OFFER = "Buys <strong>500 MB of data and 250 SMS</strong> for <strong>10.00 EUR</strong> net."


def cache_simulator_catalogue() -> None:
    products = tuple(Product.from_wire(item) for item in PRODUCTS)
    store_catalogue(Catalogue(datetime.now(UTC) - timedelta(hours=3), products))


def month_usage_cells(text: str) -> list[str]:
    """The "Used this month" values of the quota panel, data then SMS, tags and spaces folded."""
    cells = re.findall(r'<dd class="month-usage">(.*?)</dd>', text, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in cells]


def test_the_top_up_says_what_it_buys_what_it_costs_and_where_that_comes_from(client, login, iccid):
    cache_simulator_catalogue()
    login("operator")
    page = client.get(f"/sims/{iccid}").text
    assert OFFER in page
    assert "“1NCE Top-up 500 MB / 250 SMS” (product 2001) · 1NCE product list, fetched" in page
    assert "3 h ago" in page
    confirm = client.post(f"/sims/{iccid}/actions/topup", data={"payment_method": "banktransfer"})
    assert "standard top-up for this SIM (charged)." in confirm.text
    assert OFFER in confirm.text
    assert 'name="confirmed" value="yes"' in confirm.text


def test_viewers_see_no_top_up_and_no_price(client, login, iccid):
    cache_simulator_catalogue()
    login("viewer")
    assert "Buys <strong>" not in client.get(f"/sims/{iccid}").text


def test_before_the_product_list_is_read_the_price_is_not_known(client, login, iccid):
    login("operator")
    page = client.get(f"/sims/{iccid}").text
    assert "Price not known:\nSimfleet is fetching 1NCE's product list" in page
    assert [job.func_name for job in Queue("default", connection=get_redis()).jobs] == [REFRESH_JOB]
    # The test simulator speaks v2 and has retired v1, where 1NCE's product list lives.
    assert jobs.refresh_products() is None
    page = client.get(f"/sims/{iccid}").text
    assert "Price not known:\n1NCE's product list could not be read (" in page
    assert "410" in page
    assert "EUR" not in page


def day_usage(iccid: str, day: date, rx: str, tx: str, mo: int, mt: int) -> UsageDay:
    return UsageDay(
        iccid=iccid, day=day, data_rx_mb=Decimal(rx), data_tx_mb=Decimal(tx), sms_mo=mo, sms_mt=mt
    )


def test_the_month_adds_up_the_known_days_only(app, make_sim):
    sim = make_sim(usage_synced_from=date(2026, 12, 5), usage_synced_through=date(2026, 12, 14))
    db.session.add_all(
        [
            day_usage(sim.iccid, date(2026, 11, 30), "99", "99", 99, 99),  # last month
            day_usage(sim.iccid, date(2026, 12, 5), "10.25", "1", 2, 1),
            day_usage(sim.iccid, date(2026, 12, 14), "3", "0.75", 0, 4),
        ]
    )
    db.session.commit()
    usage = get_month_usage(iccid=sim.iccid, today=date(2026, 12, 15))
    assert (usage.start, usage.end, usage.days) == (date(2026, 12, 1), date(2026, 12, 15), 15)
    # Known: the 5th to the 14th (days without a row had no traffic); unknown: 1-4 and 15.
    assert (usage.known_days, usage.unknown_days) == (10, 5)
    assert (usage.data_mb, usage.sms) == (Decimal("15.00"), 7)


def test_a_month_with_no_known_day_is_no_data_not_zero(app, make_sim):
    never = make_sim()
    usage = get_month_usage(iccid=never.iccid, today=date(2026, 12, 15))
    assert (usage.known_days, usage.data_mb, usage.sms) == (0, None, None)
    # Synced only last month: this month is not known either.
    old = make_sim(usage_synced_from=date(2026, 11, 1), usage_synced_through=date(2026, 11, 30))
    usage = get_month_usage(iccid=old.iccid, today=date(2026, 12, 3))
    assert (usage.known_days, usage.unknown_days, usage.data_mb) == (0, 3, None)


def test_the_quota_panel_shows_this_months_use_beside_what_is_left(client, login, make_sim):
    today = datetime.now(UTC).date()
    sim = make_sim(
        data_remaining_mb=Decimal("400"),
        data_total_mb=Decimal("500"),
        usage_synced_from=today,
        usage_synced_through=today,
    )
    db.session.add(day_usage(sim.iccid, today, "2.5", "1", 3, 1))
    never = make_sim()
    db.session.commit()
    login("viewer")
    data, sms = month_usage_cells(client.get(f"/sims/{sim.iccid}").text)
    since = f"since 1 {today:%B}, UTC"
    missing = "" if today.day == 1 else f"; {today.day - 1} of {today.day} days no data"
    assert data == f"3.5 MB ({since}{missing})"
    assert sms == "4 SMS (sent and received)"
    data, sms = month_usage_cells(client.get(f"/sims/{never.iccid}").text)
    assert data == f"no data (since 1 {today:%B}, UTC: no day of it synced yet)"
    assert sms == "no data"
