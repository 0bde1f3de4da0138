"""Fixtures of the SIM detail tests: a live simulator the app's 1NCE client points at."""

import pytest

from tests.fixtures_simulator import store_first_sim
from tests.helpers import PASSWORD

RATE = 100.0


@pytest.fixture
def simulator(make_simulator):
    """A small simulated fleet whose writes apply 0.2 s after they are accepted."""
    return make_simulator(sims=5, seed=3, write_delay=0.2, rps=RATE)


@pytest.fixture
def settings(settings, simulator):
    """Point the app's 1NCE client at the simulator."""
    return settings | simulator.app_settings(max_rps=RATE)


@pytest.fixture
def iccid(app, simulator):
    """A SIM the simulator knows, copied into the database as the inventory sync would."""
    return store_first_sim(simulator, label="pump")


@pytest.fixture
def page(browser, live_url, make_user):
    """A signed-in operator's browser page; a script error fails the test."""
    user = make_user("operator")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/**")
    yield page
    page.close()
    assert errors == [], errors
