"""The SIM inventory and the SIM detail page."""

from flask import Blueprint

bp = Blueprint("sims", __name__, url_prefix="/sims")

from webapp.sims import detail, views  # noqa: E402, F401
