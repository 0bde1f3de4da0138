"""SIM inventory pages."""

import sqlalchemy as sa
from flask_login import login_required

from webapp.extensions import db
from webapp.models import Sim
from webapp.pages import render_page
from webapp.sims import bp


@bp.get("")
@login_required
def inventory():
    """Every SIM of the fleet."""
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Sim).where(Sim.removed_at.is_(None))
    )
    return render_page("sims/page.html", "sims/_table.html", count=count)
