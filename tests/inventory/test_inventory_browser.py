"""The inventory in a real Chromium against a real server: search as you type, sort, select."""

import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.chromium import launch_chromium
from tests.conftest import PASSWORD


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, *args, **kwargs) -> None:
        return None


@pytest.fixture
def live_url(app):
    """The app served on a free local port for the duration of a test."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser_page(live_url):
    """A Chromium page; console errors other than CSP reports fail the test."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
    assert errors == []


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def wait_for_view(page, expected: list[tuple[str, str]]) -> None:
    """Wait until the address bar holds exactly this view (the encoding of spaces aside)."""
    deadline = time.monotonic() + 15
    while parse_qsl(urlsplit(page.url).query) != expected:
        assert time.monotonic() < deadline, f"{page.url} is not the view {expected}"
        page.wait_for_timeout(100)


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
