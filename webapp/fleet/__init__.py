"""The fleet dashboard, the landing page after sign-in."""

from flask import Blueprint

bp = Blueprint("fleet", __name__)

from webapp.fleet import views  # noqa: E402, F401
