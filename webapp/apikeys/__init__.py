"""API keys: every key rule, the pages that manage them (mounted in the admin area, at
/admin/api-keys) and the `apikeys` commands."""

from flask import Blueprint

bp = Blueprint("api_keys", __name__)

from webapp.apikeys import views  # noqa: E402, F401
