"""Server-side sessions: a record per sign-in, checked on every request, and remember-me.

The signed session cookie carries a random session token; "keep me signed in" adds a random
remember token in a cookie of its own. Only their hashes are stored, in `user_sessions`, so
deleting a row ends the sign-in everywhere its cookies were copied to.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, request, session
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from webapp.extensions import db, login_manager
from webapp.models import User, UserSession
from webapp.models.base import utcnow

SESSION_TOKEN_KEY = "sid"
REMEMBER_COOKIE = "simfleet_remember"
# A session's last use is written at most this often, so pages and polls stay reads.
TOUCH_INTERVAL = timedelta(seconds=60)
USER_AGENT_LENGTH = 255


@dataclass(frozen=True)
class NewSession:
    """A sign-in's record and the tokens its cookies carry (shown once, never stored)."""

    record: UserSession
    token: str
    remember_token: str | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def create_session(*, user: User, remember: bool, user_agent: str, ip: str | None) -> NewSession:
    """Record a new sign-in of `user` with fresh random tokens."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    remember_token = secrets.token_urlsafe(32) if remember else None
    lifetime = timedelta(days=current_app.config["REMEMBER_DAYS"]) if remember else _idle_limit()
    record = UserSession(
        user_id=user.id,
        token_hash=_digest(token),
        remember_hash=_digest(remember_token) if remember_token else None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        user_agent=user_agent[:USER_AGENT_LENGTH],
        ip=ip,
    )
    db.session.add(record)
    db.session.flush()
    return NewSession(record, token, remember_token)


def find_session(token: str) -> UserSession | None:
    """The session whose token this is, live or not."""
    return db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _digest(token)))


def find_remembered_session(token: str) -> UserSession | None:
    """The session whose remember token this is, live or not."""
    query = sa.select(UserSession).where(UserSession.remember_hash == _digest(token))
    return db.session.scalar(query)


def resume_session(record: UserSession) -> str:
    """A new session token for a remembered sign-in whose browser lost the session cookie."""
    token = secrets.token_urlsafe(32)
    record.token_hash = _digest(token)
    return token


def touch_session(record: UserSession, *, now: datetime) -> bool:
    """Note the session's use (at most once a minute); an unremembered one lives on idle."""
    if now - record.last_seen_at < TOUCH_INTERVAL:
        return False
    record.last_seen_at = now
    if not record.remembered:
        record.expires_at = now + _idle_limit()
    return True


def list_sessions(*, user: User) -> list[UserSession]:
    """The user's live sessions, most recently used first."""
    query = (
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.expires_at > utcnow())
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return list(db.session.scalars(query))


def end_session(record: UserSession) -> None:
    """End one sign-in: its session and remember cookies stop working wherever they are."""
    db.session.delete(record)
    db.session.flush()


def end_user_sessions(*, user: User, keep: UserSession | None = None) -> int:
    """End every sign-in of `user` but `keep`; how many there were (expired ones included)."""
    query = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    return len(db.session.execute(query.returning(UserSession.id)).all())


def prune_expired_sessions(*, user: User) -> None:
    """Forget the user's ended sign-ins (done at each sign-in, so the table stays small)."""
    db.session.execute(
        sa.delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.expires_at <= utcnow()
        )
    )


def current_session() -> UserSession | None:
    """This request's session record, when someone is signed in."""
    return g.get("user_session")


def sign_in(user: User, *, remember: bool) -> NewSession:
    """Start a fresh session for `user` in this browser (the caller sets the remember cookie)."""
    session.clear()
    prune_expired_sessions(user=user)
    new = create_session(
        user=user, remember=remember, user_agent=request.user_agent.string, ip=request.remote_addr
    )
    login_user(user)
    session.permanent = True
    session[SESSION_TOKEN_KEY] = new.token
    g.user_session = new.record
    return new


def sign_out() -> None:
    """End this browser's session on the server and forget it here."""
    record = current_session()
    if record is not None:
        end_session(record)
    g.user_session = None
    logout_user()
    session.clear()
    g.forget_remember = True


def configure_sessions(app: Flask) -> None:
    """Check each request's session record first, and drop a remember cookie that failed."""
    app.before_request(load_session)
    app.after_request(forget_stale_remember_cookie)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of this request's live session record; deactivated users are signed out."""
    record = current_session()
    if record is None or str(record.user_id) != user_id:
        return None
    user = db.session.get(User, record.user_id)
    return user if user is not None and user.active else None


def load_session() -> None:
    """Find the live record of this request's session, or resume a remembered sign-in."""
    if request.endpoint == "static":
        return
    # `g` outlives a request whose app context was pushed before it (tests, scripts): no user
    # that Flask-Login cached for an earlier request may carry over to this one.
    g.pop("_login_user", None)
    g.pop("forget_remember", None)
    now = utcnow()
    record, changed = _session_from_cookie(now)
    if record is None and (remember_token := request.cookies.get(REMEMBER_COOKIE)):
        record = _resume_remembered(remember_token, now)
        changed = changed or record is not None
    if record is not None:
        changed = touch_session(record, now=now) or changed
    g.user_session = record
    if changed:
        db.session.commit()


def _session_from_cookie(now: datetime) -> tuple[UserSession | None, bool]:
    """The live record the session cookie names; a dead one ends the session (and says why)."""
    token = session.get(SESSION_TOKEN_KEY)
    if token is None:
        if "_user_id" in session:  # signed in before sessions had records: sign in again
            session.clear()
        return None, False
    record = find_session(str(token))
    if record is not None and record.expires_at > now:
        return record, False
    session.clear()
    if record is None:
        return None, False
    if not record.remembered:
        flash("You were signed out after a period of inactivity.", "info")
    end_session(record)
    return None, True


def _resume_remembered(remember_token: str, now: datetime) -> UserSession | None:
    """A remembered sign-in back in a browser that lost its session cookie, if still live."""
    record = find_remembered_session(remember_token)
    if record is None or record.expires_at <= now:
        g.forget_remember = True
        return None
    session.clear()
    session.permanent = True
    session[SESSION_TOKEN_KEY] = resume_session(record)
    session["_user_id"] = str(record.user_id)
    session["_fresh"] = False
    return record


def set_remember_cookie(response: Response, token: str) -> None:
    """Give the browser its remember token, as private as the session cookie."""
    config = current_app.config
    response.set_cookie(
        REMEMBER_COOKIE,
        token,
        max_age=int(timedelta(days=config["REMEMBER_DAYS"]).total_seconds()),
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def forget_stale_remember_cookie(response: Response) -> Response:
    """Delete the remember cookie of a sign-out, or one that no longer opens a session."""
    if g.get("forget_remember") and REMEMBER_COOKIE in request.cookies:
        response.delete_cookie(
            REMEMBER_COOKIE,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response
