"""Alert pages."""

from flask_login import login_required

from webapp.alerts import bp
from webapp.pages import render_page


@bp.get("")
@login_required
def index():
    """Open and recent alerts."""
    return render_page("alerts/alerts.html", "alerts/_alerts.html")
