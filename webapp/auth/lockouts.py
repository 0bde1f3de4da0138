"""Sign-in throttling that stops the attacker, not the owner.

Failed sign-ins count per account and source: from a device that signed in to the account
before (proven by a signed device cookie), against that device only; from anywhere else,
against the address and against the account's budget for new devices. So failures from
elsewhere never lock out a device the owner already uses. Every lockout is a row admins see
and can lift, and an audit event.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, parse_many
from werkzeug.wrappers import Response

from webapp.audit import record_audit
from webapp.extensions import db, limiter
from webapp.models import LoginLockout, User
from webapp.models.base import utcnow

DEVICE_COOKIE = "simfleet_device"
DEVICE_COOKIE_DAYS = 365
# The accounts one browser vouches for: enough for a shared desk, small enough for a cookie.
DEVICE_MAX_USERS = 10
SETTING_FOR_SCOPE = {
    "device": "LOGIN_LIMIT_PER_ACCOUNT",
    "source": "LOGIN_LIMIT_PER_ACCOUNT",
    "new_devices": "LOGIN_LIMIT_PER_ACCOUNT_NEW_DEVICES",
}


@dataclass(frozen=True)
class FailureCounter:
    """One count of failed sign-ins: an account from one source, or from all new devices."""

    email: str
    scope: str
    source: str | None

    @property
    def key(self) -> tuple[str, ...]:
        """The identifiers the limiter's storage counts under."""
        return ("login-failures", self.email, self.scope, self.source or "*")

    def limits(self) -> list[RateLimitItem]:
        """The configured limits of this counter's scope."""
        return parse_many(current_app.config[SETTING_FOR_SCOPE[self.scope]])


@dataclass(frozen=True)
class Block:
    """A counter that refuses sign-in until `until`."""

    counter: FailureCounter
    until: datetime

    @property
    def retry_after(self) -> int:
        """Seconds until the counter lets sign-ins through again (at least 1)."""
        return max(1, int((self.until - utcnow()).total_seconds()) + 1)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="simfleet-device")


def _device() -> dict:
    """This browser's device cookie: its id and the users who signed in on it (or empty)."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return {}
    try:
        device = _serializer().loads(cookie)
    except BadSignature:
        return {}
    return device if isinstance(device, dict) else {}


def known_device_id(email: str) -> str | None:
    """This browser's device id, when the user with `email` signed in on it before."""
    device = _device()
    if not device.get("users"):
        return None
    user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
    return str(device["id"]) if user_id in device["users"] else None


def remember_device(response: Response, user: User) -> None:
    """Vouch for this browser in `user`'s name: its failures count apart from others'."""
    device = _device()
    users = [uid for uid in device.get("users", []) if uid != user.id][-DEVICE_MAX_USERS + 1 :]
    value = {"id": device.get("id") or secrets.token_urlsafe(16), "users": [*users, user.id]}
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(value),
        max_age=DEVICE_COOKIE_DAYS * 86400,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def failure_counters(*, email: str) -> list[FailureCounter]:
    """The counters a failed sign-in to `email` from this request adds to."""
    device_id = known_device_id(email)
    if device_id is not None:
        return [FailureCounter(email, "device", device_id)]
    return [
        FailureCounter(email, "source", request.remote_addr or "unknown"),
        FailureCounter(email, "new_devices", None),
    ]


def _reset_time(limit: RateLimitItem, counter: FailureCounter) -> datetime:
    stats = limiter.limiter.get_window_stats(limit, *counter.key)
    return datetime.fromtimestamp(stats.reset_time, UTC)


def find_block(counters: list[FailureCounter]) -> Block | None:
    """The first counter that has run out, and until when; None while all let sign-ins in."""
    if not limiter.enabled:
        return None
    for counter in counters:
        exhausted = [
            limit for limit in counter.limits() if not limiter.limiter.test(limit, *counter.key)
        ]
        if exhausted:
            return Block(counter, max(_reset_time(limit, counter) for limit in exhausted))
    return None


def count_failure(counters: list[FailureCounter]) -> list[LoginLockout]:
    """Count a failed sign-in; the lockouts it starts, recorded and audited."""
    if not limiter.enabled:
        return []
    for counter in counters:
        for limit in counter.limits():
            limiter.limiter.hit(limit, *counter.key)
    block = find_block(counters)
    return [] if block is None else [_record_lockout(block)]


def _record_lockout(block: Block) -> LoginLockout:
    counter = block.counter
    lockout = LoginLockout(
        email=counter.email,
        scope=counter.scope,
        source=counter.source,
        started_at=utcnow(),
        until=block.until,
    )
    db.session.add(lockout)
    record_audit(
        "auth.lockout",
        actor_label=counter.email,
        target=counter.email,
        details={
            "scope": counter.scope,
            "source": counter.source,
            "until": block.until.isoformat(),
        },
    )
    return lockout


def list_lockouts() -> list[LoginLockout]:
    """Lockouts in force (not lifted, not over), newest first."""
    query = (
        sa.select(LoginLockout)
        .where(LoginLockout.until > utcnow(), LoginLockout.lifted_at.is_(None))
        .order_by(LoginLockout.started_at.desc(), LoginLockout.id.desc())
    )
    return list(db.session.scalars(query))


def lift_lockout(*, lockout: LoginLockout, actor: User) -> None:
    """Let the locked-out source sign in again at once: its failures are forgotten."""
    counter = FailureCounter(lockout.email, lockout.scope, lockout.source)
    for limit in counter.limits() if limiter.enabled else []:
        limiter.limiter.clear(limit, *counter.key)
    lockout.lifted_at = utcnow()
    lockout.lifted_by_id = actor.id
    record_audit(
        "auth.lockout_lifted",
        actor=actor,
        target=lockout.email,
        details={"scope": lockout.scope, "source": lockout.source},
    )


def audit_throttled(*, email: str, scope: str) -> None:
    """Record a sign-in attempt refused by a throttle (the password was not checked)."""
    record_audit("auth.login_throttled", actor_label=email, target=email, details={"scope": scope})
