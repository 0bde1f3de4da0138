"""The sync pipeline: plans, fetches from 1NCE and stores, within the call budget."""

from flask import Blueprint

bp = Blueprint("sync", __name__, url_prefix="/sync")

from webapp.sync import views  # noqa: E402, F401
