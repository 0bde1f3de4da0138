"""Pytest plugin: the system Chromium every browser test drives (Debian's package in CI).

A test that asks for `browser` (or any fixture built on `playwright`) is marked `browser` by
tests/conftest.py. Chromium is never downloaded.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

CHROMIUM = Path(os.environ.get("SIMFLEET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# For actions and expect() alike: generous for a loaded CI machine, short enough to fail fast.
ACTION_TIMEOUT_MS = 10_000


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium; a missing one fails the test with how to get it (never a skip)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests drive the system Chromium"
            " (Debian: apt-get install chromium; elsewhere set SIMFLEET_CHROMIUM to its path)."
            " Deselect them with -m 'not browser'.",
            pytrace=False,
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API (its driver only: browsers come from the system, never a download)."""
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    """The system Chromium, headless; a test opens its pages in contexts of their own."""
    browser = launch_chromium(playwright)
    yield browser
    browser.close()
