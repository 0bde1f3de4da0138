"""The inventory in a real Chromium against a real server: search as you type, sort, select."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.helpers import PASSWORD, eventually


@pytest.fixture
def browser_page(browser, live_url):
    """A Chromium page; console errors other than CSP reports fail the test."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == []


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def wait_for_view(page, expected: list[tuple[str, str]]) -> None:
    """Wait until the address bar holds exactly this view (the encoding of spaces aside)."""
    eventually(
        lambda: parse_qsl(urlsplit(page.url).query) == expected,
        timeout=15,
        interval=0.1,
        message=lambda: f"{page.url} is not the view {expected}",
        sleep=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )


def test_search_as_you_type_sort_and_select_a_page(browser_page, live_url, make_user, varied_fleet):
    page = browser_page
    sign_in(page, live_url, make_user("operator").email)
    page.goto(f"{live_url}/sims")
    page.click("#sim-q")
    page.keyboard.type("pump 1", delay=20)
    wait_for_view(page, [("q", "pump 1")])
    assert page.evaluate("document.activeElement.id") == "sim-q"
    assert page.inner_text("#sim-results-summary").startswith("3 SIMs")

    page.select_option("#f-country", "Spain")
    wait_for_view(page, [("q", "pump 1"), ("country", "Spain")])
    page.click("th a:has-text('Data left')")
    wait_for_view(
        page, [("q", "pump 1"), ("country", "Spain"), ("sort", "data_left"), ("dir", "asc")]
    )
    page.click("#sim-q")
    page.keyboard.press("Backspace")
    wait_for_view(
        page, [("q", "pump "), ("country", "Spain"), ("sort", "data_left"), ("dir", "asc")]
    )

    page.check(".select-page")
    boxes = page.locator("tbody input[name=iccid]")
    assert boxes.count() > 0
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))

    page.go_back()
    wait_for_view(
        page, [("q", "pump 1"), ("country", "Spain"), ("sort", "data_left"), ("dir", "asc")]
    )
