"""The system Chromium every browser test drives (Debian's package in CI; never downloaded)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright

CHROMIUM = Path(os.environ.get("SIMFLEET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
