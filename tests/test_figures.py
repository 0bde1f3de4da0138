"""Parts add up to the total shown: the shared rounding, and the pages that show sums."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.figures import RoundedSum, percent_of, rounded_parts
from webapp.models import UsageDay

D = Decimal


@pytest.mark.parametrize(
    ("parts", "places", "shown"),
    [
        # Rounded alone: 0.0 + 0.0 next to a total of 0.1.
        ([D("0.04"), D("0.04")], 1, RoundedSum((D("0.1"), D("0.0")), D("0.1"))),
        # Rounded alone: 0.2 + 0.2 + 0.2 next to 0.5.
        ([0.15, 0.15, 0.15], 1, RoundedSum((D("0.2"), D("0.2"), D("0.1")), D("0.5"))),
        # The part that lost the most gets the unit, whatever its place.
        ([D("1.01"), D("2.09")], 1, RoundedSum((D("1.0"), D("2.1")), D("3.1"))),
        ([3, 4], 0, RoundedSum((D(3), D(4)), D(7))),
        ([], 1, RoundedSum((), D("0.0"))),
        # Percentages that add up to 100.
        ([100 / 3, 100 / 3, 100 / 3], 0, RoundedSum((D(34), D(33), D(33)), D(100))),
    ],
)
def test_rounded_parts_add_up_to_the_rounded_total(parts, places, shown):
    rounded = rounded_parts(parts, places=places)
    assert rounded == shown
    assert sum(rounded.parts, D(0)) == rounded.total


def test_no_part_moves_by_a_whole_unit():
    parts = [D("12.345"), D("0.051"), D("7.749"), D("0.004")]
    rounded = rounded_parts(parts)
    assert sum(rounded.parts, D(0)) == rounded.total == D("20.1")
    assert all(
        abs(shown - exact) < D("0.1") for shown, exact in zip(rounded.parts, parts, strict=True)
    )


@pytest.mark.parametrize(
    ("part", "whole", "percent"),
    [
        (D("120.5"), D(500), 24),
        (D("97.5"), D(500), 20),  # 19.5 % rounds half up
        (D("0.4"), D(500), 1),  # something left never reads as 0 %
        (D("499.9"), D(500), 99),  # something used never reads as 100 %
        (D(0), D(500), 0),
        (D(500), D(500), 100),
        (None, D(500), None),
        (D(5), D(0), None),
    ],
)
def test_percent_of(part, whole, percent):
    assert percent_of(part, whole) == percent


def caption_figures(html: str) -> list[float]:
    """The data total, received and sent of the SIM page's usage caption."""
    caption = re.search(r'<span class="usage-total">(.*?)</span>', html, re.S)
    assert caption, html
    return [float(n.replace(",", "")) for n in re.findall(r"[0-9][0-9,]*\.[0-9]", caption[1])]


def test_the_sim_pages_usage_total_is_the_sum_of_its_parts_as_shown(client, login, make_sim):
    login("viewer")
    today = datetime.now(UTC).date()
    sim = make_sim(usage_synced_from=today - timedelta(days=3), usage_synced_through=today)
    # 0.04 MB each way: each rounds to 0.0 on its own, their total to 0.1.
    db.session.add_all(
        UsageDay(iccid=sim.iccid, day=today - timedelta(days=n), data_rx_mb=D("0.02"),
                 data_tx_mb=D("0.02"), sms_mo=0, sms_mt=0)
        for n in range(2)
    )  # fmt: skip
    db.session.commit()
    total, received, sent = caption_figures(client.get(f"/sims/{sim.iccid}").text)
    assert total == 0.1 and round(received + sent, 1) == total


def test_the_quota_meter_and_the_inventory_show_the_same_percentage(client, login, make_sim):
    login("viewer")
    # 19.6 % left: rounded (20) on one page and floored (19) on the other, before.
    sim = make_sim(data_remaining_mb=D("98"), data_total_mb=D("500"))
    detail = client.get(f"/sims/{sim.iccid}").text
    inventory = client.get("/sims").text
    assert 'value="20"' in detail and "Data left: 20 %" in detail
    assert re.search(r">20 %", inventory)
