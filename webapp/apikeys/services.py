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
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        return None
    if key.revoked_at or (key.expires_at and key.expires_at <= utcnow()):
        return None
    return key
