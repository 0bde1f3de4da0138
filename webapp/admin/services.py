"""User management: creating users, changing their role or active flag, listing them, their
sessions and a required password change."""

from typing import Any

import sqlalchemy as sa

from webapp.audit import record_audit
from webapp.auth.passwords import hash_password, password_problem
from webapp.auth.sessions import end_session, end_user_sessions
from webapp.extensions import db
from webapp.models import Role, User, UserSession


class UserError(ValueError):
    """A user could not be created or changed; the message is safe to show."""


def create_user(*, email: str, password: str, role: Role, actor: User | None = None) -> User:
    """Create a user, or raise UserError saying what is wrong with the input."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise UserError("Enter a valid email address.")
    if problem := password_problem(password, email=email):
        raise UserError(problem)
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
        if not active:
            end_user_sessions(user=user)
    if changes:
        record_audit("user.update", actor=actor, target=user.email, details=changes)
    return user


def list_users() -> list[User]:
    """Every user, by email."""
    return list(db.session.scalars(sa.select(User).order_by(User.email)))


def require_password_change(*, user: User, actor: User) -> None:
    """Make `user` choose a new password at their next page (signed in now or later)."""
    if not user.must_change_password:
        user.must_change_password = True
        record_audit("user.require_password_change", actor=actor, target=user.email)


def end_sessions_of(*, user: User, actor: User, session_id: int | None = None) -> int:
    """End one of `user`'s sessions, or all of them; how many ended."""
    if session_id is None:
        ended = end_user_sessions(user=user)
    else:
        record = db.session.scalar(
            sa.select(UserSession).where(
                UserSession.id == session_id, UserSession.user_id == user.id
            )
        )
        if record is not None:
            end_session(record)
        ended = 0 if record is None else 1
    if ended:
        record_audit(
            "user.end_sessions", actor=actor, target=user.email, details={"sessions": ended}
        )
    return ended
