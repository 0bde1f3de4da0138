"""The SIM inventory: search, filters, sorting, keyset pages, saved views and CSV export."""

from flask import Blueprint

# The SIM page's blueprint shares the /sims prefix; each owns its own URLs below it.
bp = Blueprint("inventory", __name__, url_prefix="/sims")


from webapp.inventory import views  # noqa: E402, F401
