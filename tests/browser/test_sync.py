"""The Sync page: freshness per kind, and "sync now" through the real worker."""

from playwright.sync_api import expect

from tests.browser.helpers import screenshot
from webapp.models.sync import SYNC_KINDS

SYNC_TIMEOUT_MS = 60_000


def kind_row(page, kind: str):
    """The freshness table's row of one kind."""
    return page.locator("#sync-status tbody tr", has=page.get_by_role("rowheader", name=kind))


def test_the_sync_page_shows_the_freshness_of_each_kind(signed_in_page):
    page = signed_in_page("operator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sync").click()

    expect(page.get_by_role("heading", name="Sync", exact=True)).to_be_visible()
    for kind in SYNC_KINDS:
        row = kind_row(page, kind.capitalize())
        expect(row.locator("td").nth(1)).not_to_have_text("never")
        expect(row.locator(".badge")).to_have_text("success")
        expect(row.get_by_role("button", name="Sync now")).to_be_enabled()
    screenshot(page, "sync")


def test_sync_now_runs_to_completion_with_progress(signed_in_page, stack):
    page = signed_in_page("operator")
    page.goto("/sync")
    runs = page.locator("#sync-status section").nth(1).locator("tbody tr")
    runs_before = runs.count()
    row = kind_row(page, "Connectivity")
    # Slow answers make a run of the whole fleet last a few seconds, so progress shows.
    stack.simulator.set_faults(slow_ms=20)
    try:
        row.get_by_role("button", name="Sync now").click()
        expect(page.get_by_role("status")).to_have_text("Connectivity sync queued.")
        # The page polls while the job waits in the queue and while it runs: the progress
        # shows up without a reload.
        expect(row.get_by_role("progressbar")).to_be_visible(timeout=SYNC_TIMEOUT_MS)
        expect(row.get_by_role("button", name="Sync now")).to_be_disabled()
        expect(row.locator(".badge")).to_have_text("success", timeout=SYNC_TIMEOUT_MS)
    finally:
        stack.simulator.clear_faults()
    expect(row.get_by_role("progressbar")).to_have_count(0)
    expect(row.get_by_role("button", name="Sync now")).to_be_enabled()
    expect(runs).to_have_count(runs_before + 1)
    expect(runs.first.locator("td").first).to_have_text("connectivity")
