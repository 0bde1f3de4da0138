"""Pytest plugin: the Chromium every browser test drives, found or installed on first use.

A test that asks for `browser` (or any fixture built on `playwright`) is marked `browser` by
tests/conftest.py. The first such test of a session looks for a browser, in this order, and
installs one only when none is found (so a machine with Chromium never reaches the network):

1. `SIMFLEET_CHROMIUM` when set (and nothing else: a wrong path fails at once);
2. the system Chromium on `PATH` (`chromium`, `chromium-browser`, Google Chrome);
3. a Chromium that Playwright downloaded before;
4. as root on Debian or Ubuntu, the distribution package (`apt-get install chromium`);
5. Playwright's own download (`python -m playwright install chromium`).

`SIMFLEET_BROWSER_INSTALL=0` skips steps 4 and 5. When all fail, the tests fail with the one
command to run (never a skip).
"""

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# For actions and expect() alike: generous for a loaded CI machine, short enough to fail fast.
ACTION_TIMEOUT_MS = 10_000
INSTALL_TIMEOUT_S = 900
OS_RELEASE = Path("/etc/os-release")


@dataclass(frozen=True)
class Host:
    """What decides how a browser may be installed here: the distribution and the user."""

    distribution: str  # the ID and ID_LIKE of /etc/os-release, e.g. "debian" or "ubuntu debian"
    is_root: bool

    @classmethod
    def current(cls) -> "Host":
        """This machine."""
        fields = {}
        if OS_RELEASE.exists():
            for line in OS_RELEASE.read_text(errors="replace").splitlines():
                name, _, value = line.partition("=")
                fields[name] = value.strip().strip('"')
        distribution = f"{fields.get('ID', '')} {fields.get('ID_LIKE', '')}".strip()
        return cls(distribution=distribution, is_root=os.geteuid() == 0)

    @property
    def debian_like(self) -> bool:
        """Debian, Ubuntu and their derivatives: Chromium is a package of the distribution."""
        return bool({"debian", "ubuntu"} & set(self.distribution.split()))

    @property
    def apt_package(self) -> str:
        """Chromium's package name: Ubuntu calls it chromium-browser."""
        return "chromium-browser" if "ubuntu" in self.distribution.split() else "chromium"


@dataclass(frozen=True)
class InstallStep:
    """One way to install a browser: what it is, in words, and its command."""

    what: str
    command: list[str]
    # The browser it gives: a system one (found on PATH afterwards) or Playwright's own.
    playwright_own: bool


def find_system_chromium() -> Path | None:
    """The configured Chromium, else the first system Chromium on PATH, else None."""
    configured = os.environ.get("SIMFLEET_CHROMIUM")
    if configured:
        return Path(configured)
    for name in SYSTEM_CHROMIUMS:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def install_steps(host: Host) -> list[InstallStep]:
    """The installs to try, in order, when no browser is found."""
    playwright = [sys.executable, "-m", "playwright", "install", "chromium"]
    steps = []
    if host.debian_like and host.is_root:
        apt = f"apt-get install -y -q --no-install-recommends {host.apt_package}"
        steps.append(
            InstallStep(
                f"the distribution's {host.apt_package} package",
                # The package lists of a fresh container are empty: update them on a miss.
                [
                    "sh",
                    "-c",
                    f"export DEBIAN_FRONTEND=noninteractive; {apt}"
                    f" || {{ apt-get update -q && {apt}; }}",
                ],
                playwright_own=False,
            )
        )
    steps.append(InstallStep("Playwright's own Chromium", playwright, playwright_own=True))
    return steps


def manual_command(host: Host) -> str:
    """The one command that gets a browser here, for a person to run."""
    if host.debian_like:
        sudo = "" if host.is_root else "sudo "
        return f"{sudo}apt-get install {host.apt_package}"
    return shlex.join([sys.executable, "-m", "playwright", "install", "--with-deps", "chromium"])


def missing_browser_message(host: Host, tried: list[str]) -> str:
    """Why the browser tests cannot run, and the one command that fixes it."""
    attempts = f" Tried: {'; '.join(tried)}." if tried else ""
    return (
        "No Chromium for the browser tests: none on PATH (chromium, chromium-browser,"
        f" google-chrome) and none of Playwright's.{attempts}"
        f" Run: {manual_command(host)}"
        " (or set SIMFLEET_CHROMIUM to a Chromium; -m 'not browser' leaves these tests out)."
    )


def run_install(step: InstallStep) -> bool:
    """Run an install step with its output on the terminal; whether it succeeded."""
    print(
        f"\nNo Chromium found: installing {step.what} ({shlex.join(step.command)})",
        file=sys.__stderr__,
    )
    try:
        result = subprocess.run(step.command, timeout=INSTALL_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"{step.what}: {error}", file=sys.__stderr__)
        return False
    return result.returncode == 0


def find_or_install_chromium(
    playwright_chromium: Path,
    *,
    host: Host,
    install: Callable[[InstallStep], bool] = run_install,
    allow_install: bool = True,
) -> Path | None:
    """The browser to launch: a system Chromium's path, or None for Playwright's own.

    Fails the test (with the command to run) when none is found and none could be installed.
    """
    system = find_system_chromium()
    if system is not None:
        if not os.access(system, os.X_OK):
            pytest.fail(f"SIMFLEET_CHROMIUM={system} is not an executable.", pytrace=False)
        return system
    if playwright_chromium.exists():
        return None
    tried = []
    for step in install_steps(host) if allow_install else []:
        if not install(step):
            tried.append(f"{step.what} (failed)")
            continue
        if step.playwright_own and playwright_chromium.exists():
            return None
        if not step.playwright_own and (system := find_system_chromium()) is not None:
            return system
        tried.append(f"{step.what} (installed no browser)")
    pytest.fail(missing_browser_message(host, tried), pytrace=False)


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium, found or installed as the module docstring says."""
    executable = find_or_install_chromium(
        Path(playwright.chromium.executable_path),
        host=Host.current(),
        allow_install=os.environ.get("SIMFLEET_BROWSER_INSTALL", "1") != "0",
    )
    return playwright.chromium.launch(
        executable_path=str(executable) if executable else None, args=CHROMIUM_ARGS, headless=True
    )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API and its driver."""
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    """Chromium, headless; a test opens its pages in contexts of their own."""
    browser = launch_chromium(playwright)
    yield browser
    browser.close()
