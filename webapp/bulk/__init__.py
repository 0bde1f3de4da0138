"""Bulk actions on SIMs: a dry-run preview, then an RQ job that sends batches to 1NCE."""

from flask import Blueprint

bp = Blueprint("bulk", __name__, url_prefix="/bulk")

from webapp.bulk import views  # noqa: E402, F401
