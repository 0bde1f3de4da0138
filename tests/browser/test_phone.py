"""Every page on a 390 px phone: nothing scrolls sideways, popovers open on screen, and the
inventory shows each SIM's status and data left with its filters behind a button."""

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.helpers import PHONE_VIEWPORT, wait_for_htmx_idle
from webapp.bulk.services import BulkRequest, create_bulk_job
from webapp.extensions import db
from webapp.models import Sim, User

PHONE_WIDTH = PHONE_VIEWPORT["width"]
PAGES = [
    "/",
    "/sims",
    "/alerts",
    "/sync",
    "/bulk",
    "/account",
    "/admin/users",
    "/admin/api-keys",
    "/admin/audit",
    "/api/docs",
]
# The elements that stick out on the right, to say what made a page too wide.
WIDEST = """
(limit) => Array.from(document.querySelectorAll("body *"))
  .filter((e) => e.getBoundingClientRect().right > limit + 0.5 && !e.closest(".table-wrap *"))
  .slice(0, 5)
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} right=${e.getBoundingClientRect().right}`)
"""


def assert_fits(page: Page, path: str) -> None:
    """The page at `path` is no wider than the phone: nothing scrolls sideways."""
    page.goto(path)
    wait_for_htmx_idle(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{path} is {width} px wide: {page.evaluate(WIDEST, PHONE_WIDTH)}"


def first_enabled_iccid(stack) -> str:
    with stack.app.app_context():
        return db.session.scalar(
            sa.select(Sim.iccid).where(Sim.status == "Enabled").order_by(Sim.iccid).limit(1)
        )


def phone_page(signed_in_page, role: str) -> Page:
    page = signed_in_page(role)
    page.set_viewport_size(PHONE_VIEWPORT)
    return page


def test_every_page_fits_a_phone(signed_in_page, stack):
    page = phone_page(signed_in_page, "admin")
    iccid = first_enabled_iccid(stack)
    with stack.app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.email == stack.users["admin"]))
        # Enabling an enabled SIM sends nothing to 1NCE: a job page without changing the fleet.
        job = create_bulk_job(request=BulkRequest("enable", iccids=(iccid,)), user=admin)
        job_id, admin_id = job.id, admin.id
    for path in [*PAGES, f"/sims/{iccid}", f"/bulk/{job_id}", f"/admin/users/{admin_id}/sessions"]:
        assert_fits(page, path)
    page.context.clear_cookies()
    assert_fits(page, "/login")


def test_the_bulk_preview_fits_a_phone(signed_in_page, stack):
    page = phone_page(signed_in_page, "operator")
    iccid = first_enabled_iccid(stack)
    page.goto(f"/sims?q={iccid}")
    page.get_by_role("checkbox", name=f"Select SIM {iccid}").check()
    bar = page.locator("#bulk-form")
    bar.get_by_label("Action").select_option("label")
    bar.get_by_role("textbox", name="New label").fill("{label} (site A)")
    bar.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview td.bulk-new")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_the_inventory_on_a_phone_shows_status_and_data_left(signed_in_page):
    page = phone_page(signed_in_page, "operator")
    page.goto("/sims")
    row = page.locator("#sim-results tbody tr").first
    for cell in (row.locator("td.inv-status"), row.locator("td.inv-data")):
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    # The table itself does not scroll sideways either.
    wrap = page.locator("#sim-results .table-wrap")
    assert wrap.evaluate("(e) => e.scrollWidth <= e.clientWidth")
    # The filters wait behind a button.
    status = page.get_by_label("Status", exact=True)
    expect(status).to_be_hidden()
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    page.get_by_role("button", name="Filters").click()
    expect(status).to_be_visible()


def test_save_view_opens_on_screen(signed_in_page):
    page = phone_page(signed_in_page, "viewer")
    page.goto("/sims")
    page.get_by_text("Save view", exact=True).click()
    form = page.locator(".inv-save-form")
    expect(form).to_be_visible()
    box = form.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH


def test_preview_with_nothing_selected_explains_in_place(signed_in_page, stack):
    page = signed_in_page("operator")
    page.goto("/sims")
    dock = page.locator(".bulk-dock")
    expect(dock.locator("[data-bulk-count]")).to_have_text("No SIMs selected")
    dock.get_by_role("button", name="Preview").click()
    expect(dock.locator("[data-bulk-message]")).to_have_text(
        "Tick the SIMs to change in the table, or choose all SIMs matching this view."
    )
    expect(page).to_have_url(f"{stack.url}/sims")
    page.locator("#sim-results tbody input[name=iccid]").nth(0).check()
    page.locator("#sim-results tbody input[name=iccid]").nth(1).check()
    expect(dock.locator("[data-bulk-count]")).to_have_text("2 SIMs selected")
    expect(dock.locator("[data-bulk-message]")).to_be_hidden()
    page.get_by_role("checkbox", name="Select all SIMs on this page").check()
    rows = page.locator("#sim-results tbody tr").count()
    expect(dock.locator("[data-bulk-count]")).to_have_text(f"{rows} SIMs selected")
