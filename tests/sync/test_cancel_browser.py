"""The Sync page in a real Chromium: a stuck run explained, then cancelled by an operator."""

import os

from playwright.sync_api import expect

from tests.helpers import PASSWORD


def test_an_operator_reads_why_a_sync_is_stuck_and_cancels_it(
    browser, live_url, make_user, held_run
):
    run, keeper = held_run
    user = make_user("operator")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_url}/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_url}/sync")
        explained = page.locator(".lock-explained")
        expect(explained).to_contain_text(f"Run #{run.id}")
        expect(explained).to_contain_text("holds the usage lock")
        expect(explained).to_contain_text(f"pid {os.getpid()} works on it")
        page.get_by_role("button", name=f"Cancel run #{run.id}").click()
        expect(page.locator("#flashes")).to_contain_text("Usage sync cancelled")
        expect(page.locator(".lock-explained")).to_have_count(0)
        usage = page.locator(
            "#sync-status tbody tr", has=page.get_by_role("rowheader", name="Usage")
        )
        expect(usage.locator(".badge")).to_have_text("cancelled")
        expect(usage).to_contain_text(f"cancelled by {user.email}")
        expect(usage.get_by_role("button", name="Sync now")).to_be_enabled()
    finally:
        page.close()
    assert keeper.renew() is False
