"""The detail page for every role: panels, escaping, usage ranges and JSON, event paging."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import SimAction, SimEvent, UsageDay

ICCID = "8988228066000000001"
XSS = "<script>alert(1)</script>"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def sim(make_sim):
    """A SIM with a hostile label, ten days of usage and 40 events (one with a hostile type)."""
    now = datetime.now(UTC)
    sim = make_sim(
        iccid=ICCID,
        label=XSS,
        data_remaining_mb=Decimal("120.5"),
        data_total_mb=Decimal("500"),
        data_expires_at=now + timedelta(days=200),
        data_exhausted_on=date.today() + timedelta(days=40),
        avg_daily_mb_7d=Decimal("3"),
        connectivity_status="ATTACHED",
        online=False,
        last_seen_at=now - timedelta(hours=2),
        operator="Telekom",
        country="Germany",
        usage_synced_at=now - timedelta(minutes=12),
        usage_synced_from=datetime.now(UTC).date() - timedelta(days=9),
        usage_synced_through=datetime.now(UTC).date(),
    )
    today = datetime.now(UTC).date()
    db.session.add_all(
        UsageDay(iccid=ICCID, day=today - timedelta(days=n), data_rx_mb=Decimal(n),
                 data_tx_mb=Decimal("0.5"), sms_mo=n, sms_mt=1)
        for n in range(10)
    )  # fmt: skip
    located = "Update location"
    db.session.add_all(
        SimEvent(
            iccid=ICCID,
            occurred_at=now - timedelta(minutes=n),
            event_key=f"id:{n}",
            event_type=f"{located} {n}",
        )
        for n in range(1, 40)
    )  # fmt: skip
    db.session.add(
        SimEvent(
            iccid=ICCID, occurred_at=now, event_key="id:0", event_type=f"PDP {XSS}", details={}
        )
    )
    db.session.commit()
    return sim


def test_viewer_sees_every_panel_escaped_and_no_action(client, login, sim):
    login("viewer")
    response = client.get(f"/sims/{ICCID}")
    assert response.status_code == 200
    html = response.text
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for text in ("Identity", "Quota", "Usage", "Connectivity", "Why offline?", "Events"):
        assert text in html
    assert "Usage as of <time" in html and "12 min ago" in html
    assert "Check now" not in html and "/actions/" not in html and "Edit" not in html


def test_operator_sees_actions_with_csrf(client, login, sim):
    login("operator")
    html = client.get(f"/sims/{ICCID}").text
    for action in ("disable", "imei_lock", "reset", "topup", "sms", "label"):
        assert f"/sims/{ICCID}/actions/{action}" in html
    assert "Check now" in html and 'name="csrf_token"' in html


def test_the_page_loads_its_assets_without_inline_script(client, login, sim):
    login("viewer")
    html = client.get(f"/sims/{ICCID}").text
    assert "js/detail.js" in html and "vendor/uPlot.iife.min.js" in html
    assert "<script>" not in html and " onclick=" not in html and ' style="' not in html


def test_the_usage_table_matches_the_json(client, login, sim):
    login("viewer")
    body = client.get(f"/sims/{ICCID}/usage.json?range=7d").json
    assert len(body["days"]) == 7 and body["days"][-1] == datetime.now(UTC).date().isoformat()
    assert body["data_rx_mb"][-1] == 0.0 and body["data_rx_mb"][-2] == 1.0
    assert body["totals"]["sms_mo"] == sum(range(7))
    html = client.get(f"/sims/{ICCID}?range=7d").text
    assert f'{body["days"][-2]}</th><td class="num">1.000</td>' in html


def test_days_never_fetched_are_gaps_not_zeros(client, login, sim):
    # Ten days are known (fetched from 1NCE); the twenty before them were never fetched.
    login("viewer")
    body = client.get(f"/sims/{ICCID}/usage.json?range=30d").json
    assert body["data_rx_mb"][:20] == [None] * 20 and body["sms_mt"][:20] == [None] * 20
    assert body["data_rx_mb"][20:] == [float(n) for n in range(9, -1, -1)]
    assert body["known_days"] == 10
    assert body["totals"]["sms_mo"] == sum(range(10))
    html = client.get(f"/sims/{ICCID}?range=30d").text
    assert html.count("no data</td>") == 20
    assert "cover the 10 of 30 days Simfleet has usage for" in html
    first = datetime.now(UTC).date() - timedelta(days=29)
    assert f'{first.isoformat()}</th><td class="num muted" colspan="4">no data</td>' in html
    # A day after the last sync is not known either: not fetched yet.
    db.session.execute(sa.text("UPDATE sims SET usage_synced_through = usage_synced_through - 1"))
    db.session.commit()
    assert client.get(f"/sims/{ICCID}/usage.json?range=7d").json["data_rx_mb"][-1] is None


def test_a_custom_range_and_an_invalid_one(client, login, sim):
    login("viewer")
    body = client.get(f"/sims/{ICCID}/usage.json?start=2026-01-01&end=2026-01-05").json
    assert body["days"] == [f"2026-01-0{n}" for n in range(1, 6)]
    assert (
        client.get(f"/sims/{ICCID}/usage.json?start=2026-02-01&end=2026-01-05").status_code == 400
    )
    html = client.get(f"/sims/{ICCID}?start=nope").text
    assert "Range not shown" in html


def test_range_buttons_swap_the_panel_and_keep_the_url(client, login, sim):
    login("viewer")
    response = client.get(f"/sims/{ICCID}/usage?range=90d", headers=HTMX)
    assert response.text.lstrip().startswith('<section id="usage"')
    assert response.headers["HX-Push-Url"] == f"/sims/{ICCID}?range=90d"
    custom = client.get(f"/sims/{ICCID}/usage?start=2026-01-01&end=2026-01-31", headers=HTMX)
    assert custom.headers["HX-Push-Url"] == f"/sims/{ICCID}?start=2026-01-01&end=2026-01-31"
    assert client.get(f"/sims/{ICCID}/usage?range=90d").status_code == 302


def test_events_scroll_newest_first_by_keyset(client, login, sim):
    login("viewer")
    html = client.get(f"/sims/{ICCID}").text
    assert html.index("PDP &lt;script&gt;") < html.index("Update location 1<")
    assert 'hx-trigger="revealed"' in html
    cursor = html.split(f"/sims/{ICCID}/events?cursor=")[1].split('"')[0]
    more = client.get(f"/sims/{ICCID}/events?cursor={cursor}", headers=HTMX).text
    assert "Update location 25<" in more and "Update location 39<" in more
    assert "Update location 24<" not in more and "revealed" not in more
    assert client.get(f"/sims/{ICCID}/events?cursor=garbage").status_code == 400
    # Opened directly, the rows' URL leads to the page they belong to.
    assert client.get(f"/sims/{ICCID}/events?cursor={cursor}").location == f"/sims/{ICCID}"


@pytest.mark.parametrize(
    "path", ["/check", "/actions/disable", "/actions/label", "/actions/reset", "/actions/sms"]
)
def test_viewers_get_403_from_every_action_route(client, login, sim, path):
    login("viewer")
    response = client.post(f"/sims/{ICCID}{path}", data={"reason": "x", "confirmed": "yes"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SimAction)) == 0


def test_signed_out_users_are_sent_to_login(client, sim):
    assert client.get(f"/sims/{ICCID}").status_code == 302
    assert client.get(f"/sims/{ICCID}/usage.json").status_code == 302
    assert client.post(f"/sims/{ICCID}/actions/reset").status_code == 302


def test_the_pending_fragment_polls_until_settled(client, login, sim):
    login("viewer")
    db.session.add(SimAction(iccid=ICCID, action="update", requested={"label": XSS}, actor="a@b"))
    db.session.commit()
    action = db.session.scalar(sa.select(SimAction))
    html = client.get(f"/sims/{ICCID}/actions", headers=HTMX).text
    assert 'hx-trigger="every 2s"' in html and "Pending" in html and XSS not in html
    assert f"pending={action.id}" in html
    action.state = "applied"
    db.session.commit()
    response = client.get(f"/sims/{ICCID}/actions?pending={action.id}", headers=HTMX)
    assert "every 2s" not in response.text and "Applied" in response.text
    # The panels that show what changed come along, out of band.
    assert 'id="sim-summary" class="summary-panels" hx-swap-oob="true"' in response.text


@pytest.mark.parametrize(
    ("expires_in", "runs_out_in", "unused", "says"),
    [
        (1, 300, Decimal(245), "quota expires {expires} with 245 MB unused"),
        (-2, None, Decimal("2.5"), "quota expired {expires} with 2.5 MB unused"),
        (200, 40, None, "runs out around {runs_out}"),
        (200, -3, None, "ran out around {runs_out}"),
    ],
)
def test_the_forecast_says_whether_the_data_runs_out_or_the_quota_expires(
    client, login, sim, expires_in, runs_out_in, unused, says
):
    today = datetime.now(UTC).date()
    sim.data_expires_at = datetime.now(UTC).replace(hour=12) + timedelta(days=expires_in)
    sim.data_exhausted_on = None if runs_out_in is None else today + timedelta(days=runs_out_in)
    sim.data_unused_at_expiry_mb = unused
    db.session.commit()
    login("viewer")
    forecast = client.get(f"/sims/{ICCID}").text.split('<dd class="forecast">')[1].split("</dd>")[0]
    text = " ".join(re.sub(r"<[^>]+>", "", forecast).split())
    expected = says.format(
        expires=sim.data_expires_at.date().isoformat(), runs_out=sim.data_exhausted_on
    )
    assert text.startswith(expected)
    assert ("(past)" in forecast) == (min(expires_in, runs_out_in or expires_in) < 0)
    assert "used up" not in forecast
