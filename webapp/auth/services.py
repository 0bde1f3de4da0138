"""Sign-in: password hashing, sessions and role checks."""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeGuard
from urllib.parse import urlsplit

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import Flask, abort, current_app, flash, session
from flask_login import current_user, logout_user

from webapp.extensions import db, login_manager
from webapp.models import Role, User
from webapp.models.base import utcnow

password_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as for a known one.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")


def configure_login(app: Flask) -> None:
    """Set up Flask-Login: where to send anonymous users, remember-me and idle timeout."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=app.config["REMEMBER_DAYS"]))
    app.before_request(end_idle_session)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the signed-in user; deactivated users are signed out."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def end_idle_session() -> None:
    """Sign out a session idle for longer than the limit, unless the user chose remember-me."""
    if not current_user.is_authenticated or session.get("remember"):
        return
    idle_limit = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    last_active = session.get("last_active")
    now = utcnow()
    if last_active is not None and now - last_active > idle_limit:
        logout_user()
        session.clear()
        flash("You were signed out after a period of inactivity.", "info")
        return
    session["last_active"] = now


def hash_password(password: str) -> str:
    """A strong, salted Argon2id hash of `password`."""
    return password_hasher.hash(password)


def authenticate(*, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (in constant-ish time)."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    try:
        password_hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """True for a local path: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


def role_required(minimum: Role) -> Callable:
    """Allow a view only to signed-in users with at least the `minimum` role (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(minimum):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
