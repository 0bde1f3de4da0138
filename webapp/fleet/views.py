"""Fleet dashboard."""

from flask_login import login_required

from webapp.fleet import bp
from webapp.ops.services import get_heartbeat
from webapp.pages import render_page


@bp.get("/")
@login_required
def dashboard():
    """The fleet at a glance."""
    return render_page("fleet/page.html", "fleet/_summary.html", heartbeat=get_heartbeat())
