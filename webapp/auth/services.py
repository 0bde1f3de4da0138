"""Sign-in: authentication, password changes, safe redirects and role checks."""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeGuard
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import Flask, abort, flash, redirect, request, url_for
from flask_login import current_user

from webapp.audit import record_audit
from webapp.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from webapp.auth.sessions import configure_sessions, end_user_sessions
from webapp.extensions import db, login_manager
from webapp.models import Role, User, UserSession
from webapp.models.base import utcnow

# Where a user who must choose a new password may still go.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {
        "auth.account",
        "auth.change_password",
        "auth.change_time_zone",
        "auth.logout",
        "auth.sign_out_everywhere",
        "static",
    }
)


class PasswordChangeError(ValueError):
    """A password change was refused; the message is safe to show."""


def configure_login(app: Flask) -> None:
    """Set up Flask-Login with server-side sessions, and the forced password change."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=app.config["REMEMBER_DAYS"]))
    configure_sessions(app)
    app.before_request(require_password_change)


def require_password_change():
    """Send a user whose password must change to their account page until it has."""
    if request.endpoint in PASSWORD_CHANGE_ENDPOINTS or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        flash("Choose a new password to continue.", "info")
        return redirect(url_for("auth.account"))
    return None


def authenticate(*, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (in constant-ish time).

    A password that no longer meets the rules (set before they were stricter) still signs
    in, and the user must then choose a new one.
    """
    email = email.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if password_problem(password, email=user.email):
        user.must_change_password = True
    return user


def change_own_password(
    *, user: User, current_password: str, new_password: str, keep: UserSession | None
) -> None:
    """Change `user`'s own password and end their other sessions (and remember-me tokens)."""
    if not verify_password(user.password_hash, current_password):
        raise PasswordChangeError("The current password is wrong.")
    if new_password == current_password:
        raise PasswordChangeError("The new password must differ from the current one.")
    if problem := password_problem(new_password, email=user.email):
        raise PasswordChangeError(problem)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    ended = end_user_sessions(user=user, keep=keep)
    record_audit("auth.password_change", actor=user, details={"sessions_ended": ended})


def update_time_zone(*, user: User, time_zone: str | None) -> None:
    """Set the IANA zone `user`'s pages show times in (None: the browser's); audited.

    Raises ValueError for a name zoneinfo does not know.
    """
    if time_zone:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"Unknown time zone: {time_zone}") from error
    before, user.time_zone = user.time_zone, time_zone or None
    record_audit("auth.time_zone", actor=user, details={"from": before, "to": user.time_zone})


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
