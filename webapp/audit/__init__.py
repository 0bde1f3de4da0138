"""The audit log: who did what, when, from where; written by every feature through
`record_audit`, read on its pages in the admin area (/admin/audit)."""

from flask import Blueprint

from webapp.audit.services import record_audit

bp = Blueprint("audit", __name__)

from webapp.audit import views  # noqa: E402, F401

__all__ = ["bp", "record_audit"]
