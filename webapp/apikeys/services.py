"""API keys look like `sf_<prefix>_<secret>`: the prefix finds the row, the secret is hashed."""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit import record_audit
from webapp.extensions import db, get_redis
from webapp.models import ApiKey, User
from webapp.models.apikey import API_KEY_SCOPES
from webapp.models.base import utcnow

KEY_PREFIX = "sf"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A random value replaced whenever a committed change may make a key unusable, so that
# processes caching verified keys notice it on their next request (see webapp/api/auth.py).
CHANGE_TOKEN_KEY = "simfleet:apikeys:change-token"
# Changes to these columns can withdraw or narrow a key; last_used_at and name cannot.
ACCESS_COLUMNS = ("prefix", "secret_hash", "scope", "expires_at", "revoked_at")
_CHANGED = "simfleet.api_keys_changed"


def _hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so one fast hash is as safe as a slow one and keeps
    # every authenticated request to a single indexed lookup.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    *, name: str, scope: str, created_by: User | None = None, expires_days: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key; return the row and the full key, which is shown this once only."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("The key needs a name of 1 to 100 characters.")
    if scope not in API_KEY_SCOPES:
        raise ValueError(f"The scope must be one of {', '.join(API_KEY_SCOPES)}.")
    if expires_days is not None and expires_days <= 0:
        raise ValueError("Expiry must be a positive number of days.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scope=scope,
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(key)
    db.session.flush()
    record_audit(
        "apikey.create", actor=created_by, target=f"{name} ({prefix})", details={"scope": scope}
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def find_api_key(presented: str) -> sa.Row | None:
    """The row of the usable (not revoked, not expired) key matching `presented`, or None."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    query = sa.select(
        ApiKey.id,
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.scope,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        ApiKey.secret_hash,
        ApiKey.revoked_at,
    ).where(ApiKey.prefix == parts[1])
    # A connection of its own, outside the session: API requests keep no ORM state.
    with db.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash_secret(parts[2])):
        return None
    if row.revoked_at or (row.expires_at and row.expires_at <= utcnow()):
        return None
    return row


def list_api_keys() -> list[ApiKey]:
    """Every key, newest first (revoked and expired ones included)."""
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at.desc())))


def api_key_creators(keys: Iterable[ApiKey]) -> dict[int, str]:
    """The email of each key's creator by user id (keys made on the command line have none)."""
    ids = {key.created_by_id for key in keys if key.created_by_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.email).where(User.id.in_(ids)))
    return dict(rows.all())


def get_api_key(*, prefix: str) -> ApiKey | None:
    """The API key with this prefix (revoked and expired ones too), or None."""
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))


def revoke_api_key(*, prefix: str, actor: User | None = None) -> ApiKey | None:
    """Revoke the key with this prefix (idempotent); None when there is no such key."""
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix.strip()))
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record_audit("apikey.revoke", actor=actor, target=f"{key.name} ({key.prefix})")
    return key


def update_api_key_last_used(*, key_id: int, now: datetime) -> None:
    """Record that the key was used at `now`, unless it was within the last minute."""
    # Conditional, so concurrent requests of one key (in any process) write the row once.
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(ApiKey)
            .where(
                ApiKey.id == key_id,
                sa.or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at < now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
        )


def get_api_key_change_token() -> bytes | None:
    """The current change token (None until a key has been changed)."""
    # Replies are bytes (no decode_responses); redis-py types them as bytes | str.
    return get_redis().get(CHANGE_TOKEN_KEY)  # type: ignore[return-value]


def announce_api_key_change() -> None:
    """Tell every process that cached keys may have become unusable."""
    get_redis().set(CHANGE_TOKEN_KEY, secrets.token_hex(16))


def _note_access_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Remember that this transaction revokes, expires, re-scopes or deletes a key."""
    for key in session.deleted:
        if isinstance(key, ApiKey):
            session.info[_CHANGED] = True
    for key in session.dirty:
        if isinstance(key, ApiKey):
            state = sa.inspect(key)
            if any(state.attrs[name].history.has_changes() for name in ACCESS_COLUMNS):
                session.info[_CHANGED] = True


def _announce_committed_changes(session: Session) -> None:
    """Announce key changes once committed: a process re-reading earlier would miss them."""
    if session.info.pop(_CHANGED, False):
        announce_api_key_change()


def _forget_rolled_back_changes(session: Session) -> None:
    """Changes rolled back need no announcement."""
    session.info.pop(_CHANGED, None)


SESSION_LISTENERS = (
    ("before_flush", _note_access_changes),
    ("after_commit", _announce_committed_changes),
    ("after_rollback", _forget_rolled_back_changes),
)


def watch_api_key_changes() -> None:
    """Announce committed key changes to every process (called by the app factory).

    The listeners go on the process-wide session, once however many apps are created.
    """
    for name, listener in SESSION_LISTENERS:
        if not sa.event.contains(db.session, name, listener):
            sa.event.listen(db.session, name, listener)
