"""Fleet dashboard."""

from typing import Any

from flask import jsonify, request, url_for
from flask_login import login_required

from webapp.chart_ranges import CHART_RANGES
from webapp.fleet import bp
from webapp.fleet.services import (
    get_rankings,
    get_recent_fleet_summary,
    get_usage_chart,
    list_recent_alerts,
    list_recent_events,
    list_usage_rows,
    parse_range,
)
from webapp.ops.services import get_worker_beat
from webapp.pages import render_fragment, render_page, wants_partial
from webapp.sync.services import get_freshness


@bp.get("/")
@login_required
def dashboard():
    """The fleet at a glance; an HTMX range change gets only the usage section."""
    range_key = parse_range(request.args.get("range"))
    chart = get_usage_chart(range_key=range_key)
    usage: dict[str, Any] = {
        "ranges": CHART_RANGES,
        "range_key": range_key,
        "chart": chart,
        "usage_rows": list_usage_rows(chart=chart),
        "rankings": get_rankings(range_key=range_key),
    }
    if wants_partial():
        return render_page("fleet/dashboard.html", "fleet/_usage.html", **usage)
    summary = get_recent_fleet_summary()
    return render_page(
        "fleet/dashboard.html",
        "fleet/_usage.html",
        summary=summary,
        # An empty fleet says how it will fill; otherwise the sync card loads after the page.
        freshness=None if summary.total else get_freshness(),
        heartbeat=None if summary.total else get_worker_beat(),
        events=list_recent_events(),
        alerts=list_recent_alerts(),
        **usage,
    )


@bp.get("/fleet/usage.json")
@login_required
def usage_json():
    """The fleet usage chart's data for one range: rx, tx and SMS per day."""
    return jsonify(get_usage_chart(range_key=parse_range(request.args.get("range"))))


@bp.get("/fleet/sync-status")
@login_required
def sync_status():
    """The sync status card, loaded into the dashboard after the page (ten small queries)."""
    return render_fragment(
        "fleet/_sync_status.html",
        page_url=url_for("fleet.dashboard"),
        freshness=get_freshness(),
        heartbeat=get_worker_beat(),
    )
