"""The SIM inventory: search, filters, sorting, keyset pages, saved views and CSV export."""

from flask import Blueprint

from webapp.models.sim import QUOTA_STATES_BY_ID

# The SIM page's blueprint shares the /sims prefix; each owns its own URLs below it.
bp = Blueprint("inventory", __name__, url_prefix="/sims")


@bp.context_processor
def quota_states() -> dict:
    """The quota buckets by id, for the inventory's quota labels and styles."""
    return {"quota_states": QUOTA_STATES_BY_ID}


from webapp.inventory import views  # noqa: E402, F401
