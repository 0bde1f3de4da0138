"""The JSON API for scripts (`/api/v1`, API keys only) and its documentation page (`/api/docs`)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")

from webapp.api import views  # noqa: E402, F401
