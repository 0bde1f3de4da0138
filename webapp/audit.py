"""Writing to the audit log. Callers commit; the record joins their transaction."""

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from webapp.extensions import db
from webapp.models import AuditEvent, User


def record_audit(
    action: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit record for `action` by `actor` (default: the signed-in user)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor=actor_label or (actor.email if actor else "system"),
        target=target,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
    )
    db.session.add(event)
    return event
