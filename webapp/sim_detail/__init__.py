"""One SIM's page: identity, quotas, usage chart, events, connectivity, diagnosis and actions."""

from flask import Blueprint

from webapp.models.sim import QUOTA_STATES_BY_ID

# The inventory's blueprint shares the /sims prefix; each owns its own URLs below it.
bp = Blueprint("sim_detail", __name__, url_prefix="/sims")


@bp.context_processor
def quota_states() -> dict:
    """The quota buckets by id, for the SIM page's quota labels."""
    return {"quota_states": QUOTA_STATES_BY_ID}


from webapp.sim_detail import views  # noqa: E402, F401
