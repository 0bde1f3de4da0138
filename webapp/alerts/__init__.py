"""Alerts raised about SIMs."""

from flask import Blueprint

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

from webapp.alerts import views  # noqa: E402, F401
