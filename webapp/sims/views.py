"""SIM inventory pages."""

from flask_login import login_required

from webapp.pages import render_page
from webapp.sims import bp


@bp.get("")
@login_required
def inventory():
    """Every SIM of the fleet."""
    return render_page("sims/page.html", "sims/_table.html")
