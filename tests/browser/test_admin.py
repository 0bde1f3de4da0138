"""An admin's API keys: create one, see it once, find it in the list."""

import re

from playwright.sync_api import expect

from tests.browser.helpers import screenshot


def test_an_admin_creates_an_api_key_and_sees_it_once(signed_in_page):
    page = signed_in_page("admin")
    page.goto("/admin/api-keys")
    form = page.locator("form", has=page.get_by_role("button", name="Create key"))
    form.get_by_label("Name").fill("Grafana dashboards")
    form.get_by_label("Expires after (days)").fill("90")
    form.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="Key “Grafana dashboards” created")).to_be_visible()
    key = page.get_by_role("textbox", name=re.compile("Your new read key"))
    expect(key).to_have_value(re.compile(r"^sf_\w+_\S+$"))
    prefix = key.input_value().split("_")[1]

    page.get_by_role("link", name="Done, back to API keys").click()
    row = page.locator("tbody tr", has=page.get_by_text("Grafana dashboards"))
    expect(row).to_contain_text(f"sf_{prefix}_…")
    expect(row.locator("td[data-label='State']")).to_have_text("active")
    expect(page.get_by_role("textbox", name=re.compile("Your new"))).to_have_count(0)
    screenshot(page, "admin-api-keys")
