"""API keys look like `sf_<prefix>_<secret>`: the prefix finds the row, the secret is hashed."""

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa

from webapp.audit import record_audit
from webapp.extensions import db
from webapp.models import ApiKey, User
from webapp.models.base import utcnow

SCOPES = ("read", "write")
KEY_PREFIX = "sf"
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    if scope not in SCOPES:
        raise ValueError(f"The scope must be one of {', '.join(SCOPES)}.")
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


def find_api_key(presented: str) -> ApiKey | None:
    """The usable (not revoked, not expired) key matching `presented`, or None."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    # populate_existing: a revocation must count even if this session saw the key before.
    query = sa.select(ApiKey).where(ApiKey.prefix == parts[1])
    key = db.session.scalar(query.execution_options(populate_existing=True))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        return None
    if key.revoked_at or (key.expires_at and key.expires_at <= utcnow()):
        return None
    return key


def list_api_keys() -> list[ApiKey]:
    """Every key, newest first (revoked and expired ones included)."""
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at.desc())))


def revoke_api_key(*, prefix: str, actor: User | None = None) -> ApiKey | None:
    """Revoke the key with this prefix (idempotent); None when there is no such key."""
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix.strip()))
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record_audit("apikey.revoke", actor=actor, target=f"{key.name} ({key.prefix})")
    return key


def update_api_key_last_used(*, key: ApiKey) -> None:
    """Record that `key` was used, writing at most once a minute per key."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so concurrent requests of one key write the row once.
    db.session.execute(
        sa.update(ApiKey)
        .where(
            ApiKey.id == key.id,
            sa.or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
