"""Administration: users and roles, API keys, the audit log (admins only)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from webapp.admin import api_keys, audit_log, views  # noqa: E402, F401
