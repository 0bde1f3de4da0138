"""The dashboard and the SIM detail page over a fleet synced from the simulator."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.helpers import chart_has_data, screenshot
from webapp.extensions import db
from webapp.models import Sim, UsageDay


def kpi(page, label: str):
    """The value of the dashboard KPI with this label."""
    return page.locator(".kpi", has=page.locator(".kpi-label", has_text=label)).locator(
        ".kpi-value"
    )


def test_the_dashboard_shows_the_synced_fleet(signed_in_page, stack):
    fleet = stack.simulator.fleet
    statuses = Counter(fleet.sim(iccid).status for iccid in fleet.iccids())
    since = datetime.now(UTC).date() - timedelta(days=29)
    data = sa.func.sum(UsageDay.data_rx_mb + UsageDay.data_tx_mb)
    with stack.app.app_context():
        online = db.session.scalar(sa.select(sa.func.count()).where(Sim.online.is_(True)))
        top_iccid = db.session.scalar(
            sa.select(UsageDay.iccid)
            .where(UsageDay.day >= since)
            .group_by(UsageDay.iccid)
            .order_by(data.desc(), UsageDay.iccid)
            .limit(1)
        )
        top_sim = db.session.get(Sim, top_iccid)
        top_name = top_sim.label or top_sim.iccid

    page = signed_in_page("viewer")

    expect(kpi(page, "SIMs")).to_have_text(f"{sum(statuses.values()):,}")
    breakdown = " · ".join(f"{count:,} {status}" for status, count in sorted(statuses.items()))
    expect(page.locator(".kpi-detail").first).to_have_text(breakdown)
    expect(kpi(page, "online now")).to_have_text(f"{online:,}")
    chart = chart_has_data(page, ".fleet-chart", source_attribute="data-chart-src")
    assert chart, chart
    sync_status = page.locator("#fleet-sync")
    for kind in ("Inventory", "Usage", "Quotas", "Events", "Connectivity"):
        expect(sync_status.get_by_role("row", name=kind).locator(".badge")).to_have_text("success")
    expect(sync_status).to_contain_text("last heartbeat")
    top = page.locator(".fleet-grid section", has=page.get_by_role("heading", name="Top consumers"))
    expect(top.locator("tbody tr").first.get_by_role("link")).to_have_text(top_name)
    screenshot(page, "fleet")


def test_a_sim_detail_page_opens_by_url(signed_in_page, stack):
    fleet = stack.simulator.fleet
    sim = next(record for record in map(fleet.sim, fleet.iccids()) if record.label and record.imei)

    page = signed_in_page("viewer")
    page.goto(f"/sims/{sim.iccid}")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"SIM {sim.iccid} {sim.label}")
    facts = page.locator("#sim-detail dl")
    for term, value in (
        ("Status", sim.status),
        ("Label", sim.label),
        ("IMSI", sim.imsi),
        ("MSISDN", sim.msisdn),
        ("IP address", sim.ip_address),
    ):
        expect(facts.locator(f"dt:text-is('{term}') + dd")).to_have_text(value)
    expect(facts.locator("dt:text-is('IMEI') + dd")).to_contain_text(sim.imei)


def test_an_unknown_sim_is_not_found(signed_in_page):
    page = signed_in_page("viewer")
    page.watch.allow(r"status of 404")
    response = page.goto("/sims/8988228066000000000")
    assert response.status == 404
