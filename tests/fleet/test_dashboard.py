"""The fleet dashboard: KPIs, the usage chart and its table, top lists, events and alerts."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from devtools.generate_fleet import load_fleet
from webapp.extensions import db
from webapp.sync.ingest import refresh_usage_periods
from worker.jobs import refresh_usage_periods as refresh_job


@pytest.fixture
def fleet(app):
    """300 generated SIMs with 60 days of history."""
    load_fleet(db.session.connection(), sims=300, usage_days=60)
    db.session.commit()


HTMX = {"HX-Request": "true"}


def sql(query: str, **params):
    return db.session.execute(sa.text(query), params)


def test_empty_fleet_explains_itself(client, login):
    login("viewer")
    page = client.get("/")
    assert "No SIMs yet" in page.text
    assert "Not synced yet" in page.text
    assert "Fleet usage" not in page.text


def test_kpis_of_a_loaded_fleet(app, client, login):
    load_fleet(db.session.connection(), sims=250, usage_days=3)
    db.session.commit()
    login("viewer")
    page = client.get("/")
    assert "No SIMs yet" not in page.text
    assert '250</a><span class="kpi-label">SIMs' in page.text
    assert "online now" in page.text


FIGURE = re.compile(
    r'data-figure="([^"]+)"><a class="kpi-value" href="([^"]+)">([0-9,]+)</a>'
    r'|<a href="([^"]+)" data-figure="([^"]+)">([0-9,]+) '
)
SHOWN = re.compile(r'id="sim-results-summary"[^>]*>([0-9,]+) SIMs?')


def dashboard_figures(html: str) -> dict[str, tuple[str, int]]:
    """Each SIM count of the dashboard: its name, the inventory URL it links to, the count."""
    figures = {}
    for match in FIGURE.finditer(html):
        name, href, count = match[1] or match[5], match[2] or match[4], match[3] or match[6]
        figures[name] = (unescape(href), int(count.replace(",", "")))
    return figures


def test_every_sim_count_links_to_the_inventory_view_of_exactly_those_sims(client, login, fleet):
    login("viewer")
    figures = dashboard_figures(client.get("/").text)
    assert {"total", "online", "quota_low", "quota_exhausted", "quota_ending_soon", "silent"} <= (
        set(figures)
    )
    assert figures["silent"][0] == "/sims?silent=3d"
    assert figures["quota_ending_soon"][0] == "/sims?quota_ends=30d"
    assert any(name.startswith("status-") for name in figures)
    for name, (href, count) in figures.items():
        assert count, f"{name}: the generated fleet has SIMs of every figure"
        shown = SHOWN.search(client.get(href).text)
        assert shown and int(shown[1].replace(",", "")) == count, name


def test_a_figures_view_says_the_figure_exactly_where_other_views_estimate(
    client, login, fleet, monkeypatch
):
    # As on a large fleet: views beyond a page and the cap are estimated ("About ... SIMs").
    monkeypatch.setattr("webapp.inventory.services.COUNT_CAP", 10)
    login("viewer")
    figures = dashboard_figures(client.get("/").text)
    for name, (href, count) in figures.items():
        shown = SHOWN.search(client.get(href).text)
        assert shown and int(shown[1].replace(",", "")) == count, name
    other = client.get("/sims?status=Enabled&online=true").text
    assert "About " in other and not SHOWN.search(other)


def test_silent_counts_traffic_and_last_seen_counts_the_network(client, login, make_sim):
    now = datetime.now(UTC)
    silent = make_sim(last_traffic_on=now.date() - timedelta(days=3), last_seen_at=now)
    unseen = make_sim(last_traffic_on=now.date(), last_seen_at=now - timedelta(days=5))
    make_sim(last_traffic_on=now.date() - timedelta(days=5), last_seen_at=now, status="Disabled")
    make_sim(last_traffic_on=now.date() - timedelta(days=2), last_seen_at=now)
    make_sim(usage_synced_at=now, last_seen_at=now)  # no traffic ever: not silent
    login("viewer")
    figures = dashboard_figures(client.get("/").text)
    assert figures["silent"][1] == 1
    assert silent.iccid in client.get("/sims?silent=3d").text
    assert unseen.iccid in client.get("/sims?unseen=3d").text
    for href in ("/sims?silent=3d", "/sims?unseen=3d"):
        assert SHOWN.search(client.get(href).text)[1] == "1"


def test_figures_of_a_kind_never_synced_say_syncing_not_zero(client, login, make_sim):
    make_sim(online=False, data_quota_state=0)  # inventory only: nothing else synced yet
    login("viewer")
    page = client.get("/").text
    figures = dashboard_figures(page)
    assert set(figures) >= {"total", "quota_low", "quota_exhausted"}
    assert not {"online", "silent", "quota_ending_soon"} & set(figures)
    assert page.count("syncing</span>") == 4  # online, data today, quota ends, silent
    assert '<span class="kpi-value" aria-label="not known yet">—</span>' in page


def test_the_api_summary_says_null_for_a_kind_never_synced(app, make_sim):
    from webapp.api.representation import summary_json
    from webapp.fleet.services import get_fleet_summary

    make_sim(online=True)
    body = summary_json(get_fleet_summary())
    assert body["total_sims"] == 1
    assert body["online_now"] is None and body["sims_silent"] is None
    make_sim(online=True, connectivity_synced_at=datetime.now(UTC))
    assert summary_json(get_fleet_summary())["online_now"] == 2


@pytest.mark.parametrize("path", ["/", "/fleet/usage.json", "/fleet/sync-status"])
def test_signed_in_users_only(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("range_key", "days"), [("7d", 7), ("30d", 30), ("90d", 90), ("6m", 180)])
def test_chart_data_comes_per_day_for_the_range(client, login, fleet, range_key, days):
    login("viewer")
    chart = client.get(f"/fleet/usage.json?range={range_key}").json
    today = datetime.now(UTC).date()
    assert chart["range"] == range_key
    assert len(chart["days"]) == days
    assert chart["days"][-1] == today.isoformat()
    rx, tx, sms = sql(
        "SELECT sum(data_rx_mb), sum(data_tx_mb), sum(sms_mo + sms_mt) FROM usage_daily"
        " WHERE day > :start",
        start=today - timedelta(days=days),
    ).one()
    known = [i for i, day in enumerate(chart["days"]) if day >= chart["known_from"]]
    assert sum(chart["data_rx_mb"][i] for i in known) == pytest.approx(float(rx))
    assert sum(chart["data_tx_mb"][i] for i in known) == pytest.approx(float(tx))
    assert sum(chart["sms"][i] for i in known) == sms
    # The 60 generated days are known; the days before them have no data: a gap, never a zero.
    assert chart["known_from"] == (today - timedelta(days=59)).isoformat()
    assert len(known) == min(days, 60)
    unknown = [
        chart[name][i] for i in range(days) if i not in known for name in ("sms", "data_rx_mb")
    ]
    assert unknown == [None] * 2 * max(0, days - 60)


def test_the_range_is_kept_in_the_url_and_unknown_ones_fall_back(client, login, fleet):
    login("viewer")
    page = client.get("/?range=7d").text
    current = page.split('aria-current="true"')[0].rsplit("<a ", 1)[1]
    assert 'href="/?range=7d"' in current and 'hx-push-url="true"' in current
    assert "Fleet usage, last 7 days" in page
    assert 'data-chart-src="/fleet/usage.json?range=7d"' in page
    assert "Fleet usage, last 30 days" in client.get("/?range=1y").text


def test_a_range_change_swaps_only_the_usage_section(client, login, fleet):
    login("viewer")
    fragment = client.get("/?range=90d", headers=HTMX).text
    assert 'id="fleet-usage"' in fragment
    assert "<h1>" not in fragment and "kpi-value" not in fragment
    assert "Fleet usage, last 90 days" in fragment
    # The table alternative has one row per week for long ranges (a day per row up to 30).
    today = datetime.now(UTC).date()
    mondays = {today - timedelta(days=k + (today - timedelta(days=k)).weekday()) for k in range(90)}
    assert "Week from" in fragment
    assert fragment.count('<tr><th scope="row">') == len(mondays)
    assert client.get("/?range=30d", headers=HTMX).text.count('<tr><th scope="row">') == 30


def ranked_sql(order: str, days: int) -> list[str]:
    return list(
        sql(
            f"""
            SELECT iccid FROM (
                SELECT iccid,
                       SUM(data_rx_mb + data_tx_mb) FILTER (WHERE day > :today - :days) AS cur,
                       COALESCE(SUM(data_rx_mb + data_tx_mb)
                           FILTER (WHERE day <= :today - :days), 0) AS prev
                FROM usage_daily WHERE day > :today - 2 * :days GROUP BY iccid
            ) s ORDER BY {order} DESC, iccid LIMIT 10
            """,
            today=datetime.now(UTC).date(),
            days=days,
        ).scalars()
    )


def linked_iccids(html: str, heading: str) -> list[str]:
    section = html.split(f">{heading}</h3>")[1].split("</table>")[0]
    return [part.split('"')[0] for part in section.split('href="/sims/')[1:]]


@pytest.mark.parametrize(("range_key", "days"), [("7d", 7), ("30d", 30)])
def test_top_consumers_and_biggest_movers_match_the_raw_usage(
    client, login, fleet, range_key, days
):
    login("viewer")
    page = client.get(f"/?range={range_key}").text
    assert linked_iccids(page, "Top consumers") == ranked_sql("COALESCE(cur, 0)", days)
    assert linked_iccids(page, "Biggest movers") == ranked_sql("abs(COALESCE(cur, 0) - prev)", days)


def test_period_figures_follow_new_usage_of_some_sims(app, fleet):
    today = datetime.now(UTC).date()
    quiet = sql(
        "SELECT iccid FROM sims WHERE iccid NOT IN (SELECT iccid FROM usage_daily) LIMIT 1"
    ).scalar_one()
    sql(
        "INSERT INTO usage_daily (iccid, day, data_rx_mb, data_tx_mb, sms_mo, sms_mt)"
        " VALUES (:i, :d, 5000, 1, 0, 0)",
        i=quiet,
        d=today,
    )
    refresh_usage_periods(db.session.connection(), iccids=[quiet])
    rows = dict(
        sql("SELECT period_days, data_mb FROM sim_usage_periods WHERE iccid = :i", i=quiet).all()
    )
    assert rows == {7: 5001, 30: 5001, 90: 5001, 180: 5001}
    sql("DELETE FROM usage_daily WHERE iccid = :i", i=quiet)
    refresh_usage_periods(db.session.connection(), iccids=[quiet])
    assert sql("SELECT count(*) FROM sim_usage_periods WHERE iccid = :i", i=quiet).scalar() == 0


def test_recent_events_and_alerts_link_to_their_sims_and_are_escaped(client, login, fleet):
    sql(
        "INSERT INTO sim_events"
        " (iccid, occurred_at, event_key, event_type, severity, alert, details)"
        " VALUES ('8988228066000000007', now(), 'id:1', '<script>x()</script>', 'Warn', true,"
        " '{}')"
    )
    db.session.commit()
    login("viewer")
    page = client.get("/").text
    events = page.split(">Recent events</h2>")[1]
    alerts = page.split(">Recent alerts</h2>")[1].split("</section>")[0]
    assert "<script>x()" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in alerts
    assert '<a class="iccid" href="/sims/8988228066000000007">' in events
    assert events.count('<a class="iccid" href="/sims/') == 20
    newest = sql("SELECT iccid FROM sim_events ORDER BY occurred_at DESC LIMIT 20").scalars()
    assert [part.split('"')[0] for part in events.split('href="/sims/')[1:]] == list(newest)
    assert "Quota used up" in alerts or "Quota threshold reached" in alerts


def test_sync_status_per_kind_loads_after_the_page(client, login, fleet):
    login("viewer")
    page = client.get("/").text
    assert 'hx-get="/fleet/sync-status" hx-trigger="load"' in page
    assert client.get("/fleet/sync-status").status_code == 302
    status = client.get("/fleet/sync-status", headers=HTMX).text
    for kind in ("Inventory", "Usage", "Quotas", "Events", "Connectivity"):
        assert f'<th scope="row">{kind}</th>' in status
    assert "no heartbeat yet" in status


def test_the_hourly_job_rebuilds_the_period_figures(client, login, fleet):
    sql("DELETE FROM sim_usage_periods")
    db.session.commit()
    login("viewer")
    assert "No usage in this period yet." in client.get("/").text
    sims_with_usage = sql("SELECT count(DISTINCT iccid) FROM usage_daily").scalar()
    assert refresh_job() == 4 * sims_with_usage
    assert "No usage in this period yet." not in client.get("/").text


def test_movers_compare_only_periods_that_were_kept(client, login, fleet):
    # 60 days are known: the 30 days before the last 30 are kept, the 90 before 90 are not.
    login("viewer")
    page = client.get("/?range=30d").text
    assert "nothing to compare with yet" not in page
    page = client.get("/?range=90d").text
    assert linked_iccids(page, "Top consumers")
    movers = page.split(">Biggest movers</h3>")[1].split("</section>")[0]
    assert "nothing to compare with yet" in movers and "/sims/" not in movers
    assert sql("SELECT count(*) FROM sim_usage_periods WHERE period_days = 90"
               " AND previous_data_mb IS NOT NULL").scalar() == 0  # fmt: skip


def test_weeks_and_days_without_data_say_so(client, login, fleet):
    login("viewer")
    page = client.get("/?range=6m").text
    today = datetime.now(UTC).date()
    first_known = today - timedelta(days=59)
    assert f"Usage known from {first_known.isoformat()} to {today.isoformat()}" in page
    assert "no data</td>" in page
    if first_known.weekday():  # the week the history starts in is known in part
        assert f"({7 - first_known.weekday()} of 7 days known)" in page
