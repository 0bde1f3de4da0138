"""The SIM inventory."""

from flask import Blueprint

bp = Blueprint("sims", __name__, url_prefix="/sims")

from webapp.sims import views  # noqa: E402, F401
