"""An operator's day in the inventory: find a SIM, read its usage, relabel it; export a view.

Each flow starts where a person would (the menu, a search box) and checks what the page
shows against the synced database and, for changes, against the simulator's ground truth.
The SIMs each flow touches are chosen from ICCID ranges the other flows leave alone
(tests/browser/fleet_data.py).
"""

import csv
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.fleet_data import EXPORTED, FIRST_RESERVED, matching_iccids, shown_iccids
from tests.browser.helpers import chart_has_data, screenshot, wait_for_htmx_idle
from webapp.extensions import db
from webapp.models import AuditEvent, Sim, UsageDay

SETTLE_TIMEOUT_MS = 30_000


def a_sim_to_find(stack) -> tuple[Sim, str]:
    """An enabled, labelled SIM with data used on over a week of days, and part of its ICCID.

    The part (its decade of the fleet, as read off a device's sticker) matches SIMs in more
    than one network state, so that the network-state filter narrows the search. (Whether any
    SIM is online depends on the time of day in the simulator's fleet; some SIMs are always
    attached and some offline.)
    """
    since = datetime.now(UTC).date() - timedelta(days=29)
    used_days = (
        sa.select(UsageDay.iccid)
        .where(UsageDay.day >= since, UsageDay.data_rx_mb + UsageDay.data_tx_mb > 0)
        .group_by(UsageDay.iccid)
        .having(sa.func.count() > 7)
    )
    query = (
        sa.select(Sim)
        .where(
            Sim.iccid.in_(used_days),
            Sim.status == "Enabled",
            Sim.connectivity_status.is_not(None),
            Sim.label.is_not(None),
            Sim.iccid < FIRST_RESERVED,
        )
        .order_by(Sim.iccid.desc())
    )
    with stack.app.app_context():
        for sim in db.session.scalars(query):
            part = sim.iccid[7:-1]
            states = db.session.scalars(
                sa.select(Sim.connectivity_status).where(Sim.iccid.contains(part)).distinct()
            ).all()
            if len(states) > 1:
                db.session.expunge(sim)
                return sim, part
    raise AssertionError("the simulator's fleet has no decade of SIMs to search in")


def test_an_operator_finds_a_sim_reads_its_usage_and_relabels_it(signed_in_page, stack):
    sim, part = a_sim_to_find(stack)
    state = sim.connectivity_status.lower()
    expected = matching_iccids(stack, part, Sim.connectivity_status == sim.connectivity_status)
    assert 1 <= len(expected) < len(matching_iccids(stack, part)), "the filter must narrow"

    page = signed_in_page("operator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="SIMs").click()
    expect(page.get_by_role("heading", name="SIMs", exact=True)).to_be_visible()
    screenshot(page, "sims", phone=True)

    page.get_by_role("searchbox", name="Search").press_sequentially(part, delay=20)
    wait_for_htmx_idle(page)
    expect(page).to_have_url(f"{stack.url}/sims?q={part}")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.get_by_label("Network state").select_option(state)
    wait_for_htmx_idle(page)
    expect(page).to_have_url(f"{stack.url}/sims?q={part}&connectivity={state}")
    expect(page.locator("#sim-results-summary")).to_have_text(
        "1 SIM" if len(expected) == 1 else f"{len(expected)} SIMs"
    )
    assert shown_iccids(page) == expected

    page.get_by_role("link", name=sim.iccid, exact=True).click()
    expect(page).to_have_url(f"{stack.url}/sims/{sim.iccid}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"SIM {sim.iccid} {sim.label}")
    month = chart_has_data(page, "#usage .charts", source_attribute="data-url")
    assert month, month

    # A range is a link htmx follows in place: the URL names it, the chart is drawn anew.
    old_canvas = page.locator("#usage canvas").first.element_handle()
    page.get_by_role("navigation", name="Usage range").get_by_role("link", name="7 days").click()
    expect(page).to_have_url(f"{stack.url}/sims/{sim.iccid}?range=7d")
    expect(page.locator("#usage .ranges [aria-current]")).to_have_text("7 days")
    week = chart_has_data(page, "#usage .charts", source_attribute="data-url")
    assert week, week
    assert week.source.endswith("range=7d") and week.points < month.points
    assert not old_canvas.evaluate("(canvas) => canvas.isConnected")
    today = datetime.now(UTC).date()
    expect(page.locator("#usage .range-caption")).to_contain_text(
        f"{today - timedelta(days=6)} to {today}"
    )

    # The label, edited in place: confirm, pending, then applied by 1NCE through the worker.
    new_label = f"Pump house {sim.iccid[-4:]}"
    page.get_by_text("Edit label").click()
    page.get_by_role("textbox", name="Label").fill(new_label)
    page.get_by_role("button", name="Save label…").click()
    confirm = page.locator(".confirm")
    expect(confirm).to_contain_text(new_label)
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("pending until 1NCE applies it")
    changes = page.locator("#sim-pending")
    expect(changes.locator(".change").first).to_contain_text(
        f"Label: {sim.label or 'no label'} → {new_label}, by {stack.users['operator']}"
    )
    expect(changes.locator(".change .badge").first).to_have_text(
        "Applied", timeout=SETTLE_TIMEOUT_MS
    )
    expect(page.locator("#sim-summary .label-value")).to_have_text(new_label)
    assert stack.simulator.fleet.sim(sim.iccid).label == new_label
    # Saved: the page as anyone opens it now has the new label, in the title too.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"SIM {sim.iccid} {new_label}")
    screenshot(page, "sim-detail", phone=True)

    with stack.app.app_context():
        audited = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.target == sim.iccid, AuditEvent.action == "sim.label"
            )
        )
        assert audited is not None and audited.actor == stack.users["operator"]
    admin = signed_in_page("admin")
    admin.goto("/admin/audit")
    row = admin.locator("#audit-results tbody tr", has=admin.get_by_text("sim.label", exact=True))
    expect(row.first).to_contain_text(sim.iccid)
    expect(row.first).to_contain_text(stack.users["operator"])
    screenshot(admin, "audit-log")


def test_an_export_holds_the_filtered_view_with_formulas_neutralised(signed_in_page, stack):
    part = EXPORTED
    formula = '=HYPERLINK("http://example.com","click")'
    with stack.app.app_context():
        # A label as a careless (or hostile) colleague could have set it at 1NCE.
        first = db.session.scalar(
            sa.select(Sim)
            .where(Sim.iccid.contains(part), Sim.status == "Enabled")
            .order_by(Sim.iccid)
            .limit(1)
        )
        first.label = formula
        labelled = first.iccid
        db.session.commit()
    expected = matching_iccids(stack, part, Sim.status == "Enabled")

    page = signed_in_page("viewer")
    page.goto(f"/sims?q={part}&status=Enabled")
    assert shown_iccids(page) == expected
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("simfleet-sims-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))

    assert [row["iccid"] for row in rows] == expected
    assert {row["status"] for row in rows} == {"Enabled"}
    labels = {row["iccid"]: row["label"] for row in rows}
    assert labels[labelled] == "'" + formula


def test_a_viewer_sees_no_action_on_the_inventory_or_a_sim(signed_in_page, stack):
    page = signed_in_page("viewer")
    page.goto("/sims")
    expect(page.locator("#sim-results tbody tr")).to_have_count(50)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.locator("#bulk-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Preview")).to_have_count(0)
    # Reading stays possible: search, filters and export are for every role.
    expect(page.get_by_role("searchbox", name="Search")).to_be_editable()
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()

    page.locator("#sim-results tbody td.inv-id a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SIM ")
    expect(page.locator("#sim-actions")).to_have_count(0)
    expect(page.get_by_text("Edit label")).to_have_count(0)
    expect(page.get_by_role("button", name="Check now")).to_have_count(0)
    expect(page.locator("#sim-detail form[method=post]")).to_have_count(0)
