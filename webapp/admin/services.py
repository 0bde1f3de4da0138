"""User management: creating users, changing their role or active flag, listing them."""

from typing import Any

import sqlalchemy as sa

from webapp.audit import record_audit
from webapp.auth.services import hash_password
from webapp.extensions import db
from webapp.models import Role, User

MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user could not be created or changed; the message is safe to show."""


def create_user(*, email: str, password: str, role: Role, actor: User | None = None) -> User:
    """Create a user, or raise UserError saying what is wrong with the input."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise UserError("Enter a valid email address.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise UserError(f"A user with the email {email} already exists.")
    user = User(email=email, password_hash=hash_password(password), role=Role(role).value)
    db.session.add(user)
    db.session.flush()
    record_audit("user.create", actor=actor, target=email, details={"role": user.role})
    return user


def update_user(
    *, user: User, actor: User, role: Role | None = None, active: bool | None = None
) -> User:
    """Change a user's role or active flag; an admin cannot lock themselves out."""
    if user.id == actor.id and (active is False or (role and role != Role.ADMIN)):
        raise UserError("You cannot deactivate yourself or remove your own admin role.")
    changes: dict[str, list[Any]] = {}
    if role is not None and role.value != user.role:
        changes["role"] = [user.role, role.value]
        user.role = role.value
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    if changes:
        record_audit("user.update", actor=actor, target=user.email, details=changes)
    return user


def list_users() -> list[User]:
    """Every user, by email."""
    return list(db.session.scalars(sa.select(User).order_by(User.email)))
