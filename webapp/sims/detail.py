"""One SIM: identity, quotas, connectivity and freshness."""

from flask import abort
from flask_login import login_required

from webapp.pages import render_page
from webapp.sims import bp
from webapp.sims.services import get_sim


@bp.get("/<iccid>")
@login_required
def detail(iccid: str):
    """Everything Simfleet knows about one SIM."""
    sim = get_sim(iccid=iccid)
    if sim is None:
        abort(404)
    return render_page("sims/detail.html", "sims/_detail.html", sim=sim)
