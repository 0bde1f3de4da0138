"""The SIM inventory and the SIM detail page."""

from flask import Blueprint

from webapp.models.sim import QUOTA_STATES_BY_ID

bp = Blueprint("sims", __name__, url_prefix="/sims")


@bp.context_processor
def quota_states() -> dict:
    """The quota buckets by id, for the labels and styles of every SIM page."""
    return {"quota_states": QUOTA_STATES_BY_ID}


from webapp.sims import detail, views  # noqa: E402, F401
