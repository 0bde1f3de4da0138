"""SQLAlchemy models, one module per aggregate."""

from webapp.models.apikey import ApiKey
from webapp.models.audit import AuditEvent
from webapp.models.user import Role, User

__all__ = ["ApiKey", "AuditEvent", "Role", "User"]
