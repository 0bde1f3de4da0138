"""Fleet dashboard."""

from flask_login import login_required

from webapp.fleet import bp
from webapp.fleet.services import get_fleet_summary
from webapp.ops.services import get_heartbeat
from webapp.pages import render_page
from webapp.sync.services import get_freshness


@bp.get("/")
@login_required
def dashboard():
    """The fleet at a glance: KPIs from the synced copy and how fresh it is."""
    return render_page(
        "fleet/page.html",
        "fleet/_summary.html",
        summary=get_fleet_summary(),
        freshness=get_freshness(),
        heartbeat=get_heartbeat(),
    )
