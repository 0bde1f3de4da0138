"""The audit log: who did what, when, from where."""

from webapp.audit.services import record_audit

__all__ = ["record_audit"]
