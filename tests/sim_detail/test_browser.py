"""A real Chromium against a real server: chart, range buttons, confirm, pending until applied."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from webapp.extensions import db, get_client
from webapp.models import Sim, SimAction, UsageDay
from webapp.sim_detail.actions import settle_action


def test_chart_ranges_and_a_change_from_pending_to_applied(app, live_url, page, iccid):
    today = datetime.now(UTC).date()
    db.session.add_all(
        UsageDay(iccid=iccid, day=today - timedelta(days=n), data_rx_mb=Decimal(n + 1),
                 data_tx_mb=Decimal("0.5"), sms_mo=1, sms_mt=0)
        for n in range(40)
    )  # fmt: skip
    # Those 40 days are the known ones (as the sync records them); the days before are gaps.
    db.session.execute(
        sa.update(Sim)
        .where(Sim.iccid == iccid)
        .values(usage_synced_from=today - timedelta(days=39), usage_synced_through=today)
    )
    db.session.commit()
    page.goto(f"{live_url}/sims/{iccid}?range=90d")
    page.wait_for_selector(".chart-data .uplot canvas")
    assert page.locator(".usage-table tbody td", has_text="no data").count() == 50
    page.goto(f"{live_url}/sims/{iccid}")
    page.wait_for_selector(".chart-data .uplot canvas")
    page.wait_for_selector(".chart-sms .uplot canvas")

    page.click("nav.ranges >> text=7 days")
    page.wait_for_url(f"{live_url}/sims/{iccid}?range=7d")
    page.wait_for_selector(".chart-data .uplot canvas")
    assert page.locator(".usage-table tbody tr").count() == 7
    over = page.locator(".chart-data .u-over").bounding_box()
    page.mouse.move(over["x"] + over["width"] - 5, over["y"] + over["height"] / 2)
    # Hover values are each part's own, not the stacked sum (1.5).
    legend = page.locator(".chart-data .u-legend").inner_text().replace("\t", "")
    assert "Sent (MB)0.5" in legend and "Received (MB)1" in legend

    start = (today - timedelta(days=13)).isoformat()
    page.fill("#range-start", start)
    page.fill("#range-end", today.isoformat())
    page.click(".custom-range >> text=Show")
    page.wait_for_url(f"{live_url}/sims/{iccid}?start={start}&end={today.isoformat()}")
    assert page.locator(".usage-table tbody tr").count() == 14

    page.click("text=Lock to IMEI…")
    page.wait_for_selector(".confirm >> text=Lock the SIM to the IMEI")
    page.click(".confirm >> text=Confirm")
    page.wait_for_selector(".flash-success")
    page.wait_for_selector("#sim-pending >> text=Pending")

    action_id = db.session.scalar(sa.select(SimAction.id))
    assert settle_action(action_id=action_id, client=get_client(), delays=(0.5,) * 6).state == (
        "applied"
    )
    # The Changes panel polls itself; once settled every panel showing the lock follows.
    page.wait_for_selector("#sim-pending >> text=Applied", timeout=10_000)
    page.wait_for_selector("#sim-summary >> text=Locked", timeout=10_000)
    assert "IMEI lock: unknown → locked" in page.locator("#sim-pending").inner_text()
    page.wait_for_selector("#sim-actions >> text=Unlock IMEI…")
    assert "pending" not in page.locator("#flashes").inner_text()
    assert "1NCE applied the change" in page.locator("#flashes").inner_text()


def test_a_settled_change_updates_title_status_diagnosis_and_actions(app, live_url, page, iccid):
    page.goto(f"{live_url}/sims/{iccid}")
    page.click("#sim-summary >> text=Edit")
    page.fill("#sim-summary input[name=label]", "tank 4")
    page.click("#sim-summary >> text=Save label…")
    page.click(".confirm >> text=Confirm")
    page.wait_for_selector("#sim-pending >> text=Pending")
    settle_latest()
    page.wait_for_selector("#sim-title >> text=tank 4", timeout=10_000)
    assert "Label: pump → tank 4" in page.locator("#sim-pending").inner_text()

    page.fill("#disable-reason", "stolen")
    page.click("#sim-actions >> text=Disable SIM…")
    page.click(".confirm >> text=Confirm")
    page.wait_for_selector("#sim-pending >> text=Pending")
    settle_latest()
    page.wait_for_selector("#sim-actions >> text=Enable SIM…", timeout=10_000)
    assert "Disabled" in page.locator("#sim-connectivity .evidence").inner_text()
    assert "Disabled" in page.locator("#sim-summary").inner_text()
    # The title keeps the label the first change gave it.
    assert "tank 4" in page.locator("#sim-title").inner_text()
    assert "Status: Enabled → Disabled" in page.locator("#sim-pending").inner_text()


def settle_latest() -> None:
    """Let the settle job confirm the newest change (the test stands in for the worker)."""
    action_id = db.session.scalar(sa.select(sa.func.max(SimAction.id)))
    assert settle_action(action_id=action_id, client=get_client(), delays=(0.5,) * 6).state == (
        "applied"
    )
