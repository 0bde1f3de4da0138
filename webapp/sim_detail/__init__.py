"""One SIM's page: identity, quotas, usage chart, events, connectivity, diagnosis and actions."""

from flask import Blueprint

# The inventory's blueprint shares the /sims prefix; each owns its own URLs below it.
bp = Blueprint("sim_detail", __name__, url_prefix="/sims")


from webapp.sim_detail import views  # noqa: E402, F401
