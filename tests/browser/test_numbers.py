"""Every dashboard figure clicks through to the inventory view of exactly the SIMs it counts."""

import re

from playwright.sync_api import expect

SIM_COUNT = re.compile(r"([0-9,]+) SIMs?")


def shown_count(page) -> int:
    """The number of SIMs the inventory says its view holds (0 for the empty view)."""
    summary = page.locator("#sim-results")
    expect(summary).to_be_visible()
    if page.get_by_text("No SIM matches this view").count():
        return 0
    text = page.locator("#sim-results-summary").inner_text()
    match = SIM_COUNT.fullmatch(text.split(" · ")[0].strip())
    assert match, f"an exact count, not an estimate: {text!r}"
    return int(match[1].replace(",", ""))


def test_each_dashboard_figure_opens_an_inventory_view_with_the_same_count(signed_in_page):
    page = signed_in_page("viewer")
    figures = page.locator(".kpis a")
    links = [
        (link.inner_text(), link.get_attribute("href"))
        for link in (figures.nth(n) for n in range(figures.count()))
    ]
    hrefs = [href for _, href in links]
    for expected in ("online=true", "quota_state=low", "quota_state=exhausted", "silent=3d",
                     "quota_ends=30d", "status=Enabled"):  # fmt: skip
        assert any(expected in href for href in hrefs), (expected, hrefs)
    for text, href in links:
        count = int(text.split()[0].replace(",", ""))
        page.goto("/")
        page.locator(f'.kpis a[href="{href}"]').click()
        expect(page).to_have_url(re.compile(re.escape(href) + "$"))
        assert shown_count(page) == count, (href, count)
        # The filter form shows the view it was opened with.
        for name, value in re.findall(r"([a-z_]+)=([^&]+)", href):
            expect(page.locator(f'#inventory-filters [name="{name}"]')).to_have_value(value)
