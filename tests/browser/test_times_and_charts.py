"""Times in the viewer's zone with UTC on hover; series in one order and colours on every chart."""

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.helpers import watch_page
from tests.chromium import ACTION_TIMEOUT_MS
from webapp.extensions import db
from webapp.models import SimEvent, User

# Each row of a uPlot legend past the x axis: its label and its marker's colour.
LEGEND = """(chart) => Array.from(chart.querySelectorAll(".u-legend .u-series")).slice(1).map(
  (row) => [row.querySelector(".u-label").textContent,
            getComputedStyle(row.querySelector(".u-marker")).borderTopColor])"""
KOLKATA, NEW_YORK = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")


def rgb(color: str) -> str:
    """A colour as the browser computes it: "#0f5cc0" is "rgb(15, 92, 192)"."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def legend(series: list[dict]) -> list[list[str]]:
    """What a legend of these series (of series.js) shows, in order."""
    return [[s["label"], rgb(s["color"])] for s in series]


def a_sim_with_events(stack) -> str:
    with stack.app.app_context():
        return db.session.scalar(sa.select(SimEvent.iccid).limit(1))


def test_series_order_and_colours_are_the_same_on_every_chart(signed_in_page, stack):
    page = signed_in_page("viewer")
    page.locator(".fleet-chart .u-legend").wait_for()
    shared = page.evaluate("() => window.SimfleetSeries")
    assert [s["key"] for s in shared["data"]] == ["data_rx_mb", "data_tx_mb"]
    assert page.locator(".fleet-chart").evaluate(LEGEND) == legend(
        [*shared["data"], shared["smsTotal"]]
    )
    page.goto(f"/sims/{a_sim_with_events(stack)}")
    page.locator(".chart-sms .u-legend").wait_for()
    assert page.evaluate("() => window.SimfleetSeries") == shared
    assert page.locator(".chart-data").evaluate(LEGEND) == legend(shared["data"])
    assert page.locator(".chart-sms").evaluate(LEGEND) == legend(shared["sms"])
    # The tables list the columns in the same order.
    headers = page.locator(".usage-table thead th").all_text_contents()
    assert headers[1:3] == ["Received MB", "Sent MB"]


def open_as(browser, stack, state, **options):
    context = browser.new_context(base_url=stack.url, storage_state=state, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    watch_page(page)
    return context, page


def first_event_time(page):
    tag = page.locator('#sim-events time[data-time="seconds"]').first
    moment = datetime.fromisoformat(tag.get_attribute("datetime"))
    expect(tag).to_have_attribute("title", moment.strftime("%Y-%m-%d %H:%M:%S UTC"))
    return tag, moment


def test_times_show_the_browsers_zone_or_the_chosen_one_with_utc_on_hover(
    browser, stack, signed_in_page, signed_in_states
):
    signed_in_page("operator")
    state, iccid = signed_in_states["operator"], a_sim_with_events(stack)
    contexts = []
    try:
        # Without JavaScript: UTC, as the server writes it.
        context, page = open_as(browser, stack, state, java_script_enabled=False)
        contexts.append(context)
        page.goto(f"/sims/{iccid}")
        tag, moment = first_event_time(page)
        expect(tag).to_have_text(moment.strftime("%Y-%m-%d %H:%M:%S"))

        # In a browser in India: India's time.
        context, page = open_as(browser, stack, state, timezone_id="Asia/Kolkata")
        contexts.append(context)
        page.goto(f"/sims/{iccid}")
        tag, moment = first_event_time(page)
        expect(tag).to_have_text(moment.astimezone(KOLKATA).strftime("%Y-%m-%d %H:%M:%S"))

        # A zone chosen on the account page wins over the browser's.
        page.goto("/account")
        page.get_by_label("Show times in").select_option("America/New_York")
        page.get_by_role("button", name="Save time zone").click()
        expect(page.locator(".flash-success")).to_contain_text("America/New_York")
        page.goto(f"/sims/{iccid}")
        tag, moment = first_event_time(page)
        expect(tag).to_have_text(moment.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S"))
    finally:
        for context in contexts:
            context.close()
        with stack.app.app_context():
            db.session.execute(sa.update(User).values(time_zone=None))
            db.session.commit()
