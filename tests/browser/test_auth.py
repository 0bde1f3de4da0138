"""Signing in and out, and what each role is offered, in a real browser."""

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.helpers import screenshot, wait_for_htmx_idle


def test_sign_in_rejects_a_wrong_password_then_lands_on_the_dashboard(stack, new_page):
    page = new_page()
    # The wrong password's page comes with a 401, which Chromium reports on the console.
    page.watch.allow(r"status of 401")
    page.goto("/")
    expect(page).to_have_url(f"{stack.url}/login?next=%2F")
    screenshot(page, "login")

    page.get_by_label("Email").fill(stack.users["operator"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_role("heading", name="Sign in to Simfleet")).to_be_visible()

    page.get_by_label("Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{stack.url}/")
    expect(page.get_by_role("heading", name="Fleet", exact=True)).to_be_visible()
    expect(page.locator(".who")).to_have_text(f"{stack.users['operator']} · operator")


def test_sign_out_ends_the_session_even_for_copied_cookies(stack, new_page):
    # Signed in through the form: signing out ends this session, which no other test may share.
    page = new_page()
    sign_in(page, email=stack.users["viewer"], password=stack.password)
    copied = page.context.storage_state()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{stack.url}/login")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")

    page.goto("/sims")
    expect(page).to_have_url(f"{stack.url}/login?next=%2Fsims")
    # The cookies as they were before sign-out open nothing either.
    replay = new_page(storage_state=copied)
    replay.goto("/sims")
    expect(replay).to_have_url(f"{stack.url}/login?next=%2Fsims")


def test_a_viewer_sees_no_admin_or_sync_link(signed_in_page):
    page = signed_in_page("viewer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Fleet", "SIMs", "Alerts"])

    page.watch.allow(r"status of 403")
    response = page.goto("/admin/users")
    assert response.status == 403


def test_an_admin_reaches_user_management_from_the_menu(signed_in_page, stack):
    page = signed_in_page("admin")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(
        ["Fleet", "SIMs", "Alerts", "Bulk jobs", "Sync", "Admin"]
    )

    nav.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    for email in stack.users.values():
        expect(page.get_by_role("cell", name=email, exact=True)).to_be_visible()
    screenshot(page, "admin-users")


def test_an_admin_adds_a_user(signed_in_page):
    page = signed_in_page("admin")
    page.goto("/admin/users")
    form = page.locator("form", has=page.get_by_role("button", name="Add user"))

    # A mistake comes back as 422 and is swapped into the page in place.
    page.watch.allow(r"status of 422")
    form.get_by_label("Email").fill("viewer@example.com")
    form.get_by_label("Initial password").fill("a long enough password")
    form.get_by_role("button", name="Add user").click()
    wait_for_htmx_idle(page)
    expect(form.locator(".error")).to_have_text(
        "A user with the email viewer@example.com already exists."
    )
    expect(page.get_by_role("heading", name="3 users")).to_be_visible()

    # The password is not sent back: type it again.
    form.get_by_label("Email").fill("new.colleague@example.com")
    form.get_by_label("Initial password").fill("a long enough password")
    form.get_by_label("Role").select_option("operator")
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_have_text("User new.colleague@example.com created.")
    expect(page.get_by_role("heading", name="4 users")).to_be_visible()
    expect(page.get_by_role("combobox", name="Role of new.colleague@example.com")).to_have_value(
        "operator"
    )
