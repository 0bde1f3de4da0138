"""The admin area at /admin (admins only): user management here; the API-key and audit-log
pages belong to their features and are mounted inside it, under its access rule."""

from flask import Blueprint

from webapp.apikeys import bp as api_keys_bp
from webapp.audit import bp as audit_bp

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.register_blueprint(api_keys_bp, url_prefix="/api-keys")
bp.register_blueprint(audit_bp)

from webapp.admin import views  # noqa: E402, F401
